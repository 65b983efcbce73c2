package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/internal/mariadbtest"
)

// writeConfig writes a configuration file serving localhost and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hermod.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func embeddedConfig(t *testing.T, dir string) string {
	return writeConfig(t, fmt.Sprintf("[general]\nhosts = [\"localhost\"]\ndata_dir = %q\n", dir))
}

func TestDBErrors(t *testing.T) {
	cfg := embeddedConfig(t, t.TempDir())
	down := writeConfig(t, "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"hermod:pw@tcp(127.0.0.1:1)/hermod?timeout=1s\"\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"db"}, exitUsage, "missing subcommand"},
		{"unknown subcommand", []string{"db", "dump"}, exitUsage, `unknown subcommand "dump"`},
		{"export without out", []string{"db", "export", "--config", cfg}, exitUsage, "--out FILE"},
		{"import without file", []string{"db", "import", "--config", cfg}, exitUsage, "one FILE"},
		{"import workers", []string{"db", "import", "--config", cfg, "--workers", "0", "f"}, exitUsage, "at least 1"},
		{"migrate without dsn", []string{"db", "migrate", "--config", cfg}, exitUsage, "no [backends.mysql] dsn"},
		{"migrate argument", []string{"db", "migrate", "x"}, exitUsage, "no arguments"},
		{"import missing file", []string{"db", "import", "--config", cfg, filepath.Join(t.TempDir(), "none.gz")}, exitRuntime, "no such file"},
		{"import not an export", []string{"db", "import", "--config", cfg, cfg}, exitRuntime, "not a gzip stream"},
		{"migrate unreachable", []string{"db", "migrate", "--config", down}, exitRuntime, "cannot reach MySQL at 127.0.0.1:1 (database hermod)"},
		{"serve unreachable", []string{"serve", "--config", down, "--c2s", "127.0.0.1:" + freePort(t), "--admin", "127.0.0.1:" + freePort(t)}, exitRuntime, "cannot reach MySQL at 127.0.0.1:1"},
		{"export unreachable", []string{"db", "export", "--config", down, "--out", filepath.Join(t.TempDir(), "x.gz")}, exitRuntime, "cannot reach MySQL at 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.code, tt.want, "", tt.args...)
		})
	}
}

// putData gives juliet@localhost a roster item, a pending request and an offline
// message in the embedded store of dir.
func putData(t *testing.T, dir string) {
	t.Helper()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	item := backends.RosterItem{Contact: "romeo@localhost", Name: "Romeo", Groups: []string{"Montague"}, Subscription: backends.SubBoth}
	if _, err := st.PutRosterItem(ctx, "localhost", "juliet", item); err != nil {
		t.Fatal(err)
	}
	if err := st.PutPendingIn(ctx, "localhost", "juliet", backends.PendingIn{Contact: "nurse@localhost"}); err != nil {
		t.Fatal(err)
	}
	raw := "<message from='romeo@localhost/orchard' to='juliet@localhost' type='chat' id='o1'><body>Wherefore art thou?</body>" +
		"<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-11-26T19:00:00Z'>Offline Storage</delay></message>"
	msg := backends.OfflineMessage{Domain: "localhost", User: "juliet", Stamp: time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC), Raw: []byte(raw)}
	if _, err := st.AppendOffline(ctx, []backends.OfflineMessage{msg}, 0); err != nil {
		t.Fatal(err)
	}
	// A namespace no client list names: found only because the store lists them.
	notes := backends.PrivateItem{Namespace: "urn:example:notes", XML: []byte("<notes xmlns='urn:example:notes'>Balcony at nine</notes>")}
	if err := st.SetPrivateXML(ctx, "localhost", "juliet", []backends.PrivateItem{notes}); err != nil {
		t.Fatal(err)
	}
}

// Embedded to embedded through the commands: keys, roster and offline message arrive;
// a second import into the same store is refused.
func TestDBExportImportEmbedded(t *testing.T) {
	from, to := t.TempDir(), t.TempDir()
	expect(t, 0, "added juliet@localhost", "", "user", "add", "juliet@localhost", "r0m30", "--data", from)
	putData(t, from)
	file := filepath.Join(t.TempDir(), "hermod.jsonl.gz")
	expect(t, 0, "1 accounts, 1 rosters (1 items, 1 pending requests), 1 offline messages", "", "db", "export", "--config", embeddedConfig(t, from), "--out", file)
	toCfg := embeddedConfig(t, to)
	expect(t, 0, "imported "+file, "", "db", "import", "--config", toCfg, file)
	a, err := account(t, to, "localhost", "juliet")
	if err != nil {
		t.Fatal(err)
	}
	checkPassword(t, a, "r0m30")
	st, err := embedded.Open(to, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := st.Roster(t.Context(), "localhost", "juliet")
	n, cerr := st.CountOffline(t.Context(), "localhost", "juliet")
	st.Close()
	if err != nil || cerr != nil || len(items) != 1 || items[0].Name != "Romeo" || n != 1 {
		t.Errorf("imported roster %+v (%v), %d offline messages (%v)", items, err, n, cerr)
	}
	expect(t, 1, "import only into an empty store", "", "db", "import", "--config", toCfg, file)
}

// The way docs/backends.md describes: a server's embedded store exported, imported into
// MariaDB, and a server on MariaDB where the user logs in with the old password and
// gets the roster and the offline message.
func TestDBEmbeddedToMySQLEndToEnd(t *testing.T) {
	dsn := mariadbtest.Fresh(t, "hermod_t_transfer")
	from := t.TempDir()
	expect(t, 0, "added juliet@localhost", "", "user", "add", "juliet@localhost", "r0m30", "--data", from)
	expect(t, 0, "added romeo@localhost", "", "user", "add", "romeo@localhost", "j00l13t", "--data", from)
	putData(t, from)
	file := filepath.Join(t.TempDir(), "hermod.jsonl.gz")
	expect(t, 0, "2 accounts", "", "db", "export", "--config", embeddedConfig(t, from), "--out", file)

	port := freePort(t)
	mysqlCfg := writeConfig(t, fmt.Sprintf(`[general]
hosts = ["localhost"]
data_dir = %q
[[listen.c2s]]
address = "127.0.0.1"
port = %s
tls = "none"
[admin]
address = ""
[backends]
default = "mysql"
[backends.mysql]
dsn = %q
`, t.TempDir(), port, dsn))
	expect(t, 1, "hermod db migrate", "", "db", "import", "--config", mysqlCfg, file) // schema not there yet
	expect(t, 0, "applied 0001", "", "db", "migrate", "--config", mysqlCfg)
	expect(t, 0, "is current", "", "db", "migrate", "--config", mysqlCfg)
	expect(t, 0, "2 accounts, 1 rosters (1 items, 1 pending requests), 1 offline messages, 0 vCards, 1 private XML items", "", "db", "import", "--config", mysqlCfg, file)
	// The user commands with this configuration work on MariaDB too.
	expect(t, 0, "added nurse@localhost", "", "user", "add", "nurse@localhost", "pw", "--config", mysqlCfg)
	if out := expect(t, 0, "", "", "user", "list", "localhost", "--config", mysqlCfg); out != "juliet@localhost\nnurse@localhost\nromeo@localhost\n" {
		t.Errorf("user list on MariaDB = %q", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", mysqlCfg}, stdio{in: strings.NewReader(""), out: &logs, err: &logs})
	}()
	addr := "127.0.0.1:" + port
	waitDial(t, addr, done, &logs)
	if !strings.Contains(logs.String(), "engine=mysql") {
		t.Errorf("the server did not log its MySQL store:\n%s", logs.String())
	}

	rc := enginetest.DialRaw(t, addr)
	rc.Send(enginetest.StreamOpen)
	rc.ReadUntil("</stream:features>")
	rc.Buf.Reset()
	cred := base64.StdEncoding.EncodeToString([]byte("\x00juliet\x00r0m30"))
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + cred + "</auth>")
	if got := rc.ReadUntil("/>"); !strings.Contains(got, "<success") {
		t.Fatalf("login with the old password: %q\nserver log:\n%s", got, logs.String())
	}
	rc.Buf.Reset()
	rc.Send(enginetest.StreamOpen)
	rc.ReadUntil("</stream:features>")
	rc.Send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>")
	rc.ReadUntil("</iq>")
	rc.Buf.Reset()
	rc.Send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	roster := rc.ReadUntil("</iq>")
	for _, want := range []string{"romeo@localhost", "Romeo", "<group>Montague</group>", "subscription='both'"} {
		if !strings.Contains(strings.ReplaceAll(roster, `"`, "'"), want) {
			t.Errorf("roster lacks %q: %q", want, roster)
		}
	}
	rc.Buf.Reset()
	rc.Send("<iq type='get' id='p1'><query xmlns='jabber:iq:private'><notes xmlns='urn:example:notes'/></query></iq>")
	if got := rc.ReadUntil("</iq>"); !strings.Contains(got, "Balcony at nine") {
		t.Errorf("private XML: %q", got)
	}
	rc.Buf.Reset()
	rc.Send("<presence/>")
	if got := rc.ReadUntil("</message>"); !strings.Contains(got, "Wherefore art thou?") {
		t.Errorf("offline message: %q", got)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// waitDial waits until addr accepts connections or the server exits.
func waitDial(t *testing.T, addr string, done <-chan int, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never accepted a connection:\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
