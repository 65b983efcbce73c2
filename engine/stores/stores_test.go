package stores

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/backends/mysql"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/internal/mariadbtest"
)

func parse(t *testing.T, doc string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(doc), "hermod.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.General.DataDir = t.TempDir()
	return c
}

func TestOpenEmbeddedAndMemory(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := parse(t, "[backends]\nlast = \"memory\"\noffline = \"memory\"\n")
	st, err := Open(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := st.Parts()
	if _, ok := p.Accounts.(*embedded.Store); !ok {
		t.Errorf("accounts in %T, want the embedded store", p.Accounts)
	}
	if p.Accounts != p.Rosters || p.Accounts != p.Privacy || p.Accounts != p.VCard || p.Accounts != p.Private {
		t.Errorf("the embedded store was opened more than once: %+v", p)
	}
	if _, ok := p.Last.(*memory.Store); !ok || p.Last != p.Offline {
		t.Errorf("last in %T, offline in %T: want one memory store", p.Last, p.Offline)
	}
	if n := len(st.Engines()); n != 2 {
		t.Errorf("%d engines, want 2", n)
	}
	for _, want := range []string{"engine=embedded kinds=\"[accounts rosters vcard private privacy]\"", "engine=memory kinds=\"[offline last]\""} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// A MySQL server that is not there fails Open promptly, with what and where.
func TestOpenMySQLUnreachable(t *testing.T) {
	cfg := parse(t, "[backends]\naccounts = \"mysql\"\n[backends.mysql]\ndsn = \"hermod:secret@tcp(127.0.0.1:1)/hermod?timeout=1s\"\n")
	start := time.Now()
	_, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("Open succeeded without a server")
	}
	for _, want := range []string{"open the mysql store (keeping [accounts])", "cannot reach MySQL at 127.0.0.1:1 (database hermod)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %v", d)
	}
}

func TestOpenMySQL(t *testing.T) {
	dsn := mariadbtest.Fresh(t, "hermod_t_stores")
	doc := "[backends]\ndefault = \"mysql\"\nlast = \"embedded\"\n[backends.mysql]\ndsn = \"" + dsn + "\"\n"
	cfg := parse(t, doc)
	_, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("Open on an empty database without migrate_on_start: %v, want the schema refused", err)
	}
	cfg.Backends.MySQL.MigrateOnStart = true
	st, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.Parts().Rosters.(*mysql.Store); !ok {
		t.Errorf("rosters in %T", st.Parts().Rosters)
	}
	if _, ok := st.Parts().Last.(*embedded.Store); !ok {
		t.Errorf("last in %T", st.Parts().Last)
	}
	ctx := t.Context()
	if err := st.CreateAccount(ctx, backends.Account{Domain: "a.example", User: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetLastLogout(ctx, "a.example", "u", backends.LastLogout{At: time.Unix(9, 0)}); err != nil {
		t.Fatal(err)
	}
	emb := st.Parts().Last.(*embedded.Store)
	if l, err := emb.LastLogout(ctx, "a.example", "u"); err != nil || l.At.Unix() != 9 {
		t.Errorf("last logout in the embedded store: %v, %v", l, err)
	}
	if n, err := st.Parts().Accounts.CountAccounts(ctx, "a.example"); err != nil || n != 1 {
		t.Errorf("accounts in MySQL: %d, %v", n, err)
	}
}

func TestSessionRegistry(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"memory", ""},
		{"redis", "[backends]\nsessions = \"redis\"\n[backends.redis]\nkey_prefix = \"hermod_t_stores:\"\ntimeout = \"1s\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parse(t, tt.doc)
			st, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			reg, ok := st.Backend().(backends.Sessions)
			if !ok {
				t.Fatalf("Backend() (%T) keeps no sessions", st.Backend())
			}
			ctx := t.Context()
			node := "stores-test-" + tt.name
			if _, err := reg.Refresh(ctx, node); err != nil {
				if errors.Is(err, backends.ErrUnavailable) && os.Getenv("CI") != "true" {
					t.Skipf("Redis at %s is not reachable (%v); CI=true makes this a failure", cfg.Backends.Redis.Address, err)
				}
				t.Fatal(err)
			}
			defer reg.PurgeNode(context.Background(), node)
			if err := reg.Register(ctx, backends.Session{Domain: "a.example", User: "u", Resource: "r", Node: node}); err != nil {
				t.Fatal(err)
			}
			got, err := reg.UserSessions(ctx, "a.example", "u")
			if err != nil || len(got) != 1 || got[0].Node != node {
				t.Errorf("UserSessions = %+v, %v", got, err)
			}
		})
	}
}
