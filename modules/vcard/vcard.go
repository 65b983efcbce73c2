// Package vcard is mod_vcard: vcard-temp (XEP-0054). A user reads and replaces their
// own vCard with an iq sent without 'to' (or to their bare JID), and reads another
// user's at that user's bare JID; the server answers, clients are never asked. vCards
// are stored verbatim (the serialised <vCard/> element) through backends.VCards, up to
// a configured size.
//
// Choices the XEP leaves open, and why:
//   - Own vCard absent: an empty <vCard/> result (allowed by XEP-0054 section 3.1, and
//     what clients handle best).
//   - Another user's vCard absent, or no such user: service-unavailable, the same in
//     both cases, as XEP-0054 1.3 section 3.3 requires against directory harvesting.
//   - Set on someone else's vCard: forbidden (section 3.2).
//   - vCard over max_size: policy-violation with a text naming the limit. RFC 6120
//     gives a stanza over a configured size limit as its example of policy-violation
//     (4.9.3.14); not-acceptable would suggest the content itself is wrong.
//   - The host's own vCard: an empty <vCard/>; the server has none to publish yet.
//
// It must not block an event loop: it only registers an iq handler (run on workers)
// and a user-removed hook.
package vcard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_vcard"

// NS is the vcard-temp namespace.
const NS = "vcard-temp"

// DefaultMaxSize is the default of Options.MaxSize: 64 KiB, room for a small avatar
// photo (XEP-0153) in base64.
const DefaultMaxSize = 64 << 10

// removalTimeout bounds the deletion of a removed account's vCard.
const removalTimeout = 10 * time.Second

// emptyVCard is the answer for an owner without a vCard.
const emptyVCard = "<vCard xmlns='vcard-temp'/>"

// Options are the module's configuration keys.
type Options struct {
	// MaxSize is the largest vCard accepted, in bytes of its XML; default
	// DefaultMaxSize, at most backends.MaxVCardLen.
	MaxSize int `toml:"max_size"`
}

// Module serves vCards of one host.
type Module struct {
	opts  Options
	host  *engine.Host
	store backends.VCards
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{MaxSize: DefaultMaxSize}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	if m.opts.MaxSize < 1 || m.opts.MaxSize > backends.MaxVCardLen {
		return nil, mc.Errorf("max_size", "%d: want 1 to %d", m.opts.MaxSize, backends.MaxVCardLen)
	}
	return m, nil
}

// Start checks that the store keeps vCards and registers the handlers.
func (m *Module) Start(h *engine.Host) error {
	vc, ok := h.Store().(backends.VCards)
	if !ok {
		return fmt.Errorf("%s: the storage backend %T does not store vCards (backends.VCards)", Name, h.Store())
	}
	m.host = h
	m.store = vc
	h.AddFeature(NS)
	h.AddAccountFeature(NS)
	h.HandleIQ(NS, m.handle)
	h.On(engine.EventUserRemoved, engine.PriorityDefault, m.onUserRemoved)
	return nil
}

// Stop does nothing: the module holds no resources.
func (m *Module) Stop() error { return nil }

// handle runs on a worker.
func (m *Module) handle(iq *engine.IQ) {
	if !iq.Payload.Is(NS, "vCard") {
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
		return
	}
	own := iq.ToAbsent || iq.To.Equal(iq.From.Bare())
	toHost := !iq.ToAbsent && iq.To.Localpart() == ""
	switch {
	case iq.Type == "set" && !own:
		iq.Error(stanza.StanzaError{Condition: stanza.Forbidden})
	case iq.Type == "set":
		m.set(iq)
	case toHost:
		iq.Result([]byte(emptyVCard))
	default:
		m.get(iq, own)
	}
}

// get answers a vCard get to an account's bare JID (or without 'to').
func (m *Module) get(iq *engine.IQ, own bool) {
	ctx := m.host.Context()
	domain, user := iq.To.Domainpart(), iq.To.Localpart()
	card, err := m.store.VCard(ctx, domain, user)
	switch {
	case errors.Is(err, backends.ErrNotFound) && own:
		iq.Result([]byte(emptyVCard))
		return
	case errors.Is(err, backends.ErrNotFound):
		iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
		return
	case err != nil:
		m.host.Log().Error("read vCard", "user", iq.To.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
		return
	}
	if !own {
		// A vCard left behind by a removed account must not be served; the removal
		// hook deletes it, but only if the account was removed through the server.
		if err := m.host.CheckUser(ctx, domain, user); errors.Is(err, backends.ErrNotFound) {
			iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
			return
		} else if err != nil {
			m.host.Log().Error("read account", "user", iq.To.String(), "err", err)
			iq.Error(engine.StorageFailure(err))
			return
		}
	}
	iq.Result(card)
}

// set stores the payload as the sender's vCard.
func (m *Module) set(iq *engine.IQ) {
	card := iq.Payload.AppendXML(nil)
	if len(card) > m.opts.MaxSize {
		iq.Error(stanza.StanzaError{Condition: stanza.PolicyViolation,
			Text: "vCard larger than " + strconv.Itoa(m.opts.MaxSize) + " bytes"})
		return
	}
	own := iq.From.Bare()
	if err := m.store.SetVCard(m.host.Context(), own.Domainpart(), own.Localpart(), card); err != nil {
		m.host.Log().Error("store vCard", "user", own.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
		return
	}
	iq.Result(nil)
}

// onUserRemoved deletes a removed account's vCard. It runs on the goroutine that
// removes the account, which may block.
func (m *Module) onUserRemoved(ev engine.Event) engine.HookResult {
	ctx, cancel := context.WithTimeout(context.Background(), removalTimeout)
	defer cancel()
	if err := m.store.DeleteVCard(ctx, ev.User.Domainpart(), ev.User.Localpart()); err != nil {
		m.host.Log().Error("delete vCard of removed user", "user", ev.User.String(), "err", err)
	}
	return engine.Continue
}
