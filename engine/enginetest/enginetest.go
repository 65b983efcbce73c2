// Package enginetest starts a real Hermod engine on loopback ports for tests of the
// engine and of modules, and speaks to it with raw sockets. It is test support: no
// production code imports it.
package enginetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
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
	"github.com/hermod-im/hermod/engine/metrics"
	"github.com/hermod-im/hermod/engine/sasl"
)

// Server is a Hermod engine serving "localhost" on four loopback listeners, with an
// in-memory store unless an Option sets another.
type Server struct {
	t        testing.TB
	Cfg      *config.Config
	Store    backends.Store
	C2S      string // STARTTLS listener
	Required string // STARTTLS-required listener
	Direct   string // direct TLS listener
	Plain    string // listener without TLS
	// Srv is the running server, for tests that reach inside it (package engine's
	// export_test.go).
	Srv     *engine.Server
	stopped bool
	stop    func()
}

// Option adjusts the server before it starts.
type Option func(*settings)

type settings struct {
	srv     **engine.Server
	cfg     *config.Config
	modules map[string]engine.ModuleFactory
	store   backends.Store
	metrics *metrics.Metrics
}

// WithMetrics gives the server m to count into.
func WithMetrics(m *metrics.Metrics) Option { return func(s *settings) { s.metrics = m } }

// WithConfig lets the test change the configuration.
func WithConfig(fn func(*config.Config)) Option { return func(s *settings) { fn(s.cfg) } }

// WithModule enables the module name (with the given [modules.name] options, may be
// nil) built by f.
func WithModule(name string, f engine.ModuleFactory, opts map[string]any) Option {
	return func(s *settings) {
		if s.modules == nil {
			s.modules = map[string]engine.ModuleFactory{}
		}
		s.modules[name] = f
		if s.cfg.Modules == nil {
			s.cfg.Modules = map[string]map[string]any{}
		}
		if opts == nil {
			opts = map[string]any{}
		}
		s.cfg.Modules[name] = opts
	}
}

// WithServer stores the running *engine.Server in *p, for tests that call its methods.
func WithServer(p **engine.Server) Option { return func(s *settings) { s.srv = p } }

// WithStore serves from store (which the test closes) instead of a memory store.
func WithStore(store backends.Store) Option { return func(s *settings) { s.store = store } }

// FreePort returns a loopback port that is free right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a server and stops it when the test ends. Set HERMOD_TEST_DEBUG=1 to
// see its debug log.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.General.DataDir = t.TempDir()
	cfg.General.ShutdownTimeout = config.Dur(2 * time.Second)
	cfg.Modules = nil // a test enables the modules it exercises (WithModule)
	mk := func(mode string) config.C2S {
		l := config.DefaultC2S()
		l.Address = "127.0.0.1"
		l.Port = FreePort(t)
		l.TLS = mode
		return l
	}
	cfg.Listen.C2S = []config.C2S{mk(config.TLSStartTLS), mk(config.TLSStartTLSRequired), mk(config.TLSDirect), mk(config.TLSNone)}
	st := &settings{cfg: cfg}
	for _, o := range opts {
		o(st)
	}
	ownStore := st.store == nil
	if ownStore {
		st.store = memory.New()
	}
	ts := &Server{t: t, Cfg: cfg, Store: st.store}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(cfg.Listen.C2S[i].Port) }
	ts.C2S, ts.Required, ts.Direct, ts.Plain = addr(0), addr(1), addr(2), addr(3)

	level := slog.LevelWarn
	if os.Getenv("HERMOD_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := engine.New(cfg, log, engine.Options{Store: st.store, Modules: st.modules, Metrics: st.metrics})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	ts.Srv = srv
	if st.srv != nil {
		*st.srv = srv
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	// Every listener: gnet starts them one by one, so the first being up says
	// nothing of the others.
	for _, a := range []string{ts.C2S, ts.Required, ts.Direct, ts.Plain} {
		waitListening(t, a, done)
	}
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
	t.Cleanup(func() {
		ts.Stop()
		if ownStore {
			ts.Store.Close()
		}
	})
	return ts
}

// Stop shuts the server down (it is also stopped when the test ends).
func (ts *Server) Stop() {
	if !ts.stopped {
		ts.stopped = true
		ts.stop()
	}
}

func waitListening(t testing.TB, addr string, done <-chan error) {
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

// AddUser creates user@localhost with SCRAM keys for every hash, as `hermod user add`
// stores them.
func (ts *Server) AddUser(user, password string) {
	ts.t.Helper()
	keys := func(h sasl.Hash) *backends.ScramKeys {
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		k := sasl.DeriveKeys(h, password, salt, 4096)
		return &backends.ScramKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
	err := ts.Store.CreateAccount(context.Background(), backends.Account{
		Domain: "localhost", User: user,
		Credentials: backends.Credentials{SHA1: keys(sasl.SHA1), SHA256: keys(sasl.SHA256), SHA512: keys(sasl.SHA512)},
	})
	if err != nil {
		ts.t.Fatalf("add user %s: %v", user, err)
	}
}

// Login authenticates user with PLAIN on the listener without TLS, binds resource and
// returns the connection ready for stanzas, with what was read so far discarded.
func (ts *Server) Login(t testing.TB, user, password, resource string) *Raw {
	t.Helper()
	return ts.LoginWith(t, user, password, resource, StreamOpen)
}

// LoginWith is Login with the given stream header (sent for both streams).
func (ts *Server) LoginWith(t testing.TB, user, password, resource, header string) *Raw {
	t.Helper()
	rc := DialRaw(t, ts.Plain)
	rc.Send(header)
	rc.ReadUntil("</stream:features>")
	cred := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + cred + "</auth>")
	rc.ReadUntil("<success")
	rc.Buf.Reset()
	rc.Send(header)
	rc.ReadUntil("</stream:features>")
	rc.Send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + resource + "</resource></bind></iq>")
	rc.ReadUntil("</iq>")
	rc.Buf.Reset()
	return rc
}

// Raw is a plain socket speaking exact bytes.
type Raw struct {
	t    testing.TB
	Conn net.Conn
	r    *bufio.Reader
	// Buf holds everything read and not yet Reset.
	Buf strings.Builder
}

// DialRaw connects to addr; the connection is closed when the test ends.
func DialRaw(t testing.TB, addr string) *Raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Raw{t: t, Conn: c, r: bufio.NewReader(c)}
}

// Send writes s.
func (rc *Raw) Send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.Conn, s); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// ReadUntil reads until the text received since the last Reset contains want, and
// returns all of it.
func (rc *Raw) ReadUntil(want string) string {
	rc.t.Helper()
	_ = rc.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	chunk := make([]byte, 4096)
	for !strings.Contains(rc.Buf.String(), want) {
		n, err := rc.r.Read(chunk)
		rc.Buf.Write(chunk[:n])
		if err != nil {
			rc.t.Fatalf("waiting for %q: %v; got %q", want, err, rc.Buf.String())
		}
	}
	return rc.Buf.String()
}

// Next returns the text that arrives within d (empty when nothing does), then resets.
func (rc *Raw) Next(d time.Duration) string {
	rc.t.Helper()
	_ = rc.Conn.SetReadDeadline(time.Now().Add(d))
	chunk := make([]byte, 4096)
	for {
		n, err := rc.r.Read(chunk)
		rc.Buf.Write(chunk[:n])
		if err != nil {
			break
		}
	}
	s := rc.Buf.String()
	rc.Buf.Reset()
	return s
}

// ReadAll reads until the server closes the connection and returns everything.
func (rc *Raw) ReadAll() string {
	rc.t.Helper()
	_ = rc.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.r)
	rc.Buf.Write(b)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		// A reset is how a close looks to a client still sending.
		rc.t.Fatalf("read until close: %v; got %q", err, rc.Buf.String())
	}
	return rc.Buf.String()
}

// ClientTLS is the TLS configuration of test clients: the server's certificate is
// self-signed.
func ClientTLS() *tls.Config {
	return &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
}

// StreamOpen is a client's stream header for localhost.
const StreamOpen = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
