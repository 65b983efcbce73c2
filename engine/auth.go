package engine

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/router"
	"github.com/hermod-im/hermod/engine/sasl"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// saslExchange is one SASL authentication in progress on a stream.
type saslExchange struct {
	srv sasl.Server
	// in holds the bytes of the client's latest message for the worker: the loop must not
	// touch them while a step runs.
	in []byte
}

// saslConn describes the connection to the SASL layer. Channel bindings are computed
// when needed rather than kept on every idle connection.
func (c *conn) saslConn() *sasl.Conn {
	sc := &sasl.Conn{Secure: c.tlsState == tlsReady, Domain: c.stream.domain}
	if sc.Secure {
		cs := c.tls.ConnectionState()
		sc.Bindings = sasl.TLSBindings(nil, &cs, c.srv.certs.endPointBinding(&cs))
	}
	return sc
}

// appendMechanisms appends the SASL features of the stream's domain.
func (c *conn) appendMechanisms(b []byte) []byte {
	a := c.srv.authenticator(c.stream.domain)
	if a == nil {
		return b
	}
	return a.AppendFeatures(b, c.saslConn())
}

// onSASL handles <auth/>, <response/> and <abort/> (RFC 6120 6.4).
func (c *conn) onSASL(local string, raw []byte) scanNext {
	el, err := stanza.ParseIn(raw, nsClient)
	if err != nil {
		c.streamError(stanza.StreamError{Condition: stanza.StreamNotWellFormed})
		return scanMore
	}
	defer el.Release()
	switch local {
	case "auth":
		c.stream.auth = nil
		name, _ := el.AttrRaw("", "mechanism")
		mech, ok := sasl.ParseMechanism(name)
		a := c.srv.authenticator(c.stream.domain)
		if !ok || a == nil {
			c.saslFailure(sasl.InvalidMechanism, "")
			return scanMore
		}
		srv, err := a.NewServer(mech, c.saslConn())
		if err != nil {
			c.saslFailure(failureCondition(err), "")
			return scanMore
		}
		in, ok := decodeSASL(el.Text(), true)
		if !ok {
			c.saslFailure(sasl.IncorrectEncoding, "")
			return scanMore
		}
		c.stream.auth = &saslExchange{srv: srv, in: in}
		c.saslStep()
	case "response":
		if c.stream.auth == nil {
			c.saslFailure(sasl.MalformedRequest, "no authentication in progress")
			return scanMore
		}
		in, ok := decodeSASL(el.Text(), false)
		if !ok {
			c.stream.auth = nil
			c.saslFailure(sasl.IncorrectEncoding, "")
			return scanMore
		}
		c.stream.auth.in = in
		c.saslStep()
	case "abort":
		c.stream.auth = nil
		c.saslFailure(sasl.Aborted, "")
	default:
		c.streamError(stanza.StreamError{Condition: stanza.StreamUnsupportedStanzaType})
	}
	return scanMore
}

// decodeSASL decodes the base64 content of <auth/> or <response/>. In <auth/>, no text
// means no initial response (nil) and "=" an empty one (RFC 6120 6.4.2).
func decodeSASL(text string, initial bool) ([]byte, bool) {
	switch text {
	case "":
		if initial {
			return nil, true
		}
		return []byte{}, true
	case "=":
		return []byte{}, true
	}
	b, err := base64.StdEncoding.DecodeString(text)
	return b, err == nil
}

// saslStep runs the exchange's next step on a worker, or here when the step cannot
// block (the SCRAM proof check); the stream waits for it either way.
func (c *conn) saslStep() {
	ex := c.stream.auth
	c.busy = true
	ctx := c.srv.ctx
	if !ex.srv.Blocks(ex.in) {
		// Input after the step is scanned once the current input has been set aside
		// (onTraffic), as after a worker's step, but without the round trip.
		out, done, err := ex.srv.Step(ctx, ex.in)
		c.saslStepFinish(ex, encodeSASL(out), done, err)
		c.resumeSoon = true
		return
	}
	ok := c.srv.workers.submit(func() {
		out, done, err := ex.srv.Step(ctx, ex.in)
		res := encodeSASL(out)
		c.post(func() { c.saslStepDone(ex, res, done, err) })
	})
	if !ok {
		c.busy = false
		c.stream.auth = nil
		c.saslFailure(sasl.TemporaryAuthFailure, "server busy")
	}
}

// encodeSASL returns out in base64, nil for nothing.
func encodeSASL(out []byte) []byte {
	if len(out) == 0 {
		return nil
	}
	res := make([]byte, base64.StdEncoding.EncodedLen(len(out)))
	base64.StdEncoding.Encode(res, out)
	return res
}

// saslStepDone reports a worker's step to the client and resumes the stream. On the
// loop.
func (c *conn) saslStepDone(ex *saslExchange, out []byte, done bool, err error) {
	if c.stream.auth == ex {
		c.saslStepFinish(ex, out, done, err)
	} // else aborted or replaced while the step ran
	c.resume()
}

// saslStepFinish reports a step's outcome (out in base64) to the client. On the loop.
func (c *conn) saslStepFinish(ex *saslExchange, out []byte, done bool, err error) {
	mech := ex.srv.Mechanism().String()
	switch {
	case err != nil:
		c.stream.auth = nil
		c.srv.metrics.Mechanism(mech).Failure()
		c.saslFailure(failureCondition(err), "")
	case !done:
		b := append(make([]byte, 0, len(out)+64), "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"...)
		b = append(b, out...)
		b = append(b, "</challenge>"...)
		c.write(b)
	default:
		c.stream.auth = nil
		user := ex.srv.Username()
		if user == "" {
			// ANONYMOUS: a fresh random localpart (RFC 4505), whose data is removed
			// when the session ends (addAuthHooks).
			user = c.srv.anonymousUser(c.stream.domain)
		}
		c.srv.metrics.Mechanism(mech).Success()
		b := append(make([]byte, 0, len(out)+64), "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"...)
		if len(out) > 0 {
			b = append(b, '>')
			b = append(b, out...)
			b = append(b, "</success>"...)
		} else {
			b = append(b, "/>"...)
		}
		c.write(b)
		c.stream.user = user
		c.stream.state = stWaitHeader
		c.stream.headerSent = false
		// RFC 6120 6.4.6: the stream restarts; bytes that follow are a new header.
		c.sc.Reset()
		c.setDeadline(c.lis.handshakeTimeout)
	}
}

// saslFailure sends <failure/> and ends the stream after too many failed attempts
// (RFC 6120 6.4.5).
func (c *conn) saslFailure(cond sasl.Condition, text string) {
	b := make([]byte, 0, 160)
	b = append(b, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><"...)
	b = append(b, cond.String()...)
	b = append(b, "/>"...)
	if text != "" {
		b = append(b, "<text xml:lang='en'>"...)
		b = stanza.EscapeText(b, text)
		b = append(b, "</text>"...)
	}
	b = append(b, "</failure>"...)
	c.write(b)
	if cond == sasl.Aborted {
		return
	}
	if c.stream.failures < 255 {
		c.stream.failures++
	}
	if int(c.stream.failures) >= c.srv.maxAuthFailures {
		c.streamError(stanza.StreamError{Condition: stanza.StreamPolicyViolation, Text: "too many failed authentication attempts"})
	}
}

func failureCondition(err error) sasl.Condition {
	if f := sasl.AsFailure(err); f != nil {
		return f.Condition
	}
	return sasl.TemporaryAuthFailure
}

// onPreBindIQ handles the iqs allowed between SASL success and binding: resource
// binding (RFC 6120 7) and nothing else.
func (c *conn) onPreBindIQ(raw []byte) {
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil {
		c.streamError(stanza.StreamError{Condition: stanza.StreamNotWellFormed})
		return
	}
	el, err := stanza.ParseIn(raw, nsClient)
	if err != nil {
		c.streamError(stanza.StreamError{Condition: stanza.StreamNotWellFormed})
		return
	}
	defer el.Release()
	bind := el.Child(nsBind, "bind")
	if string(h.Type) != "set" || bind == nil {
		c.replyError(raw, &h, stanza.NotAuthorized)
		return
	}
	c.bind(raw, &h, bind.Child(nsBind, "resource"))
}

// bind binds a client-chosen or generated resource (RFC 6120 7.6, 7.7).
func (c *conn) bind(raw []byte, h *stanza.Header, resEl *stanza.Element) {
	s := &c.stream
	res := ""
	if resEl != nil {
		res = resEl.Text()
	}
	if res == "" {
		res = newID()
	}
	full, err := jid.New(s.user, s.domain, res)
	if err != nil {
		c.replyError(raw, h, stanza.BadRequest)
		return
	}
	s.jid = full
	s.user = full.Localpart() // the same name, without holding SASL's copy
	result, old := c.srv.sessions.Bind(full.Bare().String(), c, c.srv.replaceOnConflict)
	switch result {
	case router.Refused:
		s.jid = jid.JID{}
		c.replyError(raw, h, stanza.Conflict)
		return
	case router.Replaced:
		// RFC 6120 7.7.2.2: the older session ends with a conflict stream error.
		old.post(func() {
			old.stream.replaced = true // its resource now belongs to the new session
			old.streamError(stanza.StreamError{Condition: stanza.StreamConflict, Text: "replaced by a new session"})
		})
	}
	s.bound = true
	s.state = stBound
	c.srv.metrics.SessionOpened()
	c.setDeadline(c.lis.idleTimeout)
	b := make([]byte, 0, 160)
	b = append(b, "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"...)
	b = stanza.EscapeText(b, full.String())
	b = append(b, "</jid></bind>"...)
	if c.host == nil || len(c.host.opened) == 0 {
		c.replyResult(h, b)
		return
	}
	// Modules load what the session needs (roster, privacy lists) off the loop; the
	// client hears of its binding, and its next stanza is read, once they are done.
	reply := stanza.AppendIQResult(nil, h, b)
	c.busy = true
	host, sess, ctx := c.host, c.session(), c.srv.ctx
	if !c.srv.workers.submit(func() {
		runSessionHooks(ctx, host.opened, sess)
		c.post(func() {
			c.writeStanza(reply)
			c.resume()
		})
	}) {
		c.busy = false
		c.writeStanza(reply)
		host.log.Warn("session-opened hooks skipped: worker queue full", "jid", full.String())
	}
}

// closeAuthMethods releases the authentication methods of every host (connection
// pools, external programs). It runs once, when Serve returns or New fails.
func (s *Server) closeAuthMethods() {
	for domain, m := range s.authMethods {
		if err := m.Close(); err != nil {
			s.log.Warn("closing authentication methods", "host", domain, "err", err)
		}
	}
	clear(s.authMethods)
}

// anonymousUser returns a fresh localpart for an ANONYMOUS login on domain. Safe from
// any goroutine.
func (s *Server) anonymousUser(domain string) string {
	if m := s.authMethods[domain]; m != nil && m.Anonymous != nil {
		return m.Anonymous.NewUser()
	}
	return newID()
}

// UserExists reports whether user (a prepared localpart) is an account of the host for
// its authentication methods, asked in the configured order: internal accounts,
// the mysql table, the http service's user_exists, the external program's isuser. A
// jwt-only host cannot tell and says false. An ANONYMOUS user exists while its
// session is bound. An error means a method could not answer and none said yes.
// Modules ask this (or CheckUser), never the store, so that users of the other methods
// are known too. Safe
// from any goroutine; it blocks on the methods, so never call it on an event loop.
func (h *Host) UserExists(ctx context.Context, user string) (bool, error) {
	return h.srv.userExists(ctx, h.domain, user)
}

// userExists is UserExists for any host the server serves (false for other domains).
func (s *Server) userExists(ctx context.Context, domain, user string) (bool, error) {
	m := s.authMethods[domain]
	if m == nil {
		return false, nil
	}
	if m.Anonymous != nil && m.Anonymous.Is(user) {
		return len(s.sessions.Lookup(user+"@"+domain)) > 0, nil
	}
	return m.Chain.UserExists(ctx, user)
}

// CheckUser is UserExists as an error, for an account of any host this server serves
// (a contact on a sibling host, too): nil when user@domain exists, an error wrapping
// backends.ErrNotFound when no method of its host knows it, the methods' error when
// none could answer. Safe from any goroutine; it blocks, so never on an event loop.
func (h *Host) CheckUser(ctx context.Context, domain, user string) error {
	ok, err := h.srv.userExists(ctx, domain, user)
	switch {
	case err != nil:
		return fmt.Errorf("engine: does %s@%s exist: %w", user, domain, err)
	case !ok:
		return fmt.Errorf("engine: %s@%s: %w", user, domain, backends.ErrNotFound)
	}
	return nil
}

// anonymousCleanupPriority runs the anonymous clean-up after every module's
// session-closed hook, so none of them writes the user's data back afterwards.
const anonymousCleanupPriority = PriorityLast + 50

// addAuthHooks registers what the host's authentication methods need on h: when an
// ANONYMOUS user's session ends, the user is removed (RemoveUser), so modules drop
// its roster, private data and the rest. Called once per host before its modules
// start.
func (s *Server) addAuthHooks(h *Host) {
	m := s.authMethods[h.domain]
	if m == nil || m.Anonymous == nil {
		return
	}
	anon := m.Anonymous
	h.OnSessionClosed(anonymousCleanupPriority, func(_ context.Context, sess *Session) {
		j := sess.JID()
		if !anon.Is(j.Localpart()) {
			return
		}
		s.RemoveUser(j.Bare())
		h.log.Debug("anonymous user removed at logout", "jid", j.Bare().String())
	})
}
