package engine

import (
	"time"
	"unsafe"

	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Presence state published for the router's readers on other loops: bit 8 is
// "available", the low byte the priority as an int8.
const presAvailable = 1 << 8

func packPresence(available bool, priority int8) uint32 {
	v := uint32(uint8(priority))
	if available {
		v |= presAvailable
	}
	return v
}

// presenceOf reads a session's availability and priority. Safe from any goroutine.
func (c *conn) presenceOf() (bool, int8) {
	v := c.pres.Load()
	return v&presAvailable != 0, int8(uint8(v))
}

// onClientStanza routes a message, presence or iq from the bound client (RFC 6120 8,
// RFC 6121 8), and times it into the routing latency histogram: from the stanza's
// arrival to its hand-off (written, queued for another loop, or given to a module).
// raw is valid only during the call.
func (c *conn) onClientStanza(raw []byte) {
	start := time.Now()
	c.routeClientStanza(raw)
	c.srv.metrics.ObserveRouting(time.Since(start))
}

// routeClientStanza is onClientStanza's routing.
func (c *conn) routeClientStanza(raw []byte) {
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil {
		c.streamError(stanza.StreamError{Condition: stanza.StreamNotWellFormed})
		return
	}
	c.srv.metrics.StanzaIn(metricKind(h.Kind))
	s := &c.stream
	// RFC 6120 8.1.2.1: the server stamps 'from'; a client may only name itself.
	if h.From != nil && string(h.From) != s.jid.String() && string(h.From) != s.bare() {
		c.streamError(stanza.StreamError{Condition: stanza.StreamInvalidFrom})
		return
	}
	if h.Kind == stanza.IQ && !validIQ(&h) {
		c.replyError(raw, &h, stanza.BadRequest)
		return
	}
	var to jid.JID
	if h.To != nil {
		var err error
		if to, err = parseTransient(h.To); err != nil {
			c.replyError(raw, &h, stanza.JIDMalformed)
			return
		}
	}
	if c.runUserSend(raw, &h, to) {
		return
	}
	if h.To == nil {
		// No 'to': addressed to the user's own account (RFC 6120 10.3).
		switch h.Kind {
		case stanza.Presence:
			c.onOwnPresence(raw, &h)
		case stanza.IQ:
			c.serverIQ(raw, &h, true)
		case stanza.Message:
			c.routeToUser(raw, &h, s.jid.Bare())
		}
		return
	}
	if !c.srv.serves(to.Domainpart()) {
		// No server-to-server yet: every other domain is unreachable.
		c.replyError(raw, &h, stanza.RemoteServerNotFound)
		return
	}
	if to.Localpart() == "" {
		c.serverStanza(raw, &h)
		return
	}
	c.routeToUser(raw, &h, to)
}

// parseTransient parses a raw 'to' value. The JID returned may alias raw: it must not
// outlive the stanza's handling.
func parseTransient(raw []byte) (jid.JID, error) {
	if len(raw) == 0 {
		return jid.JID{}, jid.ErrEmpty
	}
	for _, b := range raw {
		if b == '&' {
			dec, err := unescape(raw)
			if err != nil {
				return jid.JID{}, err
			}
			return jid.Parse(string(dec))
		}
	}
	return jid.Parse(unsafe.String(&raw[0], len(raw)))
}

// validIQ checks the iq rules of RFC 6120 8.2.3: an id and a known type.
func validIQ(h *stanza.Header) bool {
	if len(h.ID) == 0 {
		return false
	}
	switch string(h.Type) {
	case "get", "set", "result", "error":
		return true
	}
	return false
}

// routeToUser delivers a stanza addressed to a local account (RFC 6121 8.5.2 and
// 8.5.3).
func (c *conn) routeToUser(raw []byte, h *stanza.Header, to jid.JID) {
	typ := string(h.Type)
	resource, bare := to.Resourcepart(), to.Bare().String()
	if resource != "" {
		if target, ok := c.srv.sessions.LookupResource(bare, resource); ok {
			c.forward(raw, h, target)
			return
		}
		// 8.5.3.2: no such resource.
		switch h.Kind {
		case stanza.IQ:
			c.replyError(raw, h, stanza.ServiceUnavailable)
			return
		case stanza.Presence:
			if !isSubscription(typ) {
				return
			}
		case stanza.Message:
			if typ == "groupchat" {
				c.replyError(raw, h, stanza.ServiceUnavailable)
				return
			}
			if typ == "error" {
				return
			}
		}
	}
	sessions := c.srv.sessions.Lookup(bare)
	switch h.Kind {
	case stanza.Message:
		c.routeMessageToBare(raw, h, typ, sessions, to)
	case stanza.Presence:
		// Directed presence and subscription requests go to every available resource;
		// the subscription state machine (RFC 6121 3) is the roster module's.
		for _, s := range sessions {
			if avail, _ := s.presenceOf(); avail {
				c.forward(raw, h, s)
			}
		}
	case stanza.IQ:
		// 8.5.2.1.3 and 8.5.2.2.3: the server answers for the account.
		c.serverIQ(raw, h, false)
	}
}

// routeMessageToBare applies RFC 6121 8.5.2.1.1 / 8.5.2.2.1: chat and normal messages
// go to the available resources of highest non-negative priority, headlines to all
// non-negative ones; with none, an error (offline storage will take them).
func (c *conn) routeMessageToBare(raw []byte, h *stanza.Header, typ string, sessions []*conn, to jid.JID) {
	switch typ {
	case "error":
		return
	case "groupchat":
		c.replyError(raw, h, stanza.ServiceUnavailable)
		return
	}
	best := int8(-1)
	for _, s := range sessions {
		if avail, prio := s.presenceOf(); avail && prio >= 0 && prio > best {
			best = prio
		}
	}
	if best < 0 {
		if typ != "headline" && c.runUndeliverable(raw, h, to) {
			return
		}
		if typ != "headline" {
			c.replyError(raw, h, stanza.ServiceUnavailable)
		}
		return
	}
	for _, s := range sessions {
		avail, prio := s.presenceOf()
		if avail && (prio == best || (typ == "headline" && prio >= 0)) {
			c.forward(raw, h, s)
		}
	}
}

func isSubscription(typ string) bool {
	switch typ {
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		return true
	}
	return false
}

// forward writes the stanza to target with 'from' stamped: directly when target is on
// this loop, through its mailbox otherwise. The received bytes are reused; only the
// start tag is rewritten.
func (c *conn) forward(raw []byte, h *stanza.Header, target *conn) {
	bb := bytebufferpool.Get()
	stanza.WriteRewrite(bb, raw, h, c.fromBytes(), nil)
	if !c.runDeliver(bb.B, h, target) {
		c.sendTo(target, bb.B)
	}
	bytebufferpool.Put(bb)
}

// sendTo hands b to target: a direct write when target shares this loop (we are on
// it now, so its connection is ours to write), the mailbox otherwise.
func (c *conn) sendTo(target *conn, b []byte) {
	stanzaOut(c.srv.metrics, b)
	if target.gc.EventLoop() == c.gc.EventLoop() {
		if !target.closing {
			target.write(b)
		}
		return
	}
	target.deliver(b)
}

// fromBytes is the sender's full JID as bytes, without copying.
func (c *conn) fromBytes() []byte {
	s := c.stream.jid.String()
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// replyError answers a stanza with a stanza error of the condition's default type,
// unless the stanza is itself an error (RFC 6120 8.3.1).
func (c *conn) replyError(raw []byte, h *stanza.Header, cond stanza.StanzaCondition) {
	if h.IsError() {
		return
	}
	bb := bytebufferpool.Get()
	bb.B = stanza.AppendErrorReply(bb.B, raw, h, stanza.StanzaError{Condition: cond})
	c.writeStanza(bb.B)
	bytebufferpool.Put(bb)
}

// onOwnPresence handles presence without 'to': availability and priority for routing,
// and the broadcast to the user's own available resources (RFC 6121 4.2.2, 4.5.2). A
// resource that becomes available also receives the current presence of the others.
// Roster subscribers are the presence module's business.
func (c *conn) onOwnPresence(raw []byte, h *stanza.Header) {
	s := &c.stream
	wasAvailable := s.available
	switch string(h.Type) {
	case "":
		s.available = true
		s.priority = stanza.PresencePriority(raw)
	case "unavailable":
		s.available = false
	default:
		return
	}
	c.pres.Store(packPresence(s.available, s.priority))
	bb := bytebufferpool.Get()
	stanza.WriteRewrite(bb, raw, h, c.fromBytes(), nil)
	if s.available {
		last := append([]byte(nil), bb.B...)
		c.lastPres.Store(&last)
	} else {
		c.lastPres.Store(nil)
	}
	for _, other := range c.srv.sessions.Lookup(s.bare()) {
		if avail, _ := other.presenceOf(); avail || other == c || wasAvailable {
			c.sendTo(other, bb.B)
		}
		if other != c && s.available && !wasAvailable {
			if p := other.lastPres.Load(); p != nil {
				c.writeStanza(*p)
			}
		}
	}
	bytebufferpool.Put(bb)
}

// broadcastGone tells the user's other resources that this one went away without
// saying so (RFC 6121 4.5.2 / 4.6). On the loop, from OnClose.
func (c *conn) broadcastGone() {
	s := &c.stream
	if !s.available {
		return
	}
	s.available = false
	c.pres.Store(0)
	c.lastPres.Store(nil)
	b := make([]byte, 0, 96)
	b = append(b, "<presence from='"...)
	b = stanza.EscapeAttr(b, s.jid.String())
	b = append(b, "' type='unavailable'/>"...)
	for _, other := range c.srv.sessions.Lookup(s.bare()) {
		if avail, _ := other.presenceOf(); avail && other != c {
			c.sendTo(other, b)
		}
	}
}
