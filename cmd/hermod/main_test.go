package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/admin/accounts"
	"github.com/hermod-im/hermod/engine/sasl"
)

// hermod runs one command line in-process and returns its exit code and output.
func hermod(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func expect(t *testing.T, wantCode int, wantOut string, stdin string, args ...string) string {
	t.Helper()
	code, out, errs := hermod(t, stdin, args...)
	if code != wantCode || !strings.Contains(out+errs, wantOut) {
		t.Fatalf("hermod %s: exit %d, stdout %q, stderr %q; want exit %d with %q", strings.Join(args, " "), code, out, errs, wantCode, wantOut)
	}
	return out
}

// account opens the store after the commands ran (they closed it) and returns one account.
func account(t *testing.T, dir, domain, user string) (backends.Account, error) {
	t.Helper()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return st.Account(context.Background(), domain, user)
}

func checkPassword(t *testing.T, a backends.Account, pw string) {
	t.Helper()
	k := a.Credentials.SHA256
	if k == nil || a.Credentials.SHA1 == nil || a.Credentials.SHA512 == nil {
		t.Fatalf("keys missing: %+v", a.Credentials)
	}
	if d := sasl.DeriveKeys(sasl.SHA256, pw, k.Salt, k.Iterations); !bytes.Equal(d.StoredKey, k.StoredKey) {
		t.Errorf("stored keys of %s do not match %q", a.User, pw)
	}
}

func TestUserCommandsDirect(t *testing.T) {
	dir := t.TempDir()
	expect(t, 0, "added alice@localhost", "", "user", "add", "Alice@localhost", "pw1", "--data", dir)
	expect(t, 1, "already exists", "", "user", "add", "alice@localhost", "pw1", "--data", dir)
	expect(t, 1, "not a valid JID", "", "user", "add", "a b@localhost", "pw", "--data", dir)
	expect(t, 0, "added bob@elsewhere.example", "from stdin\n", "user", "--data", dir, "add", "bob@elsewhere.example", "-")
	a, err := account(t, dir, "localhost", "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkPassword(t, a, "pw1")
	if a.Credentials.SHA1.Iterations != 4096 || len(a.Credentials.SHA1.Salt) != 16 {
		t.Errorf("iterations %d, salt %d bytes", a.Credentials.SHA1.Iterations, len(a.Credentials.SHA1.Salt))
	}

	expect(t, 0, "password of alice@localhost changed", "pw2\n", "user", "passwd", "alice@localhost", "-", "--data", dir)
	a, _ = account(t, dir, "localhost", "alice")
	checkPassword(t, a, "pw2")
	expect(t, 1, "no password on standard input", "", "user", "passwd", "alice@localhost", "-", "--data", dir)
	expect(t, 1, "no such account", "", "user", "passwd", "zed@localhost", "x", "--data", dir)

	csv := filepath.Join(t.TempDir(), "u.csv")
	if err := os.WriteFile(csv, []byte("carol@localhost,c\ndave@localhost,\"d,d\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, 0, "imported 2 accounts", "", "user", "import", csv, "--data", dir)
	d, _ := account(t, dir, "localhost", "dave")
	checkPassword(t, d, "d,d")
	expect(t, 0, "imported 1 accounts", "erin@localhost,e\n", "user", "import", "-", "--data", dir)
	expect(t, 1, "line 1", "bad\n", "user", "import", "-", "--data", dir)
	expect(t, 1, "no such file", "", "user", "import", filepath.Join(dir, "absent.csv"), "--data", dir)

	out := expect(t, 0, "", "", "user", "list", "localhost", "--data", dir)
	if out != "alice@localhost\ncarol@localhost\ndave@localhost\nerin@localhost\n" {
		t.Errorf("list = %q", out)
	}
	expect(t, 0, "deleted carol@localhost", "", "user", "del", "carol@localhost", "--data", dir)
	expect(t, 1, "no such account", "", "user", "del", "carol@localhost", "--data", dir)
}

func TestUserCommandsWithConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hermod.toml")
	data := filepath.Join(dir, "data")
	doc := "[general]\nhosts = [\"example.com\"]\ndata_dir = \"" + data + "\"\n[auth]\nscram_iterations = 5000\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, 0, "added", "", "user", "add", "u@example.com", "pw", "--config", cfg)
	expect(t, 1, "not served", "", "user", "add", "u@localhost", "pw", "--config", cfg)
	a, err := account(t, data, "example.com", "u")
	if err != nil {
		t.Fatal(err)
	}
	if a.Credentials.SHA512.Iterations != 5000 {
		t.Errorf("iterations = %d, want the config's 5000", a.Credentials.SHA512.Iterations)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[general]\nhots = []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := hermod(t, "", "user", "list", "example.com", "--config", bad)
	if code != 2 || !strings.Contains(errs, "bad.toml:2:1: general.hots: unknown key") || strings.Contains(errs, "usage:") {
		t.Errorf("bad config: exit %d, %q", code, errs)
	}
}

// While a server holds the store, the direct commands fail with a pointer to --admin.
func TestUserCommandsLockedStore(t *testing.T) {
	expect(t, 1, "use --admin ADDR", "", "user", "list", "localhost", "--data", lockedStore(t))
}

// lockedStore returns a data directory whose embedded store is held open until the
// test ends, as a running server holds it.
func lockedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return dir
}

func TestUserCommandsAdmin(t *testing.T) {
	st := memory.New()
	defer st.Close()
	mgr, err := accounts.New(accounts.Options{Store: st, Iterations: func(string) int { return 4096 }, Hosts: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.New(admin.Options{Users: mgr}).Handler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	expect(t, 0, "added a@example.com", "", "user", "add", "a@example.com", "pw", "--admin", addr)
	expect(t, 1, "already exists", "", "user", "add", "a@example.com", "pw", "--admin", addr)
	expect(t, 1, "not served", "", "user", "add", "a@localhost", "pw", "--admin", addr)
	expect(t, 0, "changed", "", "user", "passwd", "a@example.com", "pw2", "--admin", addr)
	a, err := st.Account(context.Background(), "example.com", "a")
	if err != nil {
		t.Fatal(err)
	}
	checkPassword(t, a, "pw2")
	expect(t, 0, "imported 2 accounts", "b@example.com,1\nc@example.com,2\n", "user", "import", "-", "--admin", addr)
	expect(t, 1, "line 2", "b@example.com,1\nnope,2\n", "user", "import", "-", "--admin", addr)
	out := expect(t, 0, "", "", "user", "list", "example.com", "--admin", addr)
	if out != "a@example.com\nb@example.com\nc@example.com\n" {
		t.Errorf("list = %q", out)
	}
	expect(t, 0, "deleted", "", "user", "del", "b@example.com", "--admin", addr)
	expect(t, 1, "no such account", "", "user", "del", "b@example.com", "--admin", addr)

	srv.Close()
	expect(t, 1, "is a server running", "", "user", "list", "example.com", "--admin", addr)
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"frobnicate"},
		{"user"},
		{"user", "frob"},
		{"user", "add", "only-a-jid"},
		{"user", "del"},
		{"user", "list", "a", "b"},
		{"user", "add", "a@b", "pw", "--admin", "127.0.0.1:1", "--data", "/tmp"},
		{"user", "list", "x", "--nope"},
		{"check-config"},
		{"serve", "extra"},
		{"--c2s", "nonsense"},
		{"--c2s", "example.com:5222"},
		{"--http", "1.2.3.4:0"},
		{"--domain", "bad host"},
		{"--config", "/nonexistent/hermod.toml"},
	}
	for _, args := range tests {
		code, _, errs := hermod(t, "", args...)
		if code != 2 || errs == "" {
			t.Errorf("hermod %q: exit %d, stderr %q; want exit 2", args, code, errs)
		}
	}
	expect(t, 0, "usage:", "", "help")
}

func TestCheckConfig(t *testing.T) {
	out := expect(t, 0, "OK", "", "check-config", "../../hermod.example.toml")
	if !strings.Contains(out, "c2s:       0.0.0.0 port 5222, tls starttls") || !strings.Contains(out, "admin:     127.0.0.1:8088") {
		t.Errorf("summary = %q", out)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "h.toml")
	doc := "[general]\nloglevel = \"loud\"\n\n[[listen.c2s]]\ntls = \"sometimes\"\n"
	if err := os.WriteFile(bad, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := hermod(t, "", "check-config", bad)
	if code != 2 || !strings.Contains(errs, bad+":2:") || !strings.Contains(errs, bad+":5:") || !strings.Contains(errs, "2 problem(s)") {
		t.Errorf("check-config bad: exit %d, stderr %q", code, errs)
	}
	missing := filepath.Join(dir, "m.toml")
	if err := os.WriteFile(missing, []byte("[tls]\ncertfile = \"/nonexistent/c.pem\"\nkeyfile = \"/nonexistent/k.pem\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = hermod(t, "", "check-config", missing)
	if code != 2 || !strings.Contains(errs, missing+":2:") || !strings.Contains(errs, "cannot read") {
		t.Errorf("check-config missing certs: exit %d, stderr %q", code, errs)
	}
	syntax := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(syntax, []byte("[general\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = hermod(t, "", "check-config", syntax)
	if code != 2 || !strings.Contains(errs, syntax+":1:") || !strings.Contains(errs, "[general") {
		t.Errorf("check-config syntax: exit %d, stderr %q", code, errs)
	}
	// The modules' own tables are checked too, every module's problems at once.
	mods := filepath.Join(dir, "mods.toml")
	doc = "[modules.mod_vcard]\nbogus = 1\n\n[modules.mod_last]\nflush_interval = \"soon\"\n\n[modules.mod_nothing]\n\n[modules.mod_offline]\nmax_messages = 0\n"
	if err := os.WriteFile(mods, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = hermod(t, "", "check-config", mods)
	for _, want := range []string{
		mods + ":2:1: modules.mod_vcard.bogus: unknown key",
		mods + ":5:18: modules.mod_last.flush_interval: invalid duration",
		mods + ":7:", `unknown module "mod_nothing"`,
		mods + ":10:1: modules.mod_offline.max_messages: 0: want 1 to 1000000",
		"4 problem(s)",
	} {
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("check-config of module tables: exit %d, stderr %q; want %q", code, errs, want)
		}
	}
}
