package tlsconn

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"runtime"
	"sync"
	"time"
)

// SelfCheck verifies, in memory and in a few milliseconds, the undocumented
// crypto/tls behaviour this package relies on, with TLS 1.2 and TLS 1.3:
// after the handshake, a record fed one byte at a time yields no plaintext
// and no error until its last byte, then its plaintext, and the connection
// keeps working (a temporary read error is not recorded as the connection's
// error). The engine should call it once at start-up and refuse to serve TLS
// if it fails: a Go upgrade that breaks the assumption would otherwise kill
// every TLS connection at its first partial record. Safe from any goroutine;
// it starts (and ends) one handshake goroutine per version.
func SelfCheck() error {
	cert, roots, err := selfSignedCert("selfcheck.invalid")
	if err != nil {
		return fmt.Errorf("tlsconn: self-check: %w", err)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if err := selfCheckVersion(cert, roots, v); err != nil {
			return fmt.Errorf("tlsconn: self-check with %s on %s: %w",
				tls.VersionName(v), runtime.Version(), err)
		}
	}
	return nil
}

func selfCheckVersion(cert tls.Certificate, roots *x509.CertPool, version uint16) error {
	acc, err := NewAcceptor(Config(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }),
		Options{Limiter: NewLimiter(1, 1)})
	if err != nil {
		return err
	}
	lb := newLoopback(acc, &tls.Config{
		RootCAs: roots, ServerName: "selfcheck.invalid",
		MinVersion: version, MaxVersion: version,
	})
	defer lb.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if srvErr, cliErr := lb.handshake(ctx); srvErr != nil || cliErr != nil {
		return fmt.Errorf("in-memory handshake failed: server: %v, client: %v", srvErr, cliErr)
	}
	if got := lb.srv.ConnectionState().Version; got != version {
		return fmt.Errorf("negotiated %s", tls.VersionName(got))
	}

	buf := make([]byte, 64)
	for round, msg := range []string{"first record", "second record"} {
		if _, err := lb.client.Write([]byte(msg)); err != nil {
			return fmt.Errorf("client write: %w", err)
		}
		record, _ := lb.toSrv.take()
		if len(record) <= len(msg) {
			return fmt.Errorf("client produced %d bytes for a %d-byte message", len(record), len(msg))
		}
		for i := range record {
			if err := lb.srv.Feed(record[i : i+1]); err != nil {
				return fmt.Errorf("feed: %w", err)
			}
			// Call crypto/tls directly: Conn.Read would not call it
			// before the record is complete.
			n, err := lb.srv.tc.Read(buf)
			last := i == len(record)-1
			switch {
			case !last && err != errWouldBlock:
				return fmt.Errorf("round %d: byte %d of %d: crypto/tls returned %d, %v; want the "+
					"transport's temporary error", round, i+1, len(record), n, err)
			case last && err != nil:
				return fmt.Errorf("round %d: crypto/tls returned %q for the completed record: it no longer "+
					"tolerates a temporary error on a partial record, so the record layer cannot "+
					"run on the event loop", round, err)
			case last && string(buf[:n]) != msg:
				return fmt.Errorf("round %d: complete record gave %q, want %q", round, buf[:n], msg)
			}
		}
	}
	// The same through Conn.Read, with two records fed at once.
	for _, msg := range []string{"third", "fourth"} {
		if _, err := lb.client.Write([]byte(msg)); err != nil {
			return fmt.Errorf("client write: %w", err)
		}
	}
	both, _ := lb.toSrv.take()
	if err := lb.srv.Feed(both); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	if n, err := lb.srv.Read(buf); err != nil || string(buf[:n]) != "thirdfourth" {
		return fmt.Errorf("Conn.Read of two records: %q, %v", buf[:n], err)
	}
	if _, err := lb.srv.Write([]byte("reply")); err != nil {
		return fmt.Errorf("server write: %w", err)
	}
	got := make([]byte, 5)
	if _, err := lb.client.Read(got); err != nil || !bytes.Equal(got, []byte("reply")) {
		return fmt.Errorf("client read %q, %v", got, err)
	}
	return nil
}

// selfSignedCert makes an ECDSA P-256 certificate for names, valid for a
// day, and a pool that trusts it.
func selfSignedCert(names ...string) (tls.Certificate, *x509.CertPool, error) {
	if len(names) == 0 {
		return tls.Certificate{}, nil, errors.New("no names for certificate")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("parse certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}

// What follows is an in-memory stand-in for an event loop and a socket: a
// crypto/tls client on one side, a Conn driven by the calling goroutine (the
// "loop") on the other. SelfCheck uses it at start-up and the tests use it
// everywhere; it is not for production traffic.

// byteQueue is an unbounded one-way byte stream. Writers never block; read
// blocks until data or close; take never blocks.
type byteQueue struct {
	mu     sync.Mutex
	data   []byte
	closed bool
	notify chan struct{} // one slot: "something changed"
}

func newByteQueue() *byteQueue { return &byteQueue{notify: make(chan struct{}, 1)} }

func (q *byteQueue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *byteQueue) write(b []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return net.ErrClosed
	}
	q.data = append(q.data, b...)
	q.signal()
	return nil
}

// read blocks until data is available or the queue is closed and drained.
func (q *byteQueue) read(p []byte) (int, error) {
	for {
		q.mu.Lock()
		if len(q.data) > 0 {
			n := copy(p, q.data)
			q.data = q.data[n:]
			q.mu.Unlock()
			return n, nil
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		<-q.notify
	}
}

// take returns everything buffered (nil if nothing) and whether the queue
// is closed.
func (q *byteQueue) take() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.data
	q.data = nil
	return b, q.closed
}

func (q *byteQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signal()
}

// memConn is the client's end of the in-memory socket.
type memConn struct{ in, out *byteQueue }

func (m *memConn) Read(p []byte) (int, error)  { return m.in.read(p) }
func (m *memConn) Write(p []byte) (int, error) { return len(p), m.out.write(p) }
func (m *memConn) Close() error {
	m.in.close()
	m.out.close()
	return nil
}
func (m *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// queueSink is the server's Sink: both paths append to the client's input.
// AsyncWrite runs written at once, as if the loop had already written.
type queueSink struct{ q *byteQueue }

func (s queueSink) Write(b []byte) error { return s.q.write(b) }
func (s queueSink) AsyncWrite(b []byte, written func()) error {
	err := s.q.write(b)
	if err == nil {
		written()
	}
	return err
}

// loopback joins a server Conn and a crypto/tls client. The goroutine that
// calls its methods plays the server's event loop.
type loopback struct {
	srv     *Conn
	client  *tls.Conn
	raw     *memConn   // the client's socket, before TLS
	toSrv   *byteQueue // client -> server ciphertext
	toCli   *byteQueue // server -> client ciphertext
	hsDone  chan error // the server's done callback
	cliDone chan error // the client's handshake result, once started
	plain   []byte     // plaintext the server has read so far
	scratch []byte     // Read buffer
	split   int        // feed at most this many bytes per Feed (0: all)
	srvErr  error      // first error Read returned
}

func newLoopback(acc *Acceptor, clientCfg *tls.Config) *loopback {
	lb := &loopback{
		toSrv:   newByteQueue(),
		toCli:   newByteQueue(),
		hsDone:  make(chan error, 1),
		scratch: make([]byte, 4096),
	}
	lb.raw = &memConn{in: lb.toCli, out: lb.toSrv}
	lb.srv = acc.Server(queueSink{lb.toCli})
	lb.client = tls.Client(lb.raw, clientCfg)
	return lb
}

// start begins the server handshake.
func (lb *loopback) start(ctx context.Context) error {
	return lb.srv.StartHandshake(ctx, func(err error) { lb.hsDone <- err })
}

// startClient begins the client handshake in a goroutine; its result
// arrives on cliDone. handshake calls it if the test has not.
func (lb *loopback) startClient(ctx context.Context) {
	if lb.cliDone != nil {
		return
	}
	lb.cliDone = make(chan error, 1)
	go func() { lb.cliDone <- lb.client.HandshakeContext(ctx) }()
}

// handshake starts both sides (unless already started) and plays the loop
// until both are done or 30 seconds pass. It returns the server's and the
// client's results.
func (lb *loopback) handshake(ctx context.Context) (srvErr, cliErr error) {
	if lb.srv.State() == StateNew {
		if err := lb.start(ctx); err != nil {
			return err, nil
		}
	}
	lb.startClient(ctx)
	srvPending, cliPending := true, true
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for srvPending || cliPending {
		select {
		case <-lb.toSrv.notify:
			// A Feed error here (closed, full) also ends the handshake,
			// whose goroutine reports the cause.
			_ = lb.pump()
		case srvErr = <-lb.hsDone:
			srvPending = false
			if srvErr == nil {
				// Records may have come with the client's last flight.
				_ = lb.readAll()
			}
		case cliErr = <-lb.cliDone:
			cliPending = false
			if cliErr != nil {
				// A failed client stops talking; end the server side too.
				lb.raw.Close()
				lb.srv.Abort()
			}
		case <-timeout.C:
			return errors.New("loopback: handshake did not finish"), errors.New("loopback: timeout")
		}
	}
	return srvErr, cliErr
}

// pump feeds whatever the client has sent, lb.split bytes at a time, and
// reads plaintext after each piece once established.
func (lb *loopback) pump() error {
	b, _ := lb.toSrv.take()
	return lb.feed(b)
}

// feed hands b to the server in pieces and drains plaintext after each.
func (lb *loopback) feed(b []byte) error {
	for len(b) > 0 {
		n := len(b)
		if lb.split > 0 && n > lb.split {
			n = lb.split
		}
		if err := lb.srv.Feed(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if lb.srv.State() == StateEstablished {
			if err := lb.readAll(); err != nil {
				return err
			}
		}
	}
	return nil
}

// readAll reads plaintext until Read returns 0.
func (lb *loopback) readAll() error {
	for {
		n, err := lb.srv.Read(lb.scratch)
		lb.plain = append(lb.plain, lb.scratch[:n]...)
		if err != nil {
			if lb.srvErr == nil {
				lb.srvErr = err
			}
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

func (lb *loopback) close() {
	lb.srv.Abort()
	lb.raw.Close()
}
