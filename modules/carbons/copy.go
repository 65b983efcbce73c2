package carbons

import (
	"bytes"
	"slices"

	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Namespaces the eligibility rules look for.
const (
	nsClient     = "jabber:client"
	nsHints      = "urn:xmpp:hints"
	nsChatStates = "http://jabber.org/protocol/chatstates"
	nsReceipts   = "urn:xmpp:receipts"
	nsMarkers    = "urn:xmpp:chat-markers:0"
	nsConference = "jabber:x:conference"
	nsMUCUser    = "http://jabber.org/protocol/muc#user"
)

// Directions of a copy.
const (
	sent     = "sent"
	received = "received"
)

// eligible applies the rules of XEP-0280 section 6.1 to a parsed message of type typ
// ("" is normal). dir says whether the account sent or received it.
func eligible(el *stanza.Element, typ, dir string) bool {
	if el.Child(NS, "private") != nil || el.Child(nsHints, "no-copy") != nil ||
		el.Child(NS, "sent") != nil || el.Child(NS, "received") != nil {
		return false
	}
	muc := el.Child(nsMUCUser, "x")
	switch typ {
	case "chat":
		// A private message from a MUC occupant is already copied to each joined
		// client by the room; one to an occupant is copied.
		return muc == nil || dir == sent
	case "", "normal":
		if el.Child(nsClient, "body") != nil || el.Child(nsConference, "x") != nil ||
			muc != nil && muc.Child(nsMUCUser, "invite") != nil {
			return true
		}
		for _, c := range el.Children() {
			switch string(c.Space()) {
			case nsChatStates, nsReceipts, nsMarkers:
				return true
			}
		}
	}
	return false
}

// onUserSend copies a message the account sends to its other enabled resources
// (section 8). Event loop; it never stops the stanza.
func (m *Module) onUserSend(st *engine.Stanza) engine.HookResult {
	if st.Header.Kind != stanza.Message || st.To.IsZero() || st.Session == nil {
		return engine.Continue
	}
	self := st.Session.JID()
	list, ok := m.enabled.Load(self.Bare().String())
	if !ok || sameBare(st.To, self) {
		// Between resources of one account the received copy covers it.
		return engine.Continue
	}
	if len(list) == 1 && list[0] == st.Session {
		return engine.Continue // section 8: not to the sending resource itself
	}
	el, err := stanza.ParseIn(st.Raw, nsClient)
	if err != nil {
		return engine.Continue
	}
	defer el.Release()
	typ := string(st.Header.Type)
	if !eligible(el, typ, sent) {
		return engine.Continue
	}
	// The copy shows the message as it was routed: 'from' the sending resource.
	el.SetAttr("", "from", self.String())
	m.copyTo(el, typ, sent, self.Bare().String(), list, func(s *engine.Session) bool { return s != st.Session })
	return engine.Continue
}

// onDeliver copies a message the account receives to its enabled resources that do
// not get the original (section 7). Event loop; it never stops the stanza.
func (m *Module) onDeliver(st *engine.Stanza) engine.HookResult {
	if st.Header.Kind != stanza.Message {
		return engine.Continue
	}
	self := st.Session.JID()
	bare := self.Bare().String()
	list, ok := m.enabled.Load(bare)
	if !ok {
		return engine.Continue
	}
	// A message between two resources of the account is copied here (the sent side
	// leaves it alone), to every enabled resource but the two concerned.
	fromSelf := sameBare(st.From, self)
	typ := string(st.Header.Type)
	if typ != "chat" && typ != "normal" && typ != "" {
		return engine.Continue // cheap exit before any parsing
	}
	var recipients []*engine.Session
	if directTo(st.Header, self.Resourcepart()) {
		recipients = []*engine.Session{st.Session}
	} else {
		recipients = m.topResources(bare)
		if len(recipients) > 0 && recipients[0] != st.Session {
			return engine.Continue // the first recipient's delivery makes the copies
		}
	}
	want := func(s *engine.Session) bool {
		return !slices.Contains(recipients, s) && !(fromSelf && s.JID() == st.From)
	}
	if !slices.ContainsFunc(list, want) {
		return engine.Continue
	}
	el, err := stanza.ParseIn(st.Raw, nsClient)
	if err != nil {
		return engine.Continue
	}
	defer el.Release()
	if !eligible(el, typ, received) {
		return engine.Continue
	}
	m.copyTo(el, typ, received, bare, list, want)
	return engine.Continue
}

// directTo reports whether the 'to' of a message names resource: the message was
// addressed to that full JID and only that resource gets it. A 'to' with entity
// references is decoded first (one allocation, rare).
func directTo(h *stanza.Header, resource string) bool {
	to := h.To
	if bytes.IndexByte(to, '&') >= 0 {
		var err error
		if to, err = h.AppendTo(nil); err != nil {
			return false
		}
	}
	i := bytes.IndexByte(to, '/')
	return i >= 0 && string(to[i+1:]) == resource
}

// topResources returns the resources a message to the bare JID goes to under RFC 6121
// 8.5.2.1.1 (available, of the highest non-negative priority), in the order the router
// visits them.
func (m *Module) topResources(bare string) []*engine.Session {
	sessions := m.host.Sessions(bare)
	best := int8(-1)
	for _, s := range sessions {
		if avail, prio := s.Available(); avail && prio > best {
			best = prio
		}
	}
	if best < 0 {
		return nil
	}
	out := sessions[:0:0]
	for _, s := range sessions {
		if avail, prio := s.Available(); avail && prio == best {
			out = append(out, s)
		}
	}
	return out
}

// copyTo sends each session of list that want accepts the carbon of el: a message of
// type typ from the account's bare JID to the session, holding <dir> and <forwarded>
// with the original.
func (m *Module) copyTo(el *stanza.Element, typ, dir, bare string, list []*engine.Session, want func(*engine.Session) bool) {
	inner := bytebufferpool.Get()
	defer bytebufferpool.Put(inner)
	inner.B = el.AppendXML(inner.B[:0])
	bb := bytebufferpool.Get()
	defer bytebufferpool.Put(bb)
	for _, s := range list {
		if !want(s) {
			continue
		}
		var b stanza.Builder
		b.Reset(bb.B[:0])
		b.Start("message").Attr("from", bare).Attr("to", s.JID().String())
		if typ != "" {
			b.Attr("type", typ)
		}
		b.Start(dir).Xmlns(NS).Start("forwarded").Xmlns(NSForward).Raw(inner.B).End().End().End()
		out, err := b.Finish()
		if err != nil {
			m.host.Log().Warn("carbons: build copy", "err", err)
			return
		}
		s.Send(out)
		bb.B = out
	}
}

// sameBare reports whether a and b are addresses of the same account.
func sameBare(a, b jid.JID) bool {
	return a.Localpart() == b.Localpart() && a.Domainpart() == b.Domainpart()
}
