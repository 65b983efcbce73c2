package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The web transports (RFC 7395 WebSocket, XEP-0206 BOSH) are adapters: each is a
// net.Conn that the rest of the client reads and writes as if it were a TCP XMPP
// stream. Writes are whole elements (the client writes one element per call); the
// stream header and </stream:stream> become the transport's own open and close, and
// stanzas get the jabber:client namespace the framing requires. Reads give the
// server's elements back as a stream, with a synthetic stream header wherever the
// server opened (or reopened) the stream.

const nsFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// syntheticHeader stands for the server's stream header.
const syntheticHeader = "<stream:stream xmlns='jabber:client' xmlns:stream='" + nsStreams + "' version='1.0'>"

// isHeader reports whether b, a client write, is a stream header.
func isHeader(b []byte) bool { return bytes.Contains(b, []byte("<stream:stream")) }

// isStreamEnd reports whether b, a client write, closes the stream.
func isStreamEnd(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("</stream:stream>")) }

// withClientNS returns stanza b with xmlns='jabber:client' on its top-level element
// when that is a message, presence or iq without a namespace of its own.
func withClientNS(b []byte) []byte {
	if len(b) < 3 || b[0] != '<' {
		return b
	}
	end := bytes.IndexAny(b, " />")
	if end < 0 {
		return b
	}
	switch string(b[1:end]) {
	case "message", "presence", "iq":
	default:
		return b
	}
	gt := bytes.IndexByte(b, '>')
	if gt < 0 || bytes.Contains(b[:gt], []byte(" xmlns=")) {
		return b
	}
	out := make([]byte, 0, len(b)+22)
	out = append(out, b[:end]...)
	out = append(out, " xmlns='jabber:client'"...)
	return append(out, b[end:]...)
}

// deadlines holds a net.Conn's read and write deadlines.
type deadlines struct {
	mu          sync.Mutex
	read, write time.Time
}

func (d *deadlines) set(read, write bool, t time.Time) {
	d.mu.Lock()
	if read {
		d.read = t
	}
	if write {
		d.write = t
	}
	d.mu.Unlock()
}

// ctx returns a context ending at the read (or write) deadline.
func (d *deadlines) ctx(parent context.Context, read bool) (context.Context, context.CancelFunc) {
	d.mu.Lock()
	t := d.write
	if read {
		t = d.read
	}
	d.mu.Unlock()
	if t.IsZero() {
		return context.WithCancel(parent)
	}
	return context.WithDeadline(parent, t)
}

// wsStream is an XMPP stream over one WebSocket connection (RFC 7395).
type wsStream struct {
	ws     *websocket.Conn
	nc     *net.TCPConn
	domain string
	rd     []byte // translated bytes not yet read
	dl     deadlines
}

// dialWS opens the WebSocket with the "xmpp" subprotocol from src.
func dialWS(ctx context.Context, o *Options, src net.IP, deadline time.Time) (*wsStream, error) {
	s := &wsStream{domain: o.Domain}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			nc, err := dial(ctx, addr, src, deadline)
			if err == nil {
				s.nc = nc
			}
			return nc, err
		},
		DisableKeepAlives: true,
		TLSClientConfig:   tlsConfig(o.TLS, o.Domain),
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, o.URL, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: tr},
		Subprotocols: []string{"xmpp"},
	})
	if err != nil {
		return nil, fmt.Errorf("client: websocket %s: %w", o.URL, err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if ws.Subprotocol() != "xmpp" {
		ws.CloseNow()
		return nil, fmt.Errorf("client: websocket %s: server chose subprotocol %q, not xmpp", o.URL, ws.Subprotocol())
	}
	ws.SetReadLimit(1 << 20)
	s.ws = ws
	return s, nil
}

// Read returns translated bytes of the next messages. One goroutine reads.
func (s *wsStream) Read(p []byte) (int, error) {
	for len(s.rd) == 0 {
		ctx, cancel := s.dl.ctx(context.Background(), true)
		_, msg, err := s.ws.Read(ctx)
		cancel()
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure || errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		msg = bytes.TrimSpace(msg)
		switch {
		case bytes.HasPrefix(msg, []byte("<open")):
			s.rd = []byte(syntheticHeader)
		case bytes.HasPrefix(msg, []byte("<close")):
			s.rd = []byte("</stream:stream>")
		default:
			s.rd = msg
		}
	}
	n := copy(p, s.rd)
	s.rd = s.rd[n:]
	return n, nil
}

// Write sends b, one element, as one message. Any goroutine may write.
func (s *wsStream) Write(b []byte) (int, error) {
	msg := b
	switch {
	case isHeader(b):
		msg = []byte("<open xmlns='" + nsFraming + "' to='" + s.domain + "' version='1.0'/>")
	case isStreamEnd(b):
		msg = []byte("<close xmlns='" + nsFraming + "'/>")
	default:
		msg = withClientNS(b)
	}
	ctx, cancel := s.dl.ctx(context.Background(), false)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close drops the connection without a closing handshake (the client has sent
// <close/> already when it closes politely).
func (s *wsStream) Close() error { return s.ws.CloseNow() }

func (s *wsStream) LocalAddr() net.Addr {
	if s.nc != nil {
		return s.nc.LocalAddr()
	}
	return nil
}

func (s *wsStream) RemoteAddr() net.Addr {
	if s.nc != nil {
		return s.nc.RemoteAddr()
	}
	return nil
}

func (s *wsStream) SetDeadline(t time.Time) error {
	s.dl.set(true, true, t)
	return nil
}

func (s *wsStream) SetReadDeadline(t time.Time) error {
	s.dl.set(true, false, t)
	return nil
}

func (s *wsStream) SetWriteDeadline(t time.Time) error {
	s.dl.set(false, true, t)
	return nil
}
