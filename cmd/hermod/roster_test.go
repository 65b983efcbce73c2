package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/stores"
	"github.com/hermod-im/hermod/internal/mariadbtest"
)

// rosterOf reads one roster back through a store.
func rosterOf(t *testing.T, r backends.Rosters, domain, user string) (string, uint64) {
	t.Helper()
	items, ver, err := r.Roster(t.Context(), domain, user)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%s %s %q %q;", it.Contact, it.Subscription, it.Name, it.Groups)
	}
	return b.String(), ver
}

func embeddedRoster(t *testing.T, dir, domain, user string) (string, uint64) {
	t.Helper()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return rosterOf(t, st, domain, user)
}

const rosterCSV = `owner_jid,contact_jid,subscription,name,groups
juliet@localhost,romeo@localhost,both,Romeo,Montague;Lovers
juliet@localhost,nurse@localhost,from
romeo@localhost,juliet@localhost,both,Juliet,Capulet
Juliet@LOCALHOST,tybalt@localhost,to,,Capulet
`

func TestRosterImport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "rosters.csv")
	if err := os.WriteFile(file, []byte(rosterCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, 0, "imported 4 roster items of 2 rosters", "", "roster", "import", file, "--data", dir)
	got, ver := embeddedRoster(t, dir, "localhost", "juliet")
	want := `nurse@localhost from "" [];romeo@localhost both "Romeo" ["Montague" "Lovers"];tybalt@localhost to "" ["Capulet"];`
	if got != want {
		t.Errorf("juliet's roster:\n got  %s\n want %s", got, want)
	}
	// Versions are those of one write per item in file order: her last item is the 4th.
	if ver != 4 {
		t.Errorf("juliet's version = %d, want 4", ver)
	}
	if got, ver := embeddedRoster(t, dir, "localhost", "romeo"); got != `juliet@localhost both "Juliet" ["Capulet"];` || ver != 3 {
		t.Errorf("romeo's roster = %s at version %d, want juliet at 3", got, ver)
	}

	// Standard input; an item imported again is replaced and the roster gets a new version.
	expect(t, 0, "imported 1 roster items of 1 rosters", "juliet@localhost,romeo@localhost,none\n", "roster", "import", "-", "--data", dir)
	got, ver = embeddedRoster(t, dir, "localhost", "juliet")
	if !strings.Contains(got, `romeo@localhost none "" [];`) || ver != 5 {
		t.Errorf("after the second import: %s at version %d", got, ver)
	}

	// A bad line writes nothing.
	expect(t, 1, "line 3: subscription \"pending-in\"", "juliet@localhost,paris@localhost,both\njuliet@localhost,friar@localhost,both\njuliet@localhost,x@localhost,pending-in\n",
		"roster", "import", "-", "--data", dir)
	if got2, ver2 := embeddedRoster(t, dir, "localhost", "juliet"); got2 != got || ver2 != ver {
		t.Errorf("a rejected import changed juliet's roster: %s at %d", got2, ver2)
	}

	// With a configuration, owners must be in its hosts.
	cfg := embeddedConfig(t, dir)
	expect(t, 1, `domain "example.com" is not served`, "alice@example.com,bob@example.com,both\n", "roster", "import", "-", "--config", cfg)
	expect(t, 0, "imported 1 roster items", "romeo@localhost,mercutio@localhost,both\n", "roster", "import", "-", "--config", cfg, "--batch", "1")
	expect(t, 1, "no such file", "", "roster", "import", filepath.Join(dir, "absent.csv"), "--data", dir)
}

func TestRosterImportErrors(t *testing.T) {
	for _, args := range [][]string{
		{"roster"},
		{"roster", "export"},
		{"roster", "import"},
		{"roster", "import", "a.csv", "b.csv"},
		{"roster", "import", "a.csv", "--batch", "0"},
		{"roster", "import", "a.csv", "--admin", "127.0.0.1:1"},
	} {
		if code, _, errs := hermod(t, "", args...); code != exitUsage || !strings.Contains(errs, "usage:") {
			t.Errorf("hermod %q: exit %d, stderr %q; want usage", args, code, errs)
		}
	}
	// The server holds the store: stop it first.
	expect(t, 1, "stop it first", "a@localhost,b@localhost,both\n", "roster", "import", "-", "--data", lockedStore(t))
}

// On MariaDB the import writes one item at a time through the Rosters interface.
func TestRosterImportMySQL(t *testing.T) {
	dsn := mariadbtest.Fresh(t, "hermod_t_roster_import")
	cfgPath := writeConfig(t, fmt.Sprintf("[general]\nhosts = [\"localhost\"]\ndata_dir = %q\n[backends]\nrosters = \"mysql\"\n[backends.mysql]\ndsn = %q\n", t.TempDir(), dsn))
	expect(t, 0, "applied", "", "db", "migrate", "--config", cfgPath)
	file := filepath.Join(t.TempDir(), "rosters.csv")
	if err := os.WriteFile(file, []byte(rosterCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := expect(t, 0, "imported 4 roster items of 2 rosters in", "", "roster", "import", file, "--config", cfgPath); !strings.Contains(out, "one write per item") {
		t.Errorf("MySQL import output %q: want one write per item", out)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stores.Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, ver := rosterOf(t, st, "localhost", "juliet")
	want := `nurse@localhost from "" [];romeo@localhost both "Romeo" ["Montague" "Lovers"];tybalt@localhost to "" ["Capulet"];`
	if got != want || ver == 0 {
		t.Errorf("juliet's roster on MariaDB:\n got  %s at version %d\n want %s", got, ver, want)
	}
}
