package tlsconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func versionName(v uint16) string { return strings.ReplaceAll(tls.VersionName(v), " ", "") }

// TestChunkedFeeding runs handshakes and traffic in both directions with
// the ciphertext fed whole, one byte at a time, and in odd pieces.
func TestChunkedFeeding(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, split := range []int{0, 1, 7, 1000} {
			t.Run(fmt.Sprintf("%s/split%d", versionName(v), split), func(t *testing.T) {
				acc, _ := newTestAcceptor(t, Options{})
				lb := handshakeLoopback(t, acc, clientConfig(v), split)
				if got := lb.srv.ConnectionState().Version; got != v {
					t.Fatalf("version %x, want %x", got, v)
				}
				if lb.srv.Buffered() != 0 {
					t.Fatalf("%d ciphertext bytes left after handshake", lb.srv.Buffered())
				}
				rng := rand.New(rand.NewPCG(uint64(split), uint64(v)))
				var want []byte
				for _, size := range []int{1, 200, 1500, 16384, 40000} {
					msg := make([]byte, size)
					for i := range msg {
						msg[i] = byte(rng.Uint32())
					}
					want = append(want, msg...)
					if _, err := lb.client.Write(msg); err != nil {
						t.Fatal(err)
					}
				}
				if err := lb.waitPlain(len(want), 20*time.Second); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(lb.plain, want) {
					t.Fatal("plaintext differs from what the client sent")
				}
				// Server to client, small (one record) and large (collected).
				for _, size := range []int{10, 1024, 1025, 70000} {
					msg := bytes.Repeat([]byte{byte(size)}, size)
					if n, err := lb.srv.Write(msg); err != nil || n != size {
						t.Fatalf("server write %d: %d, %v", size, n, err)
					}
					got := make([]byte, size)
					if _, err := io.ReadFull(lb.client, got); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, msg) {
						t.Fatalf("client read differs for size %d", size)
					}
				}
			})
		}
	}
}

// TestLargeWriteIsOneSinkWrite checks that the records of one large Write
// leave in one sink write.
func TestLargeWriteIsOneSinkWrite(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	lb := handshakeLoopback(t, acc, clientConfig(tls.VersionTLS13), 0)
	counter := &countingSink{Sink: lb.srv.t.sink}
	lb.srv.t.sink = counter
	if _, err := lb.srv.Write(make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	if counter.writes != 1 {
		t.Fatalf("%d sink writes for one 5000-byte Write, want 1", counter.writes)
	}
}

type countingSink struct {
	Sink
	writes int
}

func (s *countingSink) Write(b []byte) error {
	s.writes++
	return s.Sink.Write(b)
}

// TestStartTLSLeftover feeds a ClientHello that arrived with the plaintext
// before the handshake starts, as after <starttls/>.
func TestStartTLSLeftover(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	lb := newLoopback(acc, clientConfig(tls.VersionTLS13))
	t.Cleanup(lb.close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lb.startClient(ctx)
	var hello []byte
	waitFor(t, 5*time.Second, "ClientHello", func() bool {
		b, _ := lb.toSrv.take()
		hello = append(hello, b...)
		return len(hello) > 5 && len(hello) >= 5+(int(hello[3])<<8|int(hello[4]))
	})
	wire := append([]byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), hello...)
	// The stream layer consumed the element; the rest belongs to TLS.
	leftover := wire[bytes.IndexByte(wire, '>')+1:]
	if err := lb.srv.Feed(leftover); err != nil {
		t.Fatal(err)
	}
	if srvErr, cliErr := lb.handshake(ctx); srvErr != nil || cliErr != nil {
		t.Fatalf("handshake: server %v, client %v", srvErr, cliErr)
	}
	if _, err := lb.client.Write([]byte("<stream:stream>")); err != nil {
		t.Fatal(err)
	}
	if err := lb.waitPlain(15, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestDirectTLSState checks ALPN, SNI and the tls-exporter channel binding.
func TestDirectTLSState(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(versionName(v), func(t *testing.T) {
			acc, sni := newTestAcceptor(t, Options{}, ALPNClient)
			lb := handshakeLoopback(t, acc, clientConfig(v, ALPNClient), 0)
			st := lb.srv.ConnectionState()
			if !st.HandshakeComplete || st.NegotiatedProtocol != ALPNClient || st.ServerName != testHost {
				t.Fatalf("state: complete %v, ALPN %q, SNI %q", st.HandshakeComplete, st.NegotiatedProtocol, st.ServerName)
			}
			if got := sni.get(); len(got) != 1 || got[0] != testHost {
				t.Fatalf("GetCertificate saw %q", got)
			}
			srvEKM, err := st.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
			if err != nil {
				t.Fatal(err)
			}
			cst := lb.client.ConnectionState()
			cliEKM, err := cst.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(srvEKM, cliEKM) {
				t.Fatal("tls-exporter values differ between server and client")
			}
		})
	}
}

// TestALPNMismatchRefused: a direct-TLS listener refuses other protocols.
func TestALPNMismatchRefused(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{}, ALPNClient)
	lb := newLoopback(acc, clientConfig(tls.VersionTLS13, "h2"))
	defer lb.close()
	srvErr, cliErr := lb.handshake(context.Background())
	if srvErr == nil || cliErr == nil {
		t.Fatalf("handshake succeeded with ALPN h2: server %v, client %v", srvErr, cliErr)
	}
	if lb.srv.State() != StateFailed && lb.srv.State() != StateClosed {
		t.Fatalf("state %s after failed handshake", lb.srv.State())
	}
}

func TestHandshakeFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  *tls.Config
		raw  []byte // sent instead of a TLS client when non-nil
	}{
		{name: "untrusted name", cfg: func() *tls.Config { c := clientConfig(tls.VersionTLS13); c.ServerName = "wrong.test"; return c }()},
		{name: "TLS 1.1 only", cfg: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}},
		{name: "not TLS", raw: []byte("<?xml version='1.0'?><stream:stream to='example.test'>")},
		{name: "SSLv2 hello", raw: []byte{0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, _ := newTestAcceptor(t, Options{})
			if tc.raw == nil {
				lb := newLoopback(acc, tc.cfg)
				defer lb.close()
				srvErr, cliErr := lb.handshake(context.Background())
				if srvErr == nil || cliErr == nil {
					t.Fatalf("server %v, client %v", srvErr, cliErr)
				}
			} else {
				c := acc.Server(discardSink{})
				done := make(chan error, 1)
				if err := c.Feed(tc.raw); err != nil {
					t.Fatal(err)
				}
				if err := c.StartHandshake(context.Background(), func(err error) { done <- err }); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-done:
					if err == nil {
						t.Fatal("handshake succeeded on garbage")
					}
				case <-time.After(5 * time.Second):
					t.Fatal("garbage did not end the handshake")
				}
				if c.State() != StateFailed {
					t.Fatalf("state %s", c.State())
				}
				if _, err := c.Read(make([]byte, 10)); !errors.Is(err, ErrNotEstablished) {
					t.Fatalf("Read after failure: %v", err)
				}
			}
		})
	}
}

type discardSink struct{}

func (discardSink) Write([]byte) error { return nil }
func (discardSink) AsyncWrite(_ []byte, written func()) error {
	written()
	return nil
}

// TestHandshakeTimeout: a silent client ends the handshake at the timeout
// and its goroutine exits.
func TestHandshakeTimeout(t *testing.T) {
	base := numGoroutines()
	acc, _ := newTestAcceptor(t, Options{HandshakeTimeout: 100 * time.Millisecond})
	c := acc.Server(discardSink{})
	done := make(chan error, 1)
	start := time.Now()
	if err := c.StartHandshake(context.Background(), func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want DeadlineExceeded", err)
		}
		if el := time.Since(start); el < 90*time.Millisecond || el > 3*time.Second {
			t.Fatalf("timed out after %v", el)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout")
	}
	if c.State() != StateFailed {
		t.Fatalf("state %s", c.State())
	}
	waitGoroutines(t, base, 5*time.Second)
}

// TestContextCancel: the engine's context ends the handshake.
func TestContextCancel(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	c := acc.Server(discardSink{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	if err := c.StartHandshake(ctx, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not end the handshake")
	}
}

// TestAbortMidHandshake: a peer that disconnects after half a ClientHello
// leaves no goroutine and no buffer behind.
func TestAbortMidHandshake(t *testing.T) {
	base := numGoroutines()
	acc, _ := newTestAcceptor(t, Options{})
	lb := newLoopback(acc, clientConfig(tls.VersionTLS13))
	ctx := context.Background()
	lb.startClient(ctx)
	var hello []byte
	waitFor(t, 5*time.Second, "ClientHello", func() bool {
		b, _ := lb.toSrv.take()
		hello = append(hello, b...)
		return len(hello) > 100
	})
	if err := lb.srv.Feed(hello[:len(hello)/2]); err != nil {
		t.Fatal(err)
	}
	if err := lb.start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "handshake goroutine", func() bool { return acc.Limiter().Stats().Running == 1 })
	lb.srv.Abort()
	select {
	case err := <-lb.hsDone:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("abort did not end the handshake")
	}
	lb.raw.Close()
	<-lb.cliDone
	if lb.srv.t.in != nil {
		t.Fatal("input buffer kept after Abort")
	}
	if err := lb.srv.Feed([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Feed after Abort: %v", err)
	}
	waitGoroutines(t, base, 5*time.Second)
}

// TestCloseNotify: Close sends close_notify; the client's close_notify
// shows up as io.EOF.
func TestCloseNotify(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	t.Run("server closes", func(t *testing.T) {
		lb := handshakeLoopback(t, acc, clientConfig(tls.VersionTLS13), 0)
		if err := lb.srv.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := lb.client.Read(make([]byte, 10)); err != io.EOF {
			t.Fatalf("client read %v, want EOF", err)
		}
		if _, err := lb.srv.Write([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
		if err := lb.srv.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if !lb.srv.HandshakeComplete() || lb.srv.ConnectionState().Version == 0 {
			t.Fatal("connection state lost at Close")
		}
	})
	t.Run("client closes", func(t *testing.T) {
		lb := handshakeLoopback(t, acc, clientConfig(tls.VersionTLS12), 1)
		if _, err := lb.client.Write([]byte("bye")); err != nil {
			t.Fatal(err)
		}
		if err := lb.client.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		_ = lb.waitPlain(3, 5*time.Second)
		if string(lb.plain) != "bye" || lb.srvErr != io.EOF {
			t.Fatalf("server read %q then %v, want \"bye\" then EOF", lb.plain, lb.srvErr)
		}
		// The error sticks, even with nothing new buffered.
		if n, err := lb.srv.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Fatalf("Read after EOF: %d, %v", n, err)
		}
	})
}

func TestMisuse(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	c := acc.Server(discardSink{})
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrNotEstablished) {
		t.Fatalf("Read before handshake: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrNotEstablished) {
		t.Fatalf("Write before handshake: %v", err)
	}
	if err := c.Feed(make([]byte, maxBuffered)); err != nil {
		t.Fatal(err)
	}
	if err := c.Feed([]byte{1}); !errors.Is(err, ErrInputFull) {
		t.Fatalf("Feed beyond the cap: %v", err)
	}
	done := make(chan error, 1)
	if err := c.StartHandshake(context.Background(), func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := c.StartHandshake(context.Background(), func(error) {}); !errors.Is(err, ErrHandshakeStarted) {
		t.Fatalf("second StartHandshake: %v", err)
	}
	if err := <-done; err == nil {
		t.Fatal("handshake on zeros succeeded")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.StartHandshake(context.Background(), func(error) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("StartHandshake after Close: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestNewAcceptorChecks(t *testing.T) {
	cert, _ := testCert()
	tests := []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"nil", nil, false},
		{"no certificate", &tls.Config{}, false},
		{"TLS 1.0 allowed", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10}, false},
		{"static certificate", &tls.Config{Certificates: []tls.Certificate{cert}}, true},
		{"Config", Config(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }), true},
	}
	for _, tc := range tests {
		_, err := NewAcceptor(tc.cfg, Options{})
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	if c := Config(nil, ALPNClient); c.MinVersion != tls.VersionTLS12 || len(c.NextProtos) != 1 || c.CipherSuites != nil {
		t.Errorf("Config defaults: %+v", c)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{StateNew: "new", StateHandshaking: "handshaking",
		StateEstablished: "established", StateFailed: "failed", StateClosed: "closed", 9: "State(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}
