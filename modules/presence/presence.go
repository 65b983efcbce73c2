// Package presence is mod_presence: the exchange of presence of RFC 6121 section 4
// between accounts of this host. A session's initial presence goes to the contacts
// subscribed to it ("from" and "both") and probes its own contacts ("to" and "both"),
// answered at once with their available resources' last presence; later presence goes
// to subscribers; directed presence is remembered per session, and its addressees get
// unavailable presence when the session goes unavailable or disconnects, as
// subscribers do, abrupt disconnects included.
//
// The engine already sends a session's presence to the account's other resources and
// keeps availability and priority for routing; this module adds the roster's side. It
// reads rosters from the snapshot that mod_roster's Service keeps per online account
// (modules/roster), so it needs no storage of its own, and subscriptions are managed
// by mod_roster, which should be enabled with it.
//
// # Goroutines
//
// Presence from a client is handled on its event loop: only snapshot reads and sends,
// no storage and no lock held across a send. Unavailable presence after a disconnect
// goes out from the session-closed hook, on a worker.
//
// # What this package must not do
//
// It must not store presence, answer for other domains (no server-to-server yet), or
// deliver a contact's presence to someone the contact's own roster does not authorise.
package presence

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/modules/roster"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Name is the module's configuration name.
const Name = "mod_presence"

// Options are the keys of [modules.mod_presence]. There are none yet; the table may
// be empty.
type Options struct{}

// Module is mod_presence for one host.
type Module struct {
	h   *engine.Host
	svc *roster.Service
	// scratch keeps probeScratch values between logins: one is about 900 bytes, and
	// a login storm would otherwise leave that much garbage per login.
	scratch sync.Pool
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	var opts Options
	if err := mc.Decode(&opts); err != nil {
		return nil, err
	}
	return &Module{}, nil
}

// Start registers the presence hooks.
func (m *Module) Start(h *engine.Host) error {
	svc, err := roster.Shared(h)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	m.h, m.svc = h, svc
	h.OnUserSend(engine.PriorityDefault, m.onUserSend)
	h.OnSessionClosed(engine.PriorityDefault, m.onClosed)
	svc.OnReplaced(func(_ context.Context, old *roster.SessionState) {
		m.gone(old.Session, old.WasAvailable(), old.Directed())
	})
	return nil
}

// Stop does nothing: the module holds no resources.
func (m *Module) Stop() error { return nil }

// onUserSend handles presence a session sends. It lets the engine go on (availability,
// the account's own resources, routing of directed presence) except for probes, which
// it answers. Event loop.
func (m *Module) onUserSend(st *engine.Stanza) engine.HookResult {
	if st.Header.Kind != stanza.Presence {
		return engine.Continue
	}
	typ := string(st.Header.Type)
	if st.To.IsZero() {
		switch typ {
		case "":
			if was := m.svc.SetAvailable(st.Session, true); !was {
				m.probe(st.Session)
			}
			m.broadcast(st.From, st.Session, st.Raw, st.Header)
		case "unavailable":
			directed := m.svc.TakeDirected(st.Session)
			if was := m.svc.SetAvailable(st.Session, false); was {
				m.broadcast(st.From, st.Session, st.Raw, st.Header)
			}
			m.unavailableToDirected(st.From, st.Session, st.Raw, st.Header, directed, m.svc.Snapshot(st.From.Bare().String()))
		}
		return engine.Continue
	}
	to := st.To
	if to.Bare() == st.From.Bare() {
		return engine.Continue // the user's own resources: the engine's business
	}
	switch typ {
	case "":
		// st.To aliases the connection's buffer: keep a copy.
		m.svc.AddDirected(st.Session, strings.Clone(to.String()))
	case "unavailable":
		m.svc.RemoveDirected(st.Session, to.String())
	case "probe":
		if m.svc.Snapshot(to.Bare().String()) != nil || m.h.Domain() == to.Domainpart() {
			m.answerProbe(st.Session, to.Bare())
			return engine.Stop
		}
	}
	return engine.Continue
}

// broadcast sends the presence raw (header h) from the full JID from to every
// subscriber of its account (RFC 6121 4.2.2, 4.4.2, 4.5.2), each copy addressed to
// the subscriber's bare JID; unavailable presence also goes to the session's
// directed-presence addressees that are not subscribers (4.6.3). Any goroutine.
func (m *Module) broadcast(from jid.JID, sess *engine.Session, raw []byte, h *stanza.Header) {
	bare := from.Bare()
	snap := m.svc.Snapshot(bare.String())
	if snap.Len() == 0 {
		return
	}
	sc := m.scratchFor(from)
	defer m.release(sc)
	sc.check = engine.Stanza{Header: h}
	snap.Each(func(contact string, sub backends.Subscription) bool {
		if sub.HasFrom() {
			m.send(sc.bb, &sc.check, raw, from, sc.to, sess, contact)
		}
		return true
	})
}

// send routes raw with from and to rewritten, reusing bb, unless privacy lists deny
// it (check is the scratch of roster.Service.PresenceAllowed, its Header raw's).
func (m *Module) send(bb *bytebufferpool.ByteBuffer, check *engine.Stanza, raw []byte, from jid.JID, fromBytes []byte, sess *engine.Session, to string) {
	toJID, err := jid.Parse(to)
	if err != nil || !m.svc.PresenceAllowed(check, from, sess, toJID, nil) {
		return
	}
	bb.B = stanza.AppendRewrite(bb.B[:0], raw, check.Header, fromBytes, []byte(to))
	if err := m.h.Route(bb.B); err != nil {
		// Another domain, or an account that no longer exists.
		m.h.Log().Debug("presence: not routed", "to", to, "err", err)
	}
}

// probe sends the session the last presence of each available resource of its
// contacts ("to" and "both") that authorise it (RFC 6121 4.3): the server answers the
// probe for local contacts at once, from their own rosters. Event loop.
func (m *Module) probe(sess *engine.Session) {
	bare := sess.JID().Bare().String()
	sc := m.newProbeScratch(sess)
	defer m.release(sc)
	m.svc.Snapshot(bare).Each(func(contact string, sub backends.Subscription) bool {
		if sub.HasTo() {
			m.presenceOf(sc, sess, contact, bare)
		}
		return true
	})
}

// answerProbe answers a probe a client sent to contact.
func (m *Module) answerProbe(sess *engine.Session, contact jid.JID) {
	sc := m.newProbeScratch(sess)
	defer m.release(sc)
	m.presenceOf(sc, sess, contact.String(), sess.JID().Bare().String())
}

// probeScratch is what answering a probe reuses from one contact to the next, so that
// a login with many contacts allocates once rather than per contact.
type probeScratch struct {
	to       []byte // the probing session's full JID
	check    engine.Stanza
	h        stanza.Header
	sessions []*engine.Session
	bb       *bytebufferpool.ByteBuffer
}

func (m *Module) newProbeScratch(sess *engine.Session) *probeScratch {
	sc := m.scratchFor(sess.JID())
	sc.check = engine.Stanza{Header: &sc.h}
	return sc
}

// scratchFor returns pooled scratch whose to holds j (for broadcast, the sender).
func (m *Module) scratchFor(j jid.JID) *probeScratch {
	sc, _ := m.scratch.Get().(*probeScratch)
	if sc == nil {
		sc = &probeScratch{}
	}
	sc.to = append(sc.to[:0], j.String()...)
	sc.bb = bytebufferpool.Get()
	return sc
}

func (m *Module) release(sc *probeScratch) {
	bytebufferpool.Put(sc.bb)
	sc.bb = nil
	clear(sc.sessions) // the pool must not keep sessions or stanzas alive
	sc.sessions = sc.sessions[:0]
	sc.check = engine.Stanza{}
	m.scratch.Put(sc)
}

// presenceOf sends sess the last presence of contact's available resources if
// contact's roster gives user (sess's bare JID) a subscription (4.3.2); an offline
// contact or an unauthorised one gives nothing.
func (m *Module) presenceOf(sc *probeScratch, sess *engine.Session, contact, user string) {
	sub, _ := m.svc.Snapshot(contact).Subscription(user)
	if !sub.HasFrom() {
		return
	}
	sc.sessions = m.svc.AppendSessions(sc.sessions[:0], contact)
	for _, cs := range sc.sessions {
		last := cs.LastPresence()
		if last == nil || stanza.ParseHeader(last, &sc.h) != nil {
			continue
		}
		if !m.svc.PresenceAllowed(&sc.check, cs.JID(), cs, sess.JID(), sess) {
			continue
		}
		sc.bb.B = stanza.AppendRewrite(sc.bb.B[:0], last, &sc.h, nil, sc.to)
		sess.Send(sc.bb.B)
	}
	clear(sc.sessions)
}

// onClosed tells subscribers and directed-presence addressees that a session that was
// available is gone (RFC 6121 4.6, and 4.5.2 for a session that did not say so). It
// runs before mod_roster forgets the session. Worker.
func (m *Module) onClosed(_ context.Context, sess *engine.Session) {
	directed := m.svc.TakeDirected(sess)
	m.gone(sess, m.svc.Available(sess), directed)
}

// gone sends the unavailable presence of a session that ended: to subscribers if it
// was available, and to its directed-presence addressees. Worker.
func (m *Module) gone(sess *engine.Session, available bool, directed []string) {
	if !available && len(directed) == 0 {
		return
	}
	from := sess.JID()
	raw := []byte("<presence type='unavailable'/>") // from and to are written per addressee
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil {
		return
	}
	snap := m.svc.Snapshot(from.Bare().String())
	if available {
		m.broadcast(from, sess, raw, &h)
	}
	m.unavailableToDirected(from, sess, raw, &h, directed, snap)
}

// unavailableToDirected sends unavailable presence to the directed-presence
// addressees that are not subscribers (those had it from broadcast).
func (m *Module) unavailableToDirected(from jid.JID, sess *engine.Session, raw []byte, h *stanza.Header, directed []string, snap *roster.Snapshot) {
	if len(directed) == 0 {
		return
	}
	bb := bytebufferpool.Get()
	defer bytebufferpool.Put(bb)
	fromBytes := []byte(from.String())
	check := engine.Stanza{Header: h}
	for _, d := range directed {
		if j, err := jid.Parse(d); err == nil {
			if sub, _ := snap.Subscription(j.Bare().String()); sub.HasFrom() {
				continue
			}
		}
		m.send(bb, &check, raw, from, fromBytes, sess, d)
	}
}
