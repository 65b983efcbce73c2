package engine_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

// testServer is a Hermod engine on loopback ports with an in-memory store.
type testServer struct {
	t        *testing.T
	cfg      *config.Config
	store    backends.Store
	c2s      string // STARTTLS listener
	required string // STARTTLS-required listener
	direct   string // direct TLS listener
	plain    string // listener without TLS
	stop     func()
}

// freePort returns a loopback port that is free right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type serverOpt func(*config.Config)

// startServer starts an engine serving "localhost" on four loopback listeners and
// stops it when the test ends.
func startServer(t *testing.T, opts ...serverOpt) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.General.DataDir = t.TempDir()
	cfg.General.ShutdownTimeout = config.Dur(2 * time.Second)
	mk := func(mode string) config.C2S {
		l := config.DefaultC2S()
		l.Address = "127.0.0.1"
		l.Port = freePort(t)
		l.TLS = mode
		return l
	}
	cfg.Listen.C2S = []config.C2S{mk(config.TLSStartTLS), mk(config.TLSStartTLSRequired), mk(config.TLSDirect), mk(config.TLSNone)}
	for _, o := range opts {
		o(cfg)
	}
	ts := &testServer{t: t, cfg: cfg, store: memory.New()}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(cfg.Listen.C2S[i].Port) }
	ts.c2s, ts.required, ts.direct, ts.plain = addr(0), addr(1), addr(2), addr(3)

	level := slog.LevelWarn
	if os.Getenv("HERMOD_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := engine.New(cfg, log, engine.Options{Store: ts.store})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	waitListening(t, ts.c2s, done)
	ts.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop within 15 s")
		}
	}
	t.Cleanup(func() { ts.stop(); ts.store.Close() })
	return ts
}

func waitListening(t *testing.T, addr string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("server exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server not listening on %s", addr)
}

// addUser creates user@localhost with SCRAM keys for every hash (what `hermod user add`
// stores).
func (ts *testServer) addUser(user, password string) {
	ts.t.Helper()
	keys := func(h sasl.Hash) *backends.ScramKeys {
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		k := sasl.DeriveKeys(h, password, salt, 4096)
		return &backends.ScramKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
	err := ts.store.CreateAccount(context.Background(), backends.Account{
		Domain: "localhost", User: user,
		Credentials: backends.Credentials{SHA1: keys(sasl.SHA1), SHA256: keys(sasl.SHA256), SHA512: keys(sasl.SHA512)},
	})
	if err != nil {
		ts.t.Fatalf("add user %s: %v", user, err)
	}
}

// rawConn is a plain socket speaking exact bytes, for tests of malformed input.
type rawConn struct {
	t   *testing.T
	c   net.Conn
	r   *bufio.Reader
	buf strings.Builder
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// readUntil reads until the received text contains want, and returns all of it.
func (rc *rawConn) readUntil(want string) string {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	chunk := make([]byte, 4096)
	for !strings.Contains(rc.buf.String(), want) {
		n, err := rc.r.Read(chunk)
		rc.buf.Write(chunk[:n])
		if err != nil {
			rc.t.Fatalf("waiting for %q: %v; got %q", want, err, rc.buf.String())
		}
	}
	return rc.buf.String()
}

// readAll reads until the server closes the connection and returns everything.
func (rc *rawConn) readAll() string {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.r)
	rc.buf.Write(b)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		// A reset is how a close looks to a client still sending.
		rc.t.Fatalf("read until close: %v; got %q", err, rc.buf.String())
	}
	return rc.buf.String()
}

// clientTLS is the TLS configuration of test clients: the server's certificate is
// self-signed.
func clientTLS() *tls.Config {
	return &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
}

const streamOpen = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

type cfgT = config.Config

func durT(d time.Duration) config.Duration { return config.Dur(d) }
