package tlsconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

// echoServer is a gnet v2 server that speaks TLS through this package and
// echoes plaintext. With startTLS it first expects the line "STARTTLS\n",
// answers "PROCEED\n" and upgrades, passing on what followed the line.
type echoServer struct {
	gnet.BuiltinEventEngine
	acc      *Acceptor
	startTLS bool
	addr     chan string
	eng      gnet.Engine

	established atomic.Int64
	failed      atomic.Int64
	open        atomic.Int64
	conns       sync.Map // *Conn -> struct{}
}

type echoConn struct {
	tls   *Conn
	line  []byte // plaintext before STARTTLS
	plain []byte // read buffer: one per connection is fine in a test
}

func (s *echoServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	fd, err := eng.Dup()
	if err != nil {
		panic(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	if err != nil {
		panic(err)
	}
	s.addr <- ln.Addr().String()
	_ = ln.Close()
	_ = f.Close()
	return gnet.None
}

func (s *echoServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s.open.Add(1)
	ec := &echoConn{}
	c.SetContext(ec)
	if !s.startTLS {
		if err := s.upgrade(c, ec, nil); err != nil {
			return nil, gnet.Close
		}
	}
	return nil, gnet.None
}

// upgrade starts TLS; leftover is what the peer sent after the plaintext.
func (s *echoServer) upgrade(c gnet.Conn, ec *echoConn, leftover []byte) error {
	ec.tls = s.acc.Server(GnetSink(c))
	s.conns.Store(ec.tls, struct{}{})
	if err := ec.tls.Feed(leftover); err != nil {
		return err
	}
	return ec.tls.StartHandshake(context.Background(), func(err error) {
		if err != nil {
			s.failed.Add(1)
		} else {
			s.established.Add(1)
		}
		// Back to the loop: OnTraffic reads what came with the handshake,
		// or closes a failed connection.
		_ = c.Wake(nil)
	})
}

func (s *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	ec := c.Context().(*echoConn)
	in, _ := c.Next(-1)
	if ec.tls == nil {
		ec.line = append(ec.line, in...)
		i := bytes.IndexByte(ec.line, '\n')
		if i < 0 {
			return gnet.None
		}
		if string(ec.line[:i]) != "STARTTLS" {
			return gnet.Close
		}
		if _, err := c.Write([]byte("PROCEED\n")); err != nil {
			return gnet.Close
		}
		rest := ec.line[i+1:]
		ec.line = nil
		if err := s.upgrade(c, ec, rest); err != nil {
			return gnet.Close
		}
		return gnet.None
	}
	if err := ec.tls.Feed(in); err != nil {
		return gnet.Close
	}
	switch ec.tls.State() {
	case StateHandshaking:
		return gnet.None
	case StateEstablished:
	default:
		return gnet.Close
	}
	if ec.plain == nil {
		ec.plain = make([]byte, 16<<10)
	}
	for {
		n, err := ec.tls.Read(ec.plain)
		if n > 0 {
			if _, werr := ec.tls.Write(ec.plain[:n]); werr != nil {
				return gnet.Close
			}
		}
		if err != nil {
			_ = ec.tls.Close()
			return gnet.Close
		}
		if n < len(ec.plain) {
			break
		}
	}
	if ec.tls.Buffered() == 0 {
		// An idle connection keeps no read buffer (the point of the test
		// below); production code would use a per-loop buffer instead.
		ec.plain = nil
	}
	return gnet.None
}

func (s *echoServer) OnClose(c gnet.Conn, _ error) gnet.Action {
	s.open.Add(-1)
	if ec, ok := c.Context().(*echoConn); ok && ec.tls != nil {
		ec.tls.Abort()
	}
	return gnet.None
}

// startEchoServer runs an echoServer on 127.0.0.1 and stops it at cleanup.
func startEchoServer(t *testing.T, startTLS bool, opts Options, nextProtos ...string) (*echoServer, string) {
	t.Helper()
	acc, _ := newTestAcceptor(t, opts, nextProtos...)
	s := &echoServer{acc: acc, startTLS: startTLS, addr: make(chan string, 1)}
	runErr := make(chan error, 1)
	go func() {
		runErr <- gnet.Run(s, "tcp://127.0.0.1:0",
			gnet.WithReuseAddr(true), gnet.WithMulticore(true), gnet.WithNumEventLoop(2),
			gnet.WithLogLevel(logging.ErrorLevel))
	}()
	var addr string
	select {
	case addr = <-s.addr:
	case err := <-runErr:
		t.Fatalf("gnet.Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("gnet did not boot")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.eng.Stop(ctx); err != nil {
			t.Errorf("stop engine: %v", err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("gnet.Run: %v", err)
		}
	})
	return s, addr
}

// holdsBuffer reports whether the transport holds an input buffer. Safe
// from any goroutine.
func (t *transport) holdsBuffer() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.in != nil
}

// echo writes msg and reads it back.
func echo(c net.Conn, msg []byte) error {
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs")
	}
	return nil
}

func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	return tls.DialWithDialer(d, "tcp", addr, cfg)
}

// dialStartTLS sends "STARTTLS\n", expects "PROCEED\n", then speaks TLS.
// With pipelined, the ClientHello goes out in the same write as the line,
// before the answer (as a client ignoring RFC 6120 might), so the server
// must hand the bytes after the line to TLS.
func dialStartTLS(addr string, cfg *tls.Config, pipelined bool) (*tls.Conn, error) {
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	sc := &startTLSConn{Conn: raw, br: bufio.NewReader(raw), expect: true}
	if pipelined {
		sc.prefix = []byte("STARTTLS\n")
	} else {
		if _, err := raw.Write([]byte("STARTTLS\n")); err != nil {
			return nil, err
		}
		if err := sc.readProceed(); err != nil {
			raw.Close()
			return nil, err
		}
	}
	tc := tls.Client(sc, cfg)
	if err := tc.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

// startTLSConn prepends prefix to the first write, and reads through br,
// checking for the PROCEED line first if it was not read yet.
type startTLSConn struct {
	net.Conn
	br     *bufio.Reader
	prefix []byte
	expect bool
}

func (c *startTLSConn) readProceed() error {
	c.expect = false
	line, err := c.br.ReadString('\n')
	if err != nil || line != "PROCEED\n" {
		return fmt.Errorf("STARTTLS answer %q, %v", line, err)
	}
	return nil
}

func (c *startTLSConn) Read(p []byte) (int, error) {
	if c.expect {
		if err := c.readProceed(); err != nil {
			return 0, err
		}
	}
	return c.br.Read(p)
}

func (c *startTLSConn) Write(p []byte) (int, error) {
	if c.prefix != nil {
		b := append(c.prefix, p...)
		c.prefix = nil
		if _, err := c.Conn.Write(b); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func testMessages() [][]byte {
	return [][]byte{
		[]byte("<presence/>"),
		bytes.Repeat([]byte("<message>x</message>"), 100),
		bytes.Repeat([]byte{'y'}, 70000),
	}
}

func TestGnetDirectTLS(t *testing.T) {
	_, addr := startEchoServer(t, false, Options{}, ALPNClient)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c, err := dialTLS(addr, clientConfig(v, ALPNClient))
		if err != nil {
			t.Fatalf("%s: %v", tls.VersionName(v), err)
		}
		if st := c.ConnectionState(); st.NegotiatedProtocol != ALPNClient || st.Version != v {
			t.Fatalf("ALPN %q, version %x", st.NegotiatedProtocol, st.Version)
		}
		for _, m := range testMessages() {
			if err := echo(c, m); err != nil {
				t.Fatalf("%s: %d bytes: %v", tls.VersionName(v), len(m), err)
			}
		}
		c.Close()
	}
}

func TestGnetStartTLS(t *testing.T) {
	_, addr := startEchoServer(t, true, Options{})
	for _, pipelined := range []bool{false, true} {
		c, err := dialStartTLS(addr, clientConfig(tls.VersionTLS13), pipelined)
		if err != nil {
			t.Fatalf("pipelined=%v: %v", pipelined, err)
		}
		for _, m := range testMessages() {
			if err := echo(c, m); err != nil {
				t.Fatalf("pipelined=%v: %d bytes: %v", pipelined, len(m), err)
			}
		}
		c.Close()
	}
}

// TestGnetHandshakeStorm: many clients at once against a Limiter of 3: all
// succeed and at most 3 handshake goroutines ever run.
func TestGnetHandshakeStorm(t *testing.T) {
	lim := NewLimiter(3, 10000)
	srv, addr := startEchoServer(t, false, Options{Limiter: lim})
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := uint16(tls.VersionTLS13)
			if i%3 == 0 {
				v = tls.VersionTLS12
			}
			c, err := dialTLS(addr, clientConfig(v))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := echo(c, []byte(fmt.Sprintf("client %d", i))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := lim.Stats(); st.PeakRunning != 3 {
		t.Fatalf("peak %d handshake goroutines, want 3 (the bound, reached under a storm)", st.PeakRunning)
	}
	if got := srv.established.Load(); got != n {
		t.Fatalf("%d established, want %d", got, n)
	}
}

// TestGnetIdleConnectionsHoldNoGoroutine: N established idle TLS
// connections add no goroutine (the clients, crypto/tls over net.Conn, add
// none either while nobody reads) and keep no transport buffer.
func TestGnetIdleConnectionsHoldNoGoroutine(t *testing.T) {
	srv, addr := startEchoServer(t, false, Options{})
	// Warm up: gnet and the net poller start their helpers lazily.
	warm, err := dialTLS(addr, clientConfig(tls.VersionTLS13))
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(warm, []byte("warm")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "handshake goroutine to exit", func() bool { return srv.acc.Limiter().Stats().Running == 0 })
	base := numGoroutines()

	const n = 300
	conns := make([]*tls.Conn, 0, n)
	for range n {
		c, err := dialTLS(addr, clientConfig(tls.VersionTLS13))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, 10*time.Second, "all handshakes", func() bool {
		return srv.established.Load() == n+1 && srv.acc.Limiter().Stats().Running == 0
	})
	time.Sleep(50 * time.Millisecond)
	delta := numGoroutines() - base
	t.Logf("%d idle TLS connections: %+d goroutines", n, delta)
	if delta > 3 {
		t.Fatalf("%d idle TLS connections added %d goroutines, want ~0", n, delta)
	}
	held := 0
	srv.conns.Range(func(k, _ any) bool {
		if k.(*Conn).t.holdsBuffer() {
			held++
		}
		return true
	})
	if held != 0 {
		t.Fatalf("%d idle connections hold a transport buffer", held)
	}
	for i, c := range conns {
		if err := echo(c, []byte("still there")); err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		c.Close()
	}
	warm.Close()
}

// TestGnetDisconnectMidHandshake: clients that vanish during the handshake
// (after half a ClientHello, or before sending anything) leave no goroutine
// behind, and the server closes its side.
func TestGnetDisconnectMidHandshake(t *testing.T) {
	srv, addr := startEchoServer(t, false, Options{HandshakeTimeout: time.Minute})
	hello := clientHello(t)
	base := numGoroutines()
	const n = 40
	conns := make([]net.Conn, 0, n)
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := c.Write(hello[:len(hello)/2]); err != nil {
				t.Fatal(err)
			}
		}
		conns = append(conns, c)
	}
	waitFor(t, 10*time.Second, "handshakes to start", func() bool { return srv.open.Load() == n })
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, 10*time.Second, "server to close all", func() bool {
		return srv.open.Load() == 0 && srv.acc.Limiter().Stats().Running == 0
	})
	waitGoroutines(t, base, 10*time.Second)
	if got := srv.failed.Load(); got != n {
		t.Fatalf("%d handshakes reported failure, want %d", got, n)
	}
}

// TestGnetHandshakeTimeout: the server drops a silent client.
func TestGnetHandshakeTimeout(t *testing.T) {
	_, addr := startEchoServer(t, false, Options{HandshakeTimeout: 200 * time.Millisecond})
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read %v, want EOF from the server closing", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 5*time.Second {
		t.Fatalf("closed after %v", el)
	}
}
