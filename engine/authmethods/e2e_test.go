package authmethods_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	msasl "mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/presence"
	"github.com/hermod-im/hermod/modules/register"
	"github.com/hermod-im/hermod/modules/roster"
)

// passwordService answers check_password for alice@localhost with "secret"; delay
// holds each answer.
func passwordService(t testing.TB, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		q := r.URL.Query()
		ok := r.URL.Path == "/check_password" && q.Get("user") == "alice" && q.Get("server") == "localhost" && q.Get("pass") == "secret"
		if ok {
			_, _ = w.Write([]byte("true"))
			return
		}
		_, _ = w.Write([]byte("false"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func withMethods(methods ...string) func(*config.Config) {
	return func(c *config.Config) { c.Auth.Methods = methods }
}

// melliumLogin logs user in with PLAIN over STARTTLS using mellium.im/xmpp.
func melliumLogin(t *testing.T, ts *enginetest.Server, user, password string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.DialTimeout("tcp", ts.C2S, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(user+"@localhost"), conn,
		xmpp.StartTLS(enginetest.ClientTLS()), xmpp.SASL("", password, msasl.Plain), xmpp.BindResource())
	if err != nil {
		return err
	}
	if got := s.LocalAddr().Bare().String(); got != user+"@localhost" {
		t.Errorf("bound as %s", got)
	}
	return s.Close()
}

// features returns the mechanisms advertised on the plain listener.
func mechanisms(t *testing.T, ts *enginetest.Server) []string {
	rc := enginetest.DialRaw(t, ts.Plain)
	rc.Send(enginetest.StreamOpen)
	f := rc.ReadUntil("</stream:features>")
	var out []string
	for _, m := range regexp.MustCompile(`<mechanism>([^<]+)</mechanism>`).FindAllStringSubmatch(f, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLoginHTTP(t *testing.T) {
	svc := passwordService(t, 0)
	ts := enginetest.Start(t, enginetest.WithConfig(func(c *config.Config) {
		c.Auth.Methods = []string{"http"}
		c.Auth.HTTP.BaseURL = svc.URL
	}))
	if got := strings.Join(mechanisms(t, ts), " "); got != "PLAIN" {
		t.Errorf("mechanisms with http only: %q, want PLAIN", got)
	}
	if err := melliumLogin(t, ts, "alice", "secret"); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := melliumLogin(t, ts, "alice", "wrong"); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
}

func TestLoginJWT(t *testing.T) {
	const secret = "an HMAC secret of at least 32 bytes!"
	ts := enginetest.Start(t, enginetest.WithConfig(func(c *config.Config) {
		c.Auth.Methods = []string{"internal", "jwt"}
		c.Auth.JWT.Secret = secret
	}))
	ts.AddUser("bob", "pw")
	if got := mechanisms(t, ts); len(got) < 2 || !strings.HasPrefix(got[0], "SCRAM-") {
		t.Errorf("mechanisms with internal and jwt: %q, want SCRAM first", got)
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Minute).Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if err := melliumLogin(t, ts, "alice", token); err != nil {
		t.Fatalf("login with a token: %v", err)
	}
	if err := melliumLogin(t, ts, "bob", token); err == nil {
		t.Fatal("alice's token logged bob in")
	}
	if err := melliumLogin(t, ts, "bob", "pw"); err != nil {
		t.Fatalf("internal login beside jwt: %v", err)
	}
}

// aliceExtauth is an extauth program knowing alice@localhost with password "secret".
const aliceExtauth = `import struct, sys
while True:
    h = sys.stdin.buffer.read(2)
    if len(h) < 2: sys.exit(0)
    req = sys.stdin.buffer.read(struct.unpack(">H", h)[0]).decode()
    ok = req == "auth:alice:localhost:secret" or req == "isuser:alice:localhost"
    sys.stdout.buffer.write(struct.pack(">HH", 2, int(ok)))
    sys.stdout.buffer.flush()
`

func TestLoginExternal(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is needed")
		}
		t.Skip("python3 not found")
	}
	script := filepath.Join(t.TempDir(), "auth.py")
	err = os.WriteFile(script, []byte(aliceExtauth), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ts := enginetest.Start(t, enginetest.WithConfig(func(c *config.Config) {
		c.Auth.Methods = []string{"external"}
		c.Auth.External.Program = py
		c.Auth.External.Args = []string{script}
	}))
	if err := melliumLogin(t, ts, "alice", "secret"); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := melliumLogin(t, ts, "alice", "nope"); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
}

// A method that does not answer in time fails the login with temporary-auth-failure
// soon after its timeout; the stream stays usable.
func TestLoginTimeout(t *testing.T) {
	svc := passwordService(t, 10*time.Second)
	ts := enginetest.Start(t, enginetest.WithConfig(func(c *config.Config) {
		c.Auth.Methods = []string{"http"}
		c.Auth.HTTP.BaseURL = svc.URL
		c.Auth.HTTP.Timeout = config.Dur(300 * time.Millisecond)
	}))
	rc := enginetest.DialRaw(t, ts.Plain)
	rc.Send(enginetest.StreamOpen)
	rc.ReadUntil("</stream:features>")
	rc.Buf.Reset()
	start := time.Now()
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret")) + "</auth>")
	got := rc.ReadUntil("</failure>")
	if !strings.Contains(got, "<temporary-auth-failure/>") {
		t.Errorf("answer %q, want temporary-auth-failure", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failure after %v with a 300ms timeout", d)
	}
}

// An ANONYMOUS login gets a fresh JID; what it stored (a roster item) is gone once
// its session ends.
func TestLoginAnonymous(t *testing.T) {
	hosts := make(chan *engine.Host, 1)
	probe := func(engine.ModuleConfig) (engine.Module, error) { return hostProbe(hosts), nil }
	ts := enginetest.Start(t,
		enginetest.WithConfig(withMethods("internal", "anonymous")),
		enginetest.WithModule(roster.Name, roster.New, nil),
		enginetest.WithModule(presence.Name, presence.New, nil),
		enginetest.WithModule("mod_probe", probe, nil),
		enginetest.WithModule(register.Name, register.New, nil))
	host := <-hosts
	exists := func(user string) bool {
		t.Helper()
		ok, err := host.UserExists(context.Background(), user)
		if err != nil {
			t.Fatalf("UserExists(%s): %v", user, err)
		}
		return ok
	}
	ts.AddUser("bob", "pw")
	if !exists("bob") || exists("carol") {
		t.Errorf("UserExists: bob %v, carol %v", exists("bob"), exists("carol"))
	}
	if got := mechanisms(t, ts); !contains(got, "ANONYMOUS") || !contains(got, "SCRAM-SHA-256") {
		t.Errorf("mechanisms: %q", got)
	}
	rosters := ts.Store.(backends.Rosters)
	login := func() (*enginetest.Raw, jid.JID) {
		rc := enginetest.DialRaw(t, ts.Plain)
		rc.Send(enginetest.StreamOpen)
		rc.ReadUntil("</stream:features>")
		rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'>=</auth>")
		rc.ReadUntil("<success")
		rc.Buf.Reset()
		rc.Send(enginetest.StreamOpen)
		rc.ReadUntil("</stream:features>")
		rc.Send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
		res := rc.ReadUntil("</iq>")
		m := regexp.MustCompile(`<jid>([^<]+)</jid>`).FindStringSubmatch(res)
		if m == nil {
			t.Fatalf("bind result %q", res)
		}
		rc.Buf.Reset()
		return rc, jid.MustParse(m[1])
	}
	rc, j := login()
	_, j2 := login()
	if !strings.HasPrefix(j.Localpart(), "anon-") || j.Domainpart() != "localhost" || j.Bare().Equal(j2.Bare()) {
		t.Fatalf("anonymous JIDs %s and %s", j, j2)
	}
	rc.Send("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='friend@localhost' name='F'/></query></iq>")
	rc.ReadUntil("id='r1'")
	items, _, err := rosters.Roster(context.Background(), "localhost", j.Localpart())
	if err != nil || len(items) != 1 {
		t.Fatalf("roster while online: %v, %v", items, err)
	}
	// The name cannot be logged into with a password, even by someone who created an
	// account of that name (in-band registration does not know anonymous names).
	ts.AddUser(j2.Localpart(), "pw")
	if err := melliumLogin(t, ts, j2.Localpart(), "pw"); err == nil {
		t.Error("PLAIN login as an anonymous user succeeded")
	}
	if !exists(j.Localpart()) {
		t.Errorf("UserExists(%s) = false while its session is bound", j.Localpart())
	}
	// An anonymous user cannot give itself a password (XEP-0077 password change).
	rc.Send("<iq type='set' id='p1'><query xmlns='jabber:iq:register'><username>" + j.Localpart() +
		"</username><password>a long new password</password></query></iq>")
	if got := rc.ReadUntil("id='p1'"); !strings.Contains(got, "type='error'") {
		t.Errorf("password change by an anonymous user: %q", got)
	}
	if _, err := ts.Store.Account(context.Background(), "localhost", j.Localpart()); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("account of the anonymous user after a password change: %v", err)
	}
	rc.Send("</stream:stream>")
	rc.ReadAll()
	deadline := time.Now().Add(5 * time.Second)
	for {
		items, _, err = rosters.Roster(context.Background(), "localhost", j.Localpart())
		if err == nil && len(items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster 5 s after logout: %v, %v", items, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if exists(j.Localpart()) {
		t.Errorf("UserExists(%s) = true after logout", j.Localpart())
	}
}

// hostProbe is a module that hands its Host to the test.
type hostProbe chan *engine.Host

func (p hostProbe) Start(h *engine.Host) error { p <- h; return nil }
func (hostProbe) Stop() error                  { return nil }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// benchUsersTable creates hermod_t_auth.bench_users (the unit tests' database) with
// alice@localhost, password "secret", and returns its DSN.
func benchUsersTable() (string, error) {
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/?timeout=2s")
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS hermod_t_auth",
		"CREATE TABLE IF NOT EXISTS hermod_t_auth.bench_users (username VARCHAR(64) NOT NULL, server VARCHAR(64) NOT NULL, plain VARCHAR(64), PRIMARY KEY (username, server))",
		"REPLACE INTO hermod_t_auth.bench_users VALUES ('alice', 'localhost', 'secret')",
	} {
		if _, err := db.Exec(q); err != nil {
			return "", err
		}
	}
	return "root@tcp(127.0.0.1:3306)/hermod_t_auth?timeout=2s", nil
}

// Each host authenticates with its own methods ([auth.host."x"]).
func TestPerHostMethods(t *testing.T) {
	const secret = "an HMAC secret of at least 32 bytes!"
	ts := enginetest.Start(t, enginetest.WithConfig(func(c *config.Config) {
		c.General.Hosts = []string{"localhost", "tokens.localhost"}
		c.Auth.Methods = []string{"internal"}
		c.Auth.JWT.Secret = secret
		c.Auth.Host = map[string]config.AuthHost{"tokens.localhost": {Methods: []string{"jwt", "anonymous"}}}
	}))
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice@tokens.localhost"}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	login := func(domain, mech, payload string) string {
		rc := enginetest.DialRaw(t, ts.Plain)
		rc.Send(strings.Replace(enginetest.StreamOpen, "to='localhost'", "to='"+domain+"'", 1))
		features := rc.ReadUntil("</stream:features>")
		rc.Buf.Reset()
		rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + mech + "'>" + base64.StdEncoding.EncodeToString([]byte(payload)) + "</auth>")
		return features + saslOutcome(t, rc)
	}
	if got := login("tokens.localhost", "PLAIN", "\x00alice\x00"+token); !strings.Contains(got, "<success") || strings.Contains(got, "SCRAM") || !strings.Contains(got, "ANONYMOUS") {
		t.Errorf("token login on tokens.localhost: %q", got)
	}
	if got := login("localhost", "PLAIN", "\x00alice\x00"+token); !strings.Contains(got, "<not-authorized/>") || strings.Contains(got, "ANONYMOUS") {
		t.Errorf("token login on localhost (internal only): %q", got)
	}
}

// saslOutcome reads until the server's <success/> or <failure/> and returns what came.
func saslOutcome(t *testing.T, rc *enginetest.Raw) string {
	t.Helper()
	_ = rc.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		got := rc.Buf.String()
		if strings.Contains(got, "<success") || strings.Contains(got, "</failure>") {
			return got
		}
		n, err := rc.Conn.Read(buf)
		rc.Buf.Write(buf[:n])
		if err != nil {
			t.Fatalf("waiting for the SASL outcome: %v; got %q", err, rc.Buf.String())
		}
	}
}
