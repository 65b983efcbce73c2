// Package carbons is mod_carbons: Message Carbons (XEP-0280). A resource that enables
// carbons receives a copy of every instant message its account sends from another
// resource (wrapped in <sent/>) or receives on another resource (wrapped in
// <received/>), each copy forwarded (XEP-0297) from the account's bare JID.
//
// # Where copies are made
//
// Sent copies are made in the user-send hook, for the sender's other enabled
// resources. Received copies are made in the deliver hook, which runs once per
// resource the router hands the message to: the copies are made once, when the
// message reaches the first of those resources, for the enabled resources that did not
// get the original (section 7). The hooks run last, after filters such as privacy lists
// have had their say, and never stop a stanza.
//
// # Which messages
//
// The rules of section 6.1: chat messages, normal messages with a body or an IM
// payload (chat states, receipts, chat markers, conference invitations), never
// groupchat, headline or error messages, never a message marked <private/> (with or
// without the <no-copy/> hint of XEP-0334, which alone also prevents copies), never a
// carbon of a carbon, and not a private message from a MUC occupant. Because errors to
// eligible messages are not tracked, urn:xmpp:carbons:rules:0 is not advertised.
//
// # What it must not do
//
// It must not block an event loop or allocate for users without carbons enabled: the
// hooks return after one map lookup for them. It keeps no state beyond the list of
// enabled sessions per account.
package carbons

import (
	"context"
	"slices"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_carbons"

// Namespaces of XEP-0280 and XEP-0297.
const (
	NS        = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
)

// Module is mod_carbons for one host.
type Module struct {
	host *engine.Host
	// enabled holds, per account (bare JID), its sessions with carbons enabled: a slice
	// replaced, never modified, so that hooks on event loops read it without a lock.
	enabled *xsync.Map[string, []*engine.Session]
}

// New is the module's engine.ModuleFactory. The module has no options.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	var opts struct{}
	if err := mc.Decode(&opts); err != nil {
		return nil, err
	}
	return &Module{}, nil
}

// Start registers the handlers.
func (m *Module) Start(h *engine.Host) error {
	m.host = h
	m.enabled = xsync.NewMap[string, []*engine.Session]()
	h.AddFeature(NS)
	h.HandleIQ(NS, m.handleIQ)
	h.OnUserSend(engine.PriorityLast, m.onUserSend)
	h.OnDeliver(engine.PriorityLast, m.onDeliver)
	h.OnSessionClosed(engine.PriorityDefault, m.onSessionClosed)
	return nil
}

// Stop does nothing: the state is memory only.
func (m *Module) Stop() error { return nil }

// Enabled reports whether session s has carbons enabled. Safe on any goroutine.
func (m *Module) Enabled(s *engine.Session) bool {
	list, _ := m.enabled.Load(s.JID().Bare().String())
	return slices.Contains(list, s)
}

// handleIQ enables or disables carbons for the sending session (sections 4 and 5).
// Repeated requests are not errors (section 9.1). On a worker.
func (m *Module) handleIQ(iq *engine.IQ) {
	if iq.Session == nil || !(iq.ToAbsent || iq.To == iq.From.Bare() || iq.To.String() == m.host.Domain()) {
		// Section 4.1: only the account's own server can change its carbons.
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
		return
	}
	var enable bool
	switch {
	case iq.Type == "set" && iq.Payload.Is(NS, "enable"):
		enable = true
	case iq.Type == "set" && iq.Payload.Is(NS, "disable"):
	default:
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
		return
	}
	s, bare := iq.Session, iq.From.Bare().String()
	live := m.host.Sessions(bare)
	m.enabled.Compute(bare, func(old []*engine.Session, _ bool) ([]*engine.Session, xsync.ComputeOp) {
		// Sessions whose closed hook was dropped (worker queue full) go here.
		next := slices.DeleteFunc(slices.Clone(old), func(x *engine.Session) bool {
			return x == s || !slices.Contains(live, x)
		})
		if enable && slices.Contains(live, s) {
			next = append(next, s)
		}
		if len(next) == 0 {
			return nil, xsync.DeleteOp
		}
		return next, xsync.UpdateOp
	})
	iq.Result(nil)
}

// onSessionClosed forgets a closed session. On a worker.
func (m *Module) onSessionClosed(_ context.Context, s *engine.Session) {
	bare := s.JID().Bare().String()
	m.enabled.Compute(bare, func(old []*engine.Session, loaded bool) ([]*engine.Session, xsync.ComputeOp) {
		if !loaded || !slices.Contains(old, s) {
			return old, xsync.CancelOp
		}
		next := slices.DeleteFunc(slices.Clone(old), func(x *engine.Session) bool { return x == s })
		if len(next) == 0 {
			return nil, xsync.DeleteOp
		}
		return next, xsync.UpdateOp
	})
}
