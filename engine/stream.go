package engine

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/engine/sasl"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
	"github.com/hermod-im/hermod/xmlscan"
)

// Namespaces of RFC 6120 that the stream negotiation speaks.
const (
	nsStreams = "http://etherx.jabber.org/streams"
	nsClient  = "jabber:client"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsXML     = "http://www.w3.org/XML/1998/namespace"
)

// stream is the transport-independent state of one client stream (RFC 6120): what has
// been negotiated and who the client is. It belongs to the connection's loop.
type stream struct {
	state      streamState
	headerSent bool  // our stream header has been written for the current stream
	secured    bool  // TLS is established
	failures   uint8 // failed SASL attempts, saturating
	bound      bool
	replaced   bool // a newer session took the resource (RFC 6120 7.7.2.2)
	available  bool
	priority   int8
	// The flags come first and together: an idle server holds one stream per
	// connection, and padding between scattered flags costs a size class.

	domain string
	lang   string

	// SASL
	auth *saslExchange
	user string // authenticated localpart

	// After binding: the full JID (bare() is a substring of it).
	jid jid.JID
}

// bare returns the bound bare JID; it does not allocate.
func (s *stream) bare() string { return s.jid.Bare().String() }

type streamState uint8

const (
	stWaitHeader streamState = iota // waiting for the client's (first or restarted) header
	stNegotiate                     // header exchanged, features offered
	stAuthed                        // SASL done; waiting for the restarted header
	stBound                         // a resource is bound: stanzas are routed
)

// scanNext says what feed must do after scan returns.
type scanNext uint8

const (
	scanMore     scanNext = iota // need more input, or stopped (busy/closing)
	scanStartTLS                 // the rest of the input is TLS ciphertext
)

// scan tokenizes buf and handles each complete header and stanza. It returns how many
// leading bytes of buf are no longer needed, and what to do next.
func (c *conn) scan(buf []byte) (int, scanNext) {
	for {
		// Only top-level events matter here: the scanner validates a stanza's inside
		// without describing it, and the stanza's bytes are forwarded as received.
		tok, err := c.sc.NextStanza(buf)
		if err == xmlscan.ErrNeedMore {
			return c.dropPoint(), scanMore
		}
		if err != nil {
			c.xmlError(err)
			return 0, scanMore
		}
		switch {
		case tok.Kind == xmlscan.StartTag && tok.Depth == 0:
			c.onHeader(tok)
		case tok.StreamEnd:
			c.closeStream()
		}
		if tok.StanzaEnd {
			if next := c.onStanza(tok); next != scanMore {
				return c.sc.Keep(), next
			}
		}
		if c.closing || c.busy {
			return c.dropPoint(), scanMore
		}
	}
}

// dropPoint is how much of the input can go: the scanner keeps an unfinished
// stanza whole (its bytes are forwarded as received).
func (c *conn) dropPoint() int { return c.sc.Keep() }

// onHeader checks the client's stream header (RFC 6120 4.7) and answers with ours and
// the features of the current stage.
func (c *conn) onHeader(tok xmlscan.Token) {
	s := &c.stream
	if string(tok.Local) != "stream" || string(tok.Space) != nsStreams {
		c.streamError(stanza.StreamError{Condition: stanza.StreamInvalidNamespace})
		return
	}
	if string(tok.Prefix) != "stream" {
		c.streamError(stanza.StreamError{Condition: stanza.StreamBadNamespacePrefix})
		return
	}
	if ns, _ := defaultNamespace(c.sc); ns != nsClient {
		c.streamError(stanza.StreamError{Condition: stanza.StreamInvalidNamespace})
		return
	}
	to, _ := c.sc.AttrValue("", "to")
	domain, ok := c.srv.servedDomain(to)
	if !ok {
		c.streamError(stanza.StreamError{Condition: stanza.StreamHostUnknown})
		return
	}
	if s.domain != "" && domain != s.domain {
		// A restarted stream must name the same service.
		c.streamError(stanza.StreamError{Condition: stanza.StreamHostUnknown})
		return
	}
	c.host = c.srv.hostAPI[domain]
	if c.host != nil {
		domain = c.host.domain // one string for every stream of the host
	}
	s.domain = domain
	if lang, ok := c.sc.AttrValue(nsXML, "lang"); ok && len(lang) > 0 && len(lang) < 36 {
		switch {
		case string(lang) == s.lang: // a restarted stream: keep the string
		case string(lang) == "en":
			s.lang = "en" // the usual case, without a copy per stream
		default:
			s.lang = string(lang)
		}
	} else if s.lang == "" {
		s.lang = "en"
	}
	if v, ok := c.sc.AttrValue("", "version"); !ok || !versionOK(v) {
		c.streamError(stanza.StreamError{Condition: stanza.StreamUnsupportedVersion})
		return
	}
	c.writeHeader()
	c.writeFeatures()
	if s.user != "" {
		s.state = stAuthed
	} else {
		s.state = stNegotiate
		c.setDeadline(c.lis.authTimeout)
	}
}

// versionOK reports whether a stream version is 1.x or higher (RFC 6120 4.7.5: a major
// version of at least 1, compared as integers).
func versionOK(v []byte) bool {
	major := 0
	i := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		major = major*10 + int(v[i]-'0')
		if major > 1000 {
			break
		}
	}
	return i > 0 && i < len(v) && v[i] == '.' && major >= 1
}

// defaultNamespace finds the xmlns declaration of the last start tag.
func defaultNamespace(sc *xmlscan.Scanner) (string, bool) {
	for i := range sc.NumAttrs() {
		a := sc.Attr(i)
		if len(a.Prefix) == 0 && string(a.Local) == "xmlns" {
			return string(a.Value), true
		}
	}
	return "", false
}

// writeHeader sends our stream header for the current stream.
func (c *conn) writeHeader() {
	s := &c.stream
	bb := bytebufferpool.Get()
	defer bytebufferpool.Put(bb)
	b := append(bb.B, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='"...)
	b = appendID(b) // nothing refers to it later: it is not kept
	b = append(b, "' from='"...)
	b = stanza.EscapeAttr(b, s.domain)
	b = append(b, "' version='1.0' xml:lang='"...)
	b = stanza.EscapeAttr(b, s.lang)
	b = append(b, "'>"...)
	c.write(b)
	bb.B = b
	s.headerSent = true
}

// writeFeatures offers what the client may negotiate next (RFC 6120 4.3.2).
func (c *conn) writeFeatures() {
	s := &c.stream
	bb := bytebufferpool.Get()
	defer bytebufferpool.Put(bb)
	b := append(bb.B, "<stream:features>"...)
	switch {
	case s.user != "":
		b = append(b, "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"...)
		if c.host != nil {
			for _, f := range c.host.featuresPost {
				b = append(b, f...)
			}
		}
	default:
		if c.host != nil && (s.secured || c.lis.tls != tlsRequired) {
			for _, f := range c.host.featuresPre {
				b = append(b, f...)
			}
		}
		if !s.secured && c.lis.tls != tlsOff && c.srv.tlsConfig != nil {
			b = append(b, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"...)
			if c.lis.tls == tlsRequired {
				b = append(b, "<required/>"...)
			}
			b = append(b, "</starttls>"...)
		}
		if s.secured || c.lis.tls != tlsRequired {
			b = c.appendMechanisms(b)
		}
	}
	b = append(b, "</stream:features>"...)
	c.write(b)
	bb.B = b
}

// onStanza handles one complete depth-1 element.
func (c *conn) onStanza(tok xmlscan.Token) scanNext {
	s := &c.stream
	space, local := string(tok.Space), string(tok.Local)
	switch s.state {
	case stBound:
		if space == nsClient && (local == "message" || local == "presence" || local == "iq") {
			c.onClientStanza(tok.Stanza)
			return scanMore
		}
	case stNegotiate:
		switch space {
		case nsTLS:
			if local == "starttls" && !s.secured && c.lis.tls != tlsOff && c.srv.tlsConfig != nil {
				c.writeString("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
				s.state = stWaitHeader
				return scanStartTLS
			}
			c.writeString("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
			c.closeStream()
			return scanMore
		case nsSASL:
			if c.lis.tls == tlsRequired && !s.secured {
				// STARTTLS is mandatory-to-negotiate here (RFC 6120 5.3.1).
				c.saslFailure(sasl.EncryptionRequired, "")
				c.streamError(stanza.StreamError{Condition: stanza.StreamPolicyViolation, Text: "STARTTLS is required"})
				return scanMore
			}
			return c.onSASL(local, tok.Stanza)
		case nsClient:
			if c.lis.tls == tlsRequired && !s.secured {
				c.streamError(stanza.StreamError{Condition: stanza.StreamPolicyViolation, Text: "STARTTLS is required"})
				return scanMore
			}
			if local == "iq" && c.preAuthIQ(tok.Stanza) {
				return scanMore
			}
			if local == "iq" || local == "message" || local == "presence" {
				c.notAuthorized(tok.Stanza)
				return scanMore
			}
		}
	case stAuthed:
		if space == nsClient && local == "iq" {
			c.srv.metrics.StanzaIn(kindByInitial(local[0]))
			c.onPreBindIQ(tok.Stanza)
			return scanMore
		}
		if space == nsClient && (local == "message" || local == "presence") {
			c.srv.metrics.StanzaIn(kindByInitial(local[0]))
			c.notAuthorized(tok.Stanza)
			return scanMore
		}
	}
	c.streamError(stanza.StreamError{Condition: stanza.StreamUnsupportedStanzaType})
	return scanMore
}

// notAuthorized answers a stanza sent before the stream is authenticated and bound
// (RFC 6120 6.4.1: the stanza is not processed; iq gets an error).
func (c *conn) notAuthorized(raw []byte) {
	var h stanza.Header
	if stanza.ParseHeader(raw, &h) != nil {
		c.streamError(stanza.StreamError{Condition: stanza.StreamNotWellFormed})
		return
	}
	if h.Kind != stanza.IQ || h.IsError() {
		return
	}
	c.writeStanza(stanza.AppendErrorReply(nil, raw, &h, stanza.StanzaError{Condition: stanza.NotAuthorized}))
}

// streamError ends the stream with an error (RFC 6120 4.9), sending our header first
// when it has not been sent.
func (c *conn) streamError(e stanza.StreamError) {
	if c.closing {
		return
	}
	if !c.stream.headerSent {
		if c.stream.domain == "" {
			c.stream.domain = c.srv.defaultDomain
		}
		if c.stream.lang == "" {
			c.stream.lang = "en"
		}
		c.writeHeader()
	}
	c.srv.log.Debug("c2s: stream error", "remote", c.gc.RemoteAddr(), "condition", e.Condition, "text", e.Text)
	c.write(e.AppendXML(nil))
	c.closeStream()
}

// xmlError maps a scanner rejection to its stream error.
func (c *conn) xmlError(err error) {
	cond := stanza.StreamNotWellFormed
	if xe, ok := err.(*xmlscan.Error); ok {
		switch xe.Code {
		case xmlscan.RestrictedXML:
			cond = stanza.StreamRestrictedXML
		case xmlscan.PolicyViolation:
			cond = stanza.StreamPolicyViolation
		case xmlscan.BadNamespacePrefix:
			cond = stanza.StreamBadNamespacePrefix
		}
	}
	c.streamError(stanza.StreamError{Condition: cond, Text: err.Error()})
}

// newID returns a random stream or resource identifier.
func newID() string { return string(appendID(make([]byte, 0, 16))) }

// appendID appends a random identifier (what newID returns) to b.
func appendID(b []byte) []byte {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return hex.AppendEncode(b, r[:])
}

// unescape decodes entity and character references in a raw attribute value.
func unescape(raw []byte) ([]byte, error) {
	return xmlscan.Unescape(make([]byte, 0, len(raw)), raw)
}
