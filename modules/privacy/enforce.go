package privacy

import (
	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Enforcement. Every hook here runs on an event loop: it reads the atomics of the
// user's state, never the store, and allocates only when it refuses a stanza.

// blockedApp is the application condition of XEP-0191 section 3.3 for a stanza the user
// sent to a JID on the block list.
var blockedApp = []byte("<blocked xmlns='" + NSBlockingErrors + "'/>")

// onUserSend applies the sender's list to what it sends (outbound: presence
// notifications for presence-out items, everything for items without children), then
// the addressee's default list to what the server handles on the addressee's behalf:
// iq get/set to its bare JID and presence subscriptions and probes, which the roster
// and presence modules consume before any delivery.
func (m *Module) onUserSend(st *engine.Stanza) engine.HookResult {
	if st.To.IsZero() || st.Session == nil {
		return engine.Continue
	}
	self := st.Session.JID()
	if sameBare(st.To, self) {
		// XEP-0016 section 2.1: never between a user's own resources.
		return engine.Continue
	}
	toServer := st.To.Localpart() == "" && st.To.Domainpart() == m.host.Domain()
	if u := m.lookup(self.Bare().String()); u != nil && !toServer {
		// What the user asks of its own server is not communication with another
		// entity: a "deny everything" list must not cut the client off its server.
		if r := u.effective(st.Session); r != nil {
			if deny, ru := r.decide(st.To, kindOf(st.Header, outbound), u.roster.Load()); deny {
				m.refuseOutbound(st, ru)
				return engine.Stop
			}
		}
	}
	if st.To.Localpart() == "" || st.To.Domainpart() != m.host.Domain() {
		return engine.Continue
	}
	h := st.Header
	typ := string(h.Type)
	switch {
	case h.Kind == stanza.IQ && st.To.Resourcepart() == "" && (typ == "get" || typ == "set"):
	case h.Kind == stanza.Presence && typ != "" && typ != "unavailable" && typ != "error":
	default:
		return engine.Continue
	}
	u := m.lookup(st.To.Bare().String())
	if u == nil {
		return engine.Continue
	}
	r := u.def.Load()
	if r == nil {
		return engine.Continue
	}
	if deny, _ := r.decide(self, kindOf(h, inbound), u.roster.Load()); !deny {
		return engine.Continue
	}
	if h.Kind == stanza.IQ {
		// The reply comes from the address the request was sent to.
		bb := bytebufferpool.Get()
		bb.B = stanza.AppendErrorReply(bb.B, st.Raw, h, stanza.StanzaError{Condition: stanza.ServiceUnavailable})
		st.Session.Send(bb.B)
		bytebufferpool.Put(bb)
	}
	return engine.Stop
}

// refuseOutbound answers a stanza the sender's own list denies: not-acceptable for
// messages and iq requests (XEP-0016 section 2.13), with XEP-0191's <blocked/> when a
// block item decided; presence and errors are dropped quietly.
func (m *Module) refuseOutbound(st *engine.Stanza, ru *rule) {
	h := st.Header
	if h.Kind == stanza.Presence || h.IsError() || h.Kind == stanza.IQ && string(h.Type) == "result" {
		return
	}
	e := stanza.StanzaError{Condition: stanza.NotAcceptable, Type: stanza.TypeCancel}
	if ru.isBlock() {
		e.App = blockedApp
	}
	bb := bytebufferpool.Get()
	// The reply is built from the request as the client sent it, so it carries no 'to':
	// the engine answers client stanzas the same way.
	bb.B = stanza.AppendErrorReply(bb.B, st.Raw, h, e)
	st.Session.Send(bb.B)
	bytebufferpool.Put(bb)
}

// onDeliver applies the recipient session's list (its active list, else the user's
// default) to a stanza about to be written to it (inbound: message, iq, presence-in,
// and everything for items without children).
func (m *Module) onDeliver(st *engine.Stanza) engine.HookResult {
	u, deny := m.denied(st.Session.JID(), st.Session, st.From, kindOf(st.Header, inbound))
	if !deny {
		return engine.Continue
	}
	h := st.Header
	switch h.Kind {
	case stanza.Message:
		if m.lastRefusal(st, u) {
			m.bounce(st.Raw, nil)
		}
	case stanza.IQ:
		if t := string(h.Type); t == "get" || t == "set" {
			m.bounce(st.Raw, nil)
		}
	}
	// Presence of any kind is dropped without a word (XEP-0016 section 2.13).
	return engine.Stop
}

// denied reports whether the lists of account self (those of session s, or the
// default list when s is nil) deny a stanza of kind exchanged with other, and returns
// the account's state (nil when it has none). Safe on any goroutine; it does not
// allocate.
func (m *Module) denied(self jid.JID, s *engine.Session, other jid.JID, kind backends.PrivacyStanzas) (*user, bool) {
	u := m.lookup(self.Bare().String())
	if u == nil || sameBare(other, self) {
		return u, false
	}
	r := u.effective(s)
	if r == nil {
		return u, false
	}
	deny, _ := r.decide(other, kind, u.roster.Load())
	return u, deny
}

// lastRefusal reports whether a refused message should be answered with an error:
// the router hands a message for a bare JID to every resource of top priority, and the
// sender must hear of a refusal once, and only if no resource took the message. So
// the error goes out with the first of those resources, when all of them refuse.
func (m *Module) lastRefusal(st *engine.Stanza, u *user) bool {
	self := st.Session.JID()
	if to, err := jid.ParseBytes(st.Header.To); err == nil && to.Resourcepart() == self.Resourcepart() {
		return true // addressed to this resource
	}
	best := int8(-1)
	sessions := m.host.Sessions(u.bare.String())
	for _, s := range sessions {
		if avail, prio := s.Available(); avail && prio > best {
			best = prio
		}
	}
	first := true
	for _, s := range sessions {
		if avail, prio := s.Available(); !avail || prio != best {
			continue
		}
		if first && s != st.Session {
			return false
		}
		first = false
		if r := u.effective(s); r == nil {
			return false
		} else if deny, _ := r.decide(st.From, backends.PrivacyMessage, u.roster.Load()); !deny {
			return false
		}
	}
	return true
}

// onUndeliverable applies the default list to a message for a user with no available
// resource (XEP-0016 rule 2), before offline storage: a refused message is not stored
// and its sender gets service-unavailable.
func (m *Module) onUndeliverable(st *engine.Stanza) engine.HookResult {
	u := m.lookup(st.To.Bare().String())
	if u == nil || sameBare(st.From, st.To) {
		return engine.Continue
	}
	r := u.def.Load()
	if r == nil {
		return engine.Continue
	}
	if deny, _ := r.decide(st.From, backends.PrivacyMessage, u.roster.Load()); !deny {
		return engine.Continue
	}
	m.bounce(st.Raw, []byte(st.From.String()))
	return engine.Stop
}

// bounce sends the sender of an inbound stanza service-unavailable, as XEP-0016 section
// 2.13 recommends for messages and requires for iq get/set, so that the user appears
// offline. raw is parsed afresh: in deliver hooks the engine's Header describes the
// bytes before 'from' was stamped. from, when not nil, is stamped first (raw is then
// as the client sent it).
func (m *Module) bounce(raw []byte, from []byte) {
	var h stanza.Header
	if stanza.ParseHeader(raw, &h) != nil || h.IsError() {
		return
	}
	if from != nil {
		raw = stanza.AppendRewrite(nil, raw, &h, from, nil)
		if stanza.ParseHeader(raw, &h) != nil {
			return
		}
	}
	bb := bytebufferpool.Get()
	defer bytebufferpool.Put(bb)
	bb.B = stanza.AppendErrorReply(bb.B, raw, &h, stanza.StanzaError{Condition: stanza.ServiceUnavailable})
	if err := m.host.Route(bb.B); err != nil {
		m.host.Log().Debug("privacy: error reply not routed", "err", err)
	}
}

// onCheckIn answers EventCheckIn: Stop when the lists of ev.User deny the inbound
// stanza ev.Data (*engine.Stanza: From the sender, Header its kind and type, Session
// the recipient session or nil for the default list).
func (m *Module) onCheckIn(ev engine.Event) engine.HookResult {
	st, ok := ev.Data.(*engine.Stanza)
	if !ok || st.Header == nil {
		return engine.Continue
	}
	if _, deny := m.denied(ev.User, st.Session, st.From, kindOf(st.Header, inbound)); deny {
		return engine.Stop
	}
	return engine.Continue
}

// onCheckOut answers EventCheckOut: Stop when the lists of ev.User deny the outbound
// stanza ev.Data (To the addressee, Header its kind and type, Session the sending
// session or nil for the default list). A presence module asks it for each subscriber
// it broadcasts to.
func (m *Module) onCheckOut(ev engine.Event) engine.HookResult {
	st, ok := ev.Data.(*engine.Stanza)
	if !ok || st.Header == nil {
		return engine.Continue
	}
	if _, deny := m.denied(ev.User, st.Session, st.To, kindOf(st.Header, outbound)); deny {
		return engine.Stop
	}
	return engine.Continue
}

// sameBare reports whether a and b are addresses of the same account.
func sameBare(a, b jid.JID) bool {
	return a.Localpart() == b.Localpart() && a.Domainpart() == b.Domainpart()
}
