// Package private is mod_private: Private XML Storage (XEP-0049). A user keeps
// arbitrary XML on the server, one fragment per namespace, and reads it back from any
// of their resources; nobody else can read or change it. Fragments are stored verbatim
// through backends.PrivateXML.
//
// The rules, from XEP-0049 section 2.3:
//   - Only the owner: an iq without 'to' or to the owner's bare JID. Anything else
//     (another account, the host) gets forbidden, the condition the XEP prefers.
//   - A <query/> without a child element: bad-request ("Bad Format" in the XEP's
//     legacy codes, which XEP-0086 maps to bad-request).
//   - A child in a reserved namespace: not-acceptable. Reserved are the namespaces
//     beginning with "jabber:" or "http://jabber.org/", and "vcard-temp" (which has
//     its own module); a child in no namespace, or inheriting jabber:iq:private, is
//     refused the same way.
//   - A get names exactly one namespace (one child), else bad-request; an absent
//     fragment is answered with the child as it was asked, empty.
//   - A set may carry several elements of one namespace (stored together) and, as
//     ejabberd and Prosody accept, several namespaces, all stored in one write.
//
// It must not block an event loop: it only registers an iq handler (run on workers)
// and a user-removed hook.
package private

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_private"

// NS is the XEP-0049 namespace.
const NS = "jabber:iq:private"

// removalTimeout bounds the deletion of a removed account's data.
const removalTimeout = 10 * time.Second

// Options are the module's configuration keys: none yet. Decoding into the empty
// struct still rejects unknown keys with the file and line.
type Options struct{}

// Module serves private XML storage for one host.
type Module struct {
	host  *engine.Host
	store backends.PrivateXML
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	var opts Options
	if err := mc.Decode(&opts); err != nil {
		return nil, err
	}
	return &Module{}, nil
}

// Start checks that the store keeps private XML and registers the handlers.
func (m *Module) Start(h *engine.Host) error {
	st, ok := h.Store().(backends.PrivateXML)
	if !ok {
		return fmt.Errorf("%s: the storage backend %T does not store private XML (backends.PrivateXML)", Name, h.Store())
	}
	m.host, m.store = h, st
	h.HandleIQ(NS, m.handle)
	h.On(engine.EventUserRemoved, engine.PriorityDefault, m.onUserRemoved)
	return nil
}

// Stop does nothing: the module holds no resources.
func (m *Module) Stop() error { return nil }

// Reserved reports whether XEP-0049 reserves ns: a client may not store data under it.
func Reserved(ns string) bool {
	return ns == "" || ns == "vcard-temp" || strings.HasPrefix(ns, "jabber:") || strings.HasPrefix(ns, "http://jabber.org/")
}

// handle runs on a worker.
func (m *Module) handle(iq *engine.IQ) {
	q := iq.Payload
	children := q.Children()
	switch {
	case !iq.ToAbsent && !iq.To.Equal(iq.From.Bare()):
		iq.Error(stanza.StanzaError{Condition: stanza.Forbidden})
		return
	case !q.Is(NS, "query") || len(children) == 0:
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
		return
	}
	for _, c := range children {
		if Reserved(string(c.Space())) {
			iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable,
				Text: "namespace '" + string(c.Space()) + "' is reserved"})
			return
		}
	}
	if iq.Type == "get" {
		m.get(iq, children)
	} else {
		m.set(iq, children)
	}
}

// get answers with the fragment of the one namespace asked for.
func (m *Module) get(iq *engine.IQ, children []*stanza.Element) {
	if len(children) != 1 {
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest, Text: "one namespace per get"})
		return
	}
	owner := iq.From.Bare()
	ask := children[0]
	data, err := m.store.PrivateXML(m.host.Context(), owner.Domainpart(), owner.Localpart(), string(ask.Space()))
	switch {
	case errors.Is(err, backends.ErrNotFound):
		// Nothing stored: the element as asked, with its children dropped.
		b := make([]byte, 0, 128)
		b = append(b, "<query xmlns='jabber:iq:private'>"...)
		b = appendEmpty(b, ask)
		iq.Result(append(b, "</query>"...))
		return
	case err != nil:
		m.host.Log().Error("read private XML", "user", owner.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
		return
	}
	b := make([]byte, 0, len(data)+64)
	b = append(b, "<query xmlns='jabber:iq:private'>"...)
	b = append(b, data...)
	iq.Result(append(b, "</query>"...))
}

// appendEmpty appends e's start tag, with its namespace declared, as an empty element.
func appendEmpty(dst []byte, e *stanza.Element) []byte {
	var b stanza.Builder
	b.Reset(dst)
	name := string(e.Local())
	if p := e.Prefix(); len(p) > 0 {
		b.Start(string(p)+":"+name).XmlnsPrefix(string(p), string(e.Space()))
	} else {
		b.Start(name).Xmlns(string(e.Space()))
	}
	b.End()
	out, err := b.Finish()
	if err != nil {
		return dst // names come from a parsed element: cannot be invalid
	}
	return out
}

// set stores the children, grouped by namespace, in one write.
func (m *Module) set(iq *engine.IQ, children []*stanza.Element) {
	var items []backends.PrivateItem
	for _, c := range children {
		ns := string(c.Space())
		i := 0
		for i < len(items) && items[i].Namespace != ns {
			i++
		}
		if i == len(items) {
			items = append(items, backends.PrivateItem{Namespace: ns})
		}
		items[i].XML = c.AppendXML(items[i].XML)
	}
	for _, it := range items {
		if len(it.XML) > backends.MaxPrivateXMLLen || len(it.Namespace) > backends.MaxPrivateNamespaceLen {
			iq.Error(stanza.StanzaError{Condition: stanza.PolicyViolation, Text: "private XML too large"})
			return
		}
	}
	owner := iq.From.Bare()
	if err := m.store.SetPrivateXML(m.host.Context(), owner.Domainpart(), owner.Localpart(), items); err != nil {
		m.host.Log().Error("store private XML", "user", owner.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
		return
	}
	iq.Result(nil)
}

// onUserRemoved deletes a removed account's data. It runs on the goroutine that
// removes the account, which may block.
func (m *Module) onUserRemoved(ev engine.Event) engine.HookResult {
	ctx, cancel := context.WithTimeout(context.Background(), removalTimeout)
	defer cancel()
	if err := m.store.DeletePrivateXML(ctx, ev.User.Domainpart(), ev.User.Localpart()); err != nil {
		m.host.Log().Error("delete private XML of removed user", "user", ev.User.String(), "err", err)
	}
	return engine.Continue
}
