package tlsconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// ALPN protocol names of XEP-0368 (direct TLS).
const (
	ALPNClient = "xmpp-client"
	ALPNServer = "xmpp-server"
)

// DefaultHandshakeTimeout bounds a handshake, queueing included, when
// Options.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// Config returns a server tls.Config with Hermod's defaults: TLS 1.2 or
// newer, Go's default cipher suites and key exchanges, certificates chosen
// per connection (by SNI) by getCertificate, and the given ALPN protocols
// (ALPNClient on a direct-TLS client listener, none for STARTTLS). With ALPN
// protocols set, a client offering only other protocols is refused, as
// XEP-0368 intends. The caller may adjust the result before NewAcceptor.
func Config(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error), nextProtos ...string) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: getCertificate,
		NextProtos:     nextProtos,
	}
}

// Options tune an Acceptor. The zero value selects the defaults.
type Options struct {
	// Limiter bounds concurrent handshakes. Share one Limiter among all
	// listeners to bound the process; nil gives the Acceptor its own with
	// the default bounds.
	Limiter *Limiter
	// HandshakeTimeout bounds each handshake from StartHandshake to done,
	// time spent in the Limiter's queue included. Zero selects
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// Acceptor makes TLS server Conns for one listener (one tls.Config). It holds
// the buffer pool its Conns share. Safe for concurrent use by all loops.
type Acceptor struct {
	cfg     *tls.Config
	limiter *Limiter
	timeout time.Duration
	pool    bufferPool
	bufs    tlsBuffers // for Conn.Compact
}

// NewAcceptor checks cfg and returns an Acceptor. cfg must offer a
// certificate (Certificates, GetCertificate or GetConfigForClient) and must
// not allow versions below TLS 1.2. cfg must not be modified afterwards.
func NewAcceptor(cfg *tls.Config, opts Options) (*Acceptor, error) {
	if cfg == nil {
		return nil, errors.New("tlsconn: nil tls.Config")
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return nil, errors.New("tlsconn: tls.Config has no certificate source")
	}
	if cfg.MinVersion != 0 && cfg.MinVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("tlsconn: tls.Config allows version %s; TLS 1.2 is the minimum", tls.VersionName(cfg.MinVersion))
	}
	a := &Acceptor{cfg: cfg, limiter: opts.Limiter, timeout: opts.HandshakeTimeout, bufs: findTLSBuffers()}
	if a.limiter == nil {
		a.limiter = NewLimiter(0, 0)
	}
	if a.timeout <= 0 {
		a.timeout = DefaultHandshakeTimeout
	}
	return a, nil
}

// Limiter returns the Limiter the Acceptor uses (for its Stats).
func (a *Acceptor) Limiter() *Limiter { return a.limiter }

// Server returns a Conn in StateNew whose ciphertext leaves through sink.
// Feed it, then StartHandshake. Safe from any goroutine; the Conn belongs to
// the loop that owns sink's socket.
func (a *Acceptor) Server(sink Sink) *Conn {
	c := &Conn{acc: a}
	c.t.sink = sink
	c.t.pool = &a.pool
	c.tc = tls.Server(&c.t, a.cfg)
	return c
}

// Sink takes the ciphertext a Conn produces to the peer.
type Sink interface {
	// Write writes b to the socket, or to the connection's outbound buffer,
	// before it returns; it must not keep b. The Conn calls it only on the
	// connection's event loop.
	Write(b []byte) error
	// AsyncWrite queues b to be written on the connection's event loop,
	// after every b queued before, and takes ownership of b. It must call
	// written exactly once (from any goroutine) when b has been written or
	// dropped, if it returns nil. The Conn calls it from the handshake
	// goroutine, and on the loop while earlier AsyncWrites are pending.
	AsyncWrite(b []byte, written func()) error
}

// GnetSink adapts a gnet connection: Write is gnet's Conn.Write (which
// copies what the socket does not take at once) and AsyncWrite is gnet's
// Conn.AsyncWrite (which runs written on the loop, even when the connection
// has closed meanwhile). It also lends the socket's addresses to
// tls.ClientHelloInfo.Conn.
func GnetSink(c gnet.Conn) Sink { return gnetSink{c} }

type gnetSink struct{ c gnet.Conn }

func (s gnetSink) Write(b []byte) error {
	_, err := s.c.Write(b)
	return err
}

func (s gnetSink) AsyncWrite(b []byte, written func()) error {
	return s.c.AsyncWrite(b, func(gnet.Conn, error) error {
		written()
		return nil
	})
}

func (s gnetSink) LocalAddr() net.Addr  { return s.c.LocalAddr() }
func (s gnetSink) RemoteAddr() net.Addr { return s.c.RemoteAddr() }
