package client

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/xmlscan"
)

// Namespaces the client recognises.
const (
	nsStreams = "http://etherx.jabber.org/streams"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsPing    = "urn:xmpp:ping"
)

// ErrStreamClosed is returned by ReadStanza when the server closed the stream
// (</stream:stream>) or the connection.
var ErrStreamClosed = errors.New("client: stream closed by server")

// StreamError is a <stream:error/> received from the server.
type StreamError struct {
	Raw string // the whole element
}

func (e *StreamError) Error() string { return "client: stream error: " + e.Raw }

// Stanza is one top-level element received. Its slices alias the connection's read
// buffer: they are valid until the next ReadStanza or Close on that connection.
type Stanza struct {
	Name  []byte // local name: message, presence, iq, features, success...
	Space []byte // namespace
	Raw   []byte // the whole element as received
}

// Is reports whether the stanza is the element local in namespace space.
func (s Stanza) Is(space, local string) bool {
	return string(s.Name) == local && string(s.Space) == space
}

// Conn is one authenticated, bound stream.
//
// ReadStanza (and Ping, Close, which read) must be called from one goroutine at a
// time; Write may be called from any goroutine, concurrently with reading.
type Conn struct {
	nc     *net.TCPConn // the socket, for linger; nil over BOSH (several HTTP connections)
	rw     net.Conn     // nc, the tls.Conn over it, or a web transport (web.go, bosh.go)
	sc     *xmlscan.Scanner
	buf    []byte
	domain string
	jid    string
	pings  atomic.Uint64
	closed bool
}

// initialBuffer is the read buffer a connection starts with; it grows to hold the
// largest stanza seen and Compact can give it back.
const initialBuffer = 2048

func newConn(nc *net.TCPConn, domain string) *Conn {
	return &Conn{nc: nc, rw: nc, sc: xmlscan.New(xmlscan.Limits{}), buf: make([]byte, 0, initialBuffer), domain: domain}
}

// JID returns the full JID the server bound.
func (c *Conn) JID() string { return c.jid }

// LocalAddr returns the connection's local address.
func (c *Conn) LocalAddr() net.Addr { return c.rw.LocalAddr() }

// Write writes b to the stream as it is. Any goroutine may call it.
func (c *Conn) Write(b []byte) error {
	if _, err := c.rw.Write(b); err != nil {
		return fmt.Errorf("client: write: %w", err)
	}
	return nil
}

// SetReadDeadline bounds the next reads; the zero time removes the bound.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.rw.SetReadDeadline(t) }

// token returns the next top-level event (stream header, whole stanza, text between
// stanzas, stream end: xmlscan's NextStanza, which validates a stanza's content
// without building its tokens), reading from the socket as needed. The returned
// slices stay valid until the next call.
func (c *Conn) token() (xmlscan.Token, error) {
	for {
		t, err := c.sc.NextStanza(c.buf)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, xmlscan.ErrNeedMore) {
			return t, fmt.Errorf("client: parse: %w", err)
		}
		if k := c.sc.Keep(); k > 0 {
			n := copy(c.buf, c.buf[k:])
			c.buf = c.buf[:n]
			if err := c.sc.Shift(k); err != nil {
				return t, fmt.Errorf("client: %w", err)
			}
		}
		if len(c.buf) == cap(c.buf) {
			nb := make([]byte, len(c.buf), max(2*cap(c.buf), initialBuffer))
			copy(nb, c.buf)
			c.buf = nb
		}
		n, err := c.rw.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return t, ErrStreamClosed
			}
			return t, fmt.Errorf("client: read: %w", err)
		}
	}
}

// ReadStanza returns the next top-level element, skipping whitespace. A stream error
// is returned as *StreamError, the end of the stream as ErrStreamClosed.
func (c *Conn) ReadStanza() (Stanza, error) {
	for {
		t, err := c.token()
		if err != nil {
			return Stanza{}, err
		}
		if t.StreamEnd {
			return Stanza{}, ErrStreamClosed
		}
		if !t.StanzaEnd {
			if t.Kind == xmlscan.StartTag && t.Depth == 0 {
				return Stanza{}, errors.New("client: unexpected stream header")
			}
			continue
		}
		s := Stanza{Name: t.Local, Space: t.Space, Raw: t.Stanza}
		if s.Is(nsStreams, "error") {
			return s, &StreamError{Raw: string(s.Raw)}
		}
		return s, nil
	}
}

// readHeader waits for the server's stream header.
func (c *Conn) readHeader() error {
	for {
		t, err := c.token()
		if err != nil {
			return err
		}
		if t.Kind == xmlscan.StartTag && t.Depth == 0 {
			if string(t.Local) != "stream" || string(t.Space) != nsStreams {
				return fmt.Errorf("client: server opened <%s xmlns=%q>, not a stream", t.Local, t.Space)
			}
			if t.StreamEnd {
				return ErrStreamClosed
			}
			return nil
		}
		if t.StanzaEnd {
			return fmt.Errorf("client: %q before the stream header", t.Stanza)
		}
	}
}

// restart prepares for a new stream on the same transport (after SASL success), or on
// a new one (after STARTTLS: rw changes and no buffered byte may be reused).
func (c *Conn) restart(rw net.Conn) error {
	c.sc.Reset()
	k := c.sc.Keep()
	if rw != nil {
		k = len(c.buf) // plaintext read ahead of the TLS handshake is discarded
		c.rw = rw
	}
	n := copy(c.buf, c.buf[k:])
	c.buf = c.buf[:n]
	if rw != nil {
		c.sc.Recycle()
		return nil
	}
	if err := c.sc.Shift(k); err != nil {
		return fmt.Errorf("client: restart: %w", err)
	}
	return nil
}

// Compact gives back a read buffer that grew beyond the initial size and holds no
// unread bytes, and the scanner's spare capacity, for connections that will stay
// idle. Call it from the reading goroutine.
func (c *Conn) Compact() {
	if len(c.buf) != c.sc.Keep() {
		return // unread bytes: not idle
	}
	if err := c.sc.Shift(len(c.buf)); err != nil {
		return
	}
	if cap(c.buf) > initialBuffer {
		c.buf = make([]byte, 0, initialBuffer)
	} else {
		c.buf = c.buf[:0]
	}
	c.sc.Compact()
}

// Ping sends an XEP-0199 ping to the server and reads until the answer: a result, or
// an error (a server without ping still proves the session alive). Other stanzas that
// arrive meanwhile are skipped. Call it from the reading goroutine.
func (c *Conn) Ping(timeout time.Duration) error {
	id := "p" + strconv.FormatUint(c.pings.Add(1), 10)
	if err := c.rw.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("client: ping: %w", err)
	}
	defer c.rw.SetDeadline(time.Time{})
	if err := c.Write([]byte("<iq type='get' id='" + id + "' to='" + c.domain + "'><ping xmlns='" + nsPing + "'/></iq>")); err != nil {
		return err
	}
	for {
		s, err := c.ReadStanza()
		if err != nil {
			return fmt.Errorf("client: ping: %w", err)
		}
		if string(s.Name) == "iq" && string(Attr(s.Raw, "id")) == id {
			return nil
		}
	}
}

// Close ends the stream: it sends </stream:stream>, waits up to wait for the server to
// close its side (wait 0: not at all), and closes the socket with SO_LINGER 0 so that
// no TIME_WAIT entry holds the client's port (a login loop would otherwise run out of
// ports). Call it from the reading goroutine, or when no goroutine reads.
func (c *Conn) Close(wait time.Duration) error {
	if c.closed {
		return nil
	}
	_ = c.rw.SetDeadline(time.Now().Add(max(wait, time.Second)))
	_, err := c.rw.Write([]byte("</stream:stream>"))
	if err == nil && wait > 0 {
		_ = c.rw.SetDeadline(time.Now().Add(wait))
		for {
			if _, err = c.ReadStanza(); err != nil {
				break
			}
		}
		if errors.Is(err, ErrStreamClosed) {
			err = nil
		}
	}
	c.Abort()
	if err != nil {
		return fmt.Errorf("client: close: %w", err)
	}
	return nil
}

// Abort closes the socket at once with a reset. Any goroutine may call it; a reader
// blocked in ReadStanza returns an error.
func (c *Conn) Abort() {
	c.closed = true
	if c.nc != nil {
		_ = c.nc.SetLinger(0)
		_ = c.nc.Close()
	}
	if c.nc == nil || c.rw != net.Conn(c.nc) {
		_ = c.rw.Close()
	}
}

// Attr returns the value of attribute name of the first start tag of raw, undecoded
// (the harness compares ids and JIDs it chose itself), or nil.
func Attr(raw []byte, name string) []byte {
	end := bytes.IndexByte(raw, '>')
	if end < 0 || name == "" {
		return nil
	}
	tag := raw[:end]
	for i := 0; i < len(tag); {
		j := bytes.Index(tag[i:], []byte(name))
		if j < 0 {
			return nil
		}
		j += i
		k := j + len(name)
		if j > 0 && isSpace(tag[j-1]) && k+1 < len(tag) && tag[k] == '=' && (tag[k+1] == '\'' || tag[k+1] == '"') {
			q := tag[k+1]
			if e := bytes.IndexByte(tag[k+2:], q); e >= 0 {
				return tag[k+2 : k+2+e]
			}
			return nil
		}
		i = k
	}
	return nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// Text returns the character data of the first child element named child of raw
// (e.g. "body", "jid"), undecoded, or nil. A child written as <child/> gives an empty,
// non-nil slice.
func Text(raw []byte, child string) []byte {
	open := []byte("<" + child)
	for i := 0; i < len(raw); {
		j := bytes.Index(raw[i:], open)
		if j < 0 {
			return nil
		}
		j += i + len(open)
		if j >= len(raw) {
			return nil
		}
		switch raw[j] {
		case '>', ' ', '\t', '\n', '\r', '/':
		default:
			i = j // a longer name: <bodyx>
			continue
		}
		gt := bytes.IndexByte(raw[j:], '>')
		if gt < 0 {
			return nil
		}
		gt += j
		if raw[gt-1] == '/' {
			return raw[gt:gt]
		}
		lt := bytes.IndexByte(raw[gt+1:], '<')
		if lt < 0 {
			return nil
		}
		return raw[gt+1 : gt+1+lt]
	}
	return nil
}

// tlsConfig returns the configuration STARTTLS uses: the caller's, or one that skips
// verification (benchmark servers use self-signed certificates).
func tlsConfig(cfg *tls.Config, domain string) *tls.Config {
	if cfg != nil {
		return cfg
	}
	return &tls.Config{ServerName: domain, InsecureSkipVerify: true} //nolint:gosec // loopback benchmark peers
}
