// Package disco is mod_disco: Service Discovery (XEP-0030) for the served domain and
// its accounts, with the contact addresses of XEP-0157 as an extended info form
// (XEP-0128) when configured.
//
// What it answers:
//   - disco#info of the host: the identity server/im, the identities other modules
//     added, and every feature modules registered (Host.Features) plus disco#info,
//     disco#items and urn:xmpp:ping (the engine answers ping itself), sorted, without
//     duplicates.
//   - disco#items of the host: the items configured (the MUC service and other
//     components, until they announce themselves).
//   - disco#info and disco#items of an account's bare JID: the identity
//     account/registered and the account features (Host.AccountFeatures), and no
//     items, for the user and for whoever is subscribed to the user's presence (in
//     the user's roster with subscription 'from' or 'both', read through
//     backends.Rosters), as Prosody does. Anyone else, and any JID without an
//     account, gets service-unavailable, the same answer, so that disco cannot be
//     used to find out which accounts exist.
//   - Any node: item-not-found. No module publishes nodes yet.
//
// It must not block an event loop: it registers iq handlers only, which run on
// workers.
package disco

import (
	"cmp"
	"errors"
	"slices"
	"sync"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Name is the module's configuration name.
const Name = "mod_disco"

// The XEP-0030 namespaces.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
)

// nsPing is answered by the engine, which registers no feature for it.
const nsPing = "urn:xmpp:ping"

// FormTypeServerInfo is the FORM_TYPE of XEP-0157's contact addresses.
const FormTypeServerInfo = "http://jabber.org/network/serverinfo"

// ServerInfoFields are the fields XEP-0157 registers for FormTypeServerInfo, in the
// order they are written.
var ServerInfoFields = [...]string{
	"abuse-addresses", "admin-addresses", "feedback-addresses", "sales-addresses",
	"security-addresses", "status-addresses", "support-addresses",
}

// Item is a disco#items entry of the host.
type Item struct {
	// JID is the item's address, such as "conference.example.org". Required.
	JID string `toml:"jid"`
	// Name is a human-readable name; optional.
	Name string `toml:"name"`
	// Node is the item's node; optional.
	Node string `toml:"node"`
}

// Options are the module's configuration keys.
type Options struct {
	// Name is the name of the host's server/im identity; default "Hermod".
	Name string `toml:"name"`
	// Items are the host's disco#items, in the order given.
	Items []Item `toml:"items"`
	// ServerInfo maps XEP-0157 fields (ServerInfoFields, e.g. "admin-addresses") to
	// their addresses (URIs: "mailto:admin@example.org", "xmpp:admin@example.org").
	// Empty: no extended info form.
	ServerInfo map[string][]string `toml:"server_info"`
}

// Module answers service discovery for one host.
type Module struct {
	opts    Options
	host    *engine.Host
	rosters backends.Rosters // nil: accounts are visible to their users only

	hostInfo  func() []byte // the host's disco#info <query/>, built on first use
	hostItems []byte        // the host's disco#items <query/>
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{Name: "Hermod"}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	for i, it := range m.opts.Items {
		j, err := jid.Parse(it.JID)
		if err != nil {
			return nil, mc.Errorf("items", "item %d: jid %q: %v", i+1, it.JID, err)
		}
		m.opts.Items[i].JID = j.String()
	}
	for field := range m.opts.ServerInfo {
		if !slices.Contains(ServerInfoFields[:], field) {
			return nil, mc.Errorf("server_info", "unknown field %q (XEP-0157 defines %v)", field, ServerInfoFields)
		}
	}
	var err error
	if m.hostItems, err = appendItems(nil, m.opts.Items); err != nil {
		return nil, mc.Errorf("items", "%v", err)
	}
	return m, nil
}

// Start registers the handlers. The host's features are read at the first request,
// when every module has started and registered its own.
func (m *Module) Start(h *engine.Host) error {
	m.host = h
	m.rosters, _ = h.Store().(backends.Rosters)
	m.hostInfo = sync.OnceValue(m.buildHostInfo)
	h.AddFeature(NSInfo)
	h.AddFeature(NSItems)
	h.AddAccountFeature(NSInfo)
	h.AddAccountFeature(NSItems)
	h.HandleIQ(NSInfo, m.handleInfo)
	h.HandleIQ(NSItems, m.handleItems)
	return nil
}

// Stop does nothing: the module holds no resources.
func (m *Module) Stop() error { return nil }

// handleInfo runs on a worker.
func (m *Module) handleInfo(iq *engine.IQ) {
	if !m.checkRequest(iq) {
		return
	}
	if iq.To.Localpart() == "" {
		iq.Result(m.hostInfo())
		return
	}
	if m.visible(iq) {
		iq.Result(m.accountInfo())
	}
}

// handleItems runs on a worker.
func (m *Module) handleItems(iq *engine.IQ) {
	if !m.checkRequest(iq) {
		return
	}
	if iq.To.Localpart() == "" {
		iq.Result(m.hostItems)
		return
	}
	if m.visible(iq) {
		iq.Result([]byte("<query xmlns='" + NSItems + "'/>"))
	}
}

// checkRequest answers the requests that get no data (a set, a malformed query, a
// node) and reports whether iq is left to answer.
func (m *Module) checkRequest(iq *engine.IQ) bool {
	q := iq.Payload
	switch {
	case iq.Type != "get":
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
	case string(q.Local()) != "query":
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
	default:
		if node, ok := q.Attr("", "node"); ok && node != "" {
			iq.Error(stanza.StanzaError{Condition: stanza.ItemNotFound})
			return false
		}
		return true
	}
	return false
}

// visible reports whether the account iq.To exists and the requester may discover it,
// and answers service-unavailable (or internal-server-error) when not.
func (m *Module) visible(iq *engine.IQ) bool {
	ctx := m.host.Context()
	owner := iq.To.Bare()
	domain, user := owner.Domainpart(), owner.Localpart()
	if err := m.host.CheckUser(ctx, domain, user); err != nil {
		m.fail(iq, "read account", err)
		return false
	}
	if iq.ToAbsent || owner.Equal(iq.From.Bare()) {
		return true
	}
	if m.rosters != nil {
		it, err := m.rosters.RosterItem(ctx, domain, user, iq.From.Bare().String())
		if err == nil && it.Subscription.HasFrom() {
			return true
		}
		if err != nil && !errors.Is(err, backends.ErrNotFound) {
			m.fail(iq, "read roster item", err)
			return false
		}
	}
	iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
	return false
}

// fail answers service-unavailable for an error wrapping backends.ErrNotFound,
// internal-server-error (logged) for any other.
func (m *Module) fail(iq *engine.IQ, what string, err error) {
	if errors.Is(err, backends.ErrNotFound) {
		iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
		return
	}
	m.host.Log().Error(what, "jid", iq.To.String(), "err", err)
	iq.Error(engine.StorageFailure(err))
}

// buildHostInfo builds the host's disco#info answer.
func (m *Module) buildHostInfo() []byte {
	ids := append([]engine.Identity{{Category: "server", Type: "im", Name: m.opts.Name}}, m.host.Identities()...)
	features := append(m.host.Features(), nsPing)
	b := appendInfo(nil, ids, features)
	if len(m.opts.ServerInfo) > 0 {
		b = b[:len(b)-len("</query>")]
		b = appendServerInfo(b, m.opts.ServerInfo)
		b = append(b, "</query>"...)
	}
	return b
}

// accountInfo builds an account's disco#info answer. Account features may be added
// only while modules start, so this is the same for every account; it is cheap
// enough not to cache.
func (m *Module) accountInfo() []byte {
	return appendInfo(nil, []engine.Identity{{Category: "account", Type: "registered"}}, m.host.AccountFeatures())
}

// appendInfo appends a disco#info <query/> with ids and features sorted and without
// duplicates.
func appendInfo(dst []byte, ids []engine.Identity, features []string) []byte {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b engine.Identity) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Lang, b.Lang), cmp.Compare(a.Name, b.Name))
	})
	ids = slices.Compact(ids)
	features = slices.Clone(features)
	slices.Sort(features)
	features = slices.Compact(features)

	dst = append(dst, "<query xmlns='"+NSInfo+"'>"...)
	for _, id := range ids {
		dst = append(dst, "<identity category='"...)
		dst = stanza.EscapeAttr(dst, id.Category)
		dst = append(dst, "' type='"...)
		dst = stanza.EscapeAttr(dst, id.Type)
		if id.Name != "" {
			dst = append(dst, "' name='"...)
			dst = stanza.EscapeAttr(dst, id.Name)
		}
		if id.Lang != "" {
			dst = append(dst, "' xml:lang='"...)
			dst = stanza.EscapeAttr(dst, id.Lang)
		}
		dst = append(dst, "'/>"...)
	}
	for _, f := range features {
		dst = append(dst, "<feature var='"...)
		dst = stanza.EscapeAttr(dst, f)
		dst = append(dst, "'/>"...)
	}
	return append(dst, "</query>"...)
}

// appendServerInfo appends the XEP-0157 form (XEP-0128: a data form of type result
// inside disco#info).
func appendServerInfo(dst []byte, info map[string][]string) []byte {
	dst = append(dst, "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>"+
		FormTypeServerInfo+"</value></field>"...)
	for _, field := range ServerInfoFields {
		addrs, ok := info[field]
		if !ok {
			continue
		}
		dst = append(dst, "<field var='"...)
		dst = append(dst, field...)
		if len(addrs) == 0 {
			dst = append(dst, "'/>"...)
			continue
		}
		dst = append(dst, "'>"...)
		for _, a := range addrs {
			dst = append(dst, "<value>"...)
			dst = stanza.EscapeText(dst, a)
			dst = append(dst, "</value>"...)
		}
		dst = append(dst, "</field>"...)
	}
	return append(dst, "</x>"...)
}

// appendItems appends a disco#items <query/> listing items.
func appendItems(dst []byte, items []Item) ([]byte, error) {
	var b stanza.Builder
	b.Reset(dst)
	b.Start("query").Xmlns(NSItems)
	for _, it := range items {
		b.Start("item").Attr("jid", it.JID)
		if it.Name != "" {
			b.Attr("name", it.Name)
		}
		if it.Node != "" {
			b.Attr("node", it.Node)
		}
		b.End()
	}
	b.End()
	return b.Finish()
}
