package engine

import (
	"context"
	"net"

	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Session is a bound resource as modules see it: the connection itself under a type
// that shows modules only these methods (a conversion, not an object per session).
// Its methods are safe from any goroutine.
type Session conn

func (c *conn) session() *Session { return (*Session)(c) }

// JID returns the session's full JID.
func (s *Session) JID() jid.JID { return (*conn)(s).stream.jid }

// Available reports whether the session has sent available presence, and its priority.
func (s *Session) Available() (bool, int8) { return (*conn)(s).presenceOf() }

// LastPresence returns the session's latest available presence as broadcast ('from'
// stamped), or nil while unavailable. The slice must not be modified.
func (s *Session) LastPresence() []byte {
	if p := (*conn)(s).lastPres.Load(); p != nil {
		return *p
	}
	return nil
}

// Send queues raw stanza bytes for the client, copying them.
func (s *Session) Send(raw []byte) {
	c := (*conn)(s)
	stanzaOut(c.srv.metrics, raw)
	c.deliver(raw)
}

// Host returns the host the session belongs to.
func (s *Session) Host() *Host { return (*conn)(s).host }

// IQHandler answers an iq get or set. It runs on a worker and may block; it must call
// Result or Error exactly once before returning (the engine answers
// internal-server-error for a handler that did not).
type IQHandler func(iq *IQ)

// IQ is an iq request handed to a module.
type IQ struct {
	Host *Host
	// From is the sender's full JID.
	From jid.JID
	// To is the addressee: the host's domain, an account's bare JID, or, when the
	// request had no 'to', the sender's own bare JID (then ToAbsent is true).
	To       jid.JID
	ToAbsent bool
	Type     string // "get" or "set"
	ID       string
	Lang     string
	// Payload is the single child element; it is released when the handler returns.
	Payload *stanza.Element
	// Session is the sender's session; nil for an iq sent before authentication.
	Session *Session
	// Secure reports that the stream runs over TLS.
	Secure bool
	// RemoteAddr is the client's address (for rate limits).
	RemoteAddr net.Addr
	replied    bool
	send       func([]byte) // where replies go
}

// Result answers with type='result' carrying payload (well-formed XML, may be empty).
func (iq *IQ) Result(payload []byte) {
	iq.reply("result", func(b []byte) []byte { return append(b, payload...) }, len(payload) > 0)
}

// Error answers with a stanza error.
func (iq *IQ) Error(e stanza.StanzaError) {
	iq.reply("error", func(b []byte) []byte { return e.AppendXML(b) }, true)
}

func (iq *IQ) reply(typ string, body func([]byte) []byte, hasBody bool) {
	if iq.replied {
		return
	}
	iq.replied = true
	bb := bytebufferpool.Get()
	b := append(bb.B[:0], "<iq type='"...)
	b = append(b, typ...)
	b = append(b, "' id='"...)
	b = stanza.EscapeAttr(b, iq.ID)
	if !iq.From.IsZero() {
		b = append(b, "' to='"...)
		b = stanza.EscapeAttr(b, iq.From.String())
	}
	if !iq.ToAbsent {
		b = append(b, "' from='"...)
		b = stanza.EscapeAttr(b, iq.To.String())
	}
	if !hasBody {
		b = append(b, "'/>"...)
	} else {
		b = append(b, "'>"...)
		b = body(b)
		b = append(b, "</iq>"...)
	}
	bb.B = b
	iq.send(bb.B)
	bytebufferpool.Put(bb)
}

// dispatchIQ hands an iq to the module registered for its payload namespace. It
// reports false when no module handles the namespace. On the loop; takes ownership of
// el.
func (c *conn) dispatchIQ(h *stanza.Header, el *stanza.Element, payload *stanza.Element) bool {
	host := c.host
	if host == nil {
		return false
	}
	handlers := host.iq
	if !c.stream.bound {
		handlers = host.preAuthIQ
	}
	fn, ok := handlers[string(payload.Space())]
	if !ok {
		return false
	}
	iq := &IQ{
		Host:       host,
		From:       c.stream.jid,
		Type:       string(h.Type),
		ID:         string(h.ID),
		Lang:       c.stream.lang,
		Payload:    payload,
		send:       (*Session)(c).Send,
		Secure:     c.tlsState == tlsReady,
		RemoteAddr: c.gc.RemoteAddr(),
	}
	if c.stream.bound {
		iq.Session = c.session()
	}
	if h.Lang != nil {
		iq.Lang = string(h.Lang)
	}
	if h.To == nil {
		iq.ToAbsent = true
		if c.stream.bound {
			iq.To = c.stream.jid.Bare()
		}
	} else {
		to, err := jid.ParseBytes(h.To)
		if err != nil {
			el.Release()
			return false
		}
		iq.To = to
	}
	ok = c.srv.workers.submit(func() {
		defer el.Release()
		defer func() {
			if r := recover(); r != nil {
				host.log.Error("iq handler panicked", "ns", string(payload.Space()), "panic", r)
				iq.Error(stanza.StanzaError{Condition: stanza.InternalServerError})
			}
		}()
		fn(iq)
		if !iq.replied {
			host.log.Error("iq handler returned without answering", "ns", string(payload.Space()))
			iq.Error(stanza.StanzaError{Condition: stanza.InternalServerError})
		}
	})
	if !ok {
		el.Release()
		iq.Error(stanza.StanzaError{Condition: stanza.ResourceConstraint})
	}
	return true
}

// runHooks runs hooks on a pooled Stanza describing raw until one stops it. The
// caller's header is copied, so that a stanza nobody hooks never reaches the heap.
func (c *conn) runHooks(hooks []hook[StanzaHook], host *Host, raw []byte, h *stanza.Header, to jid.JID, sess *Session) bool {
	st := c.srv.stanzas.Get().(*Stanza)
	*st = Stanza{Host: host, Raw: raw, From: c.stream.jid, To: to, Session: sess}
	if h != nil {
		st.hdr = *h
	} else if stanza.ParseHeader(raw, &st.hdr) != nil {
		c.srv.stanzas.Put(st)
		return false
	}
	st.Header = &st.hdr
	stopped := false
	for _, hk := range hooks {
		if hk.fn(st) == Stop {
			stopped = true
			break
		}
	}
	*st = Stanza{}
	c.srv.stanzas.Put(st)
	return stopped
}

// runUserSend runs the host's user-send hooks. It reports true when one stopped the
// stanza. On the loop.
func (c *conn) runUserSend(raw []byte, h *stanza.Header, to jid.JID) bool {
	host := c.host
	if host == nil || len(host.userSend) == 0 {
		return false
	}
	return c.runHooks(host.userSend, host, raw, h, to, c.session())
}

// runDeliver runs the recipient host's deliver hooks for raw (already stamped) bound
// for target. It reports true when one stopped it. On the sender's loop.
func (c *conn) runDeliver(raw []byte, h *stanza.Header, target *conn) bool {
	host := target.host
	if host == nil || len(host.deliver) == 0 {
		return false
	}
	// The header is parsed again from the stamped bytes, so that it describes Raw.
	return c.runHooks(host.deliver, host, raw, nil, jid.JID{}, target.session())
}

// runUndeliverable offers a message no resource can take to the hooks (offline
// storage); to is the addressee.
func (c *conn) runUndeliverable(raw []byte, h *stanza.Header, to jid.JID) bool {
	host := c.srv.hostAPI[to.Domainpart()]
	if host == nil || len(host.undeliver) == 0 {
		return false
	}
	return c.runHooks(host.undeliver, host, raw, h, to, nil)
}

// runSessionHooks runs opened or closed hooks on the calling worker.
func runSessionHooks(ctx context.Context, hooks []hook[SessionHook], s *Session) {
	for _, hk := range hooks {
		hk.fn(ctx, s)
	}
}
