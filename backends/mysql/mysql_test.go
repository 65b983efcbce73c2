package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/backendtest"
)

// testDatabase is this package's own database on the shared server. It is never
// dropped: two runs of this package (two people, or a run and a benchmark) may use it
// at once, and each test works in random domains of its own (benchmarks delete theirs).
const testDatabase = "hermod_t_mysql"

// serverDSN returns the DSN of the test server without a database:
// HERMOD_TEST_MYSQL_ADDR (default 127.0.0.1:3306), user root, no password.
func serverDSN() string {
	addr := os.Getenv("HERMOD_TEST_MYSQL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:3306"
	}
	return fmt.Sprintf("root@tcp(%s)/", addr)
}

var (
	setupOnce sync.Once
	setupErr  error
)

// testDSN returns the DSN of database db (created if needed) on the test server, or
// skips t when the server is absent outside CI.
func testDSN(t testing.TB, db string) string {
	t.Helper()
	setupOnce.Do(func() { setupErr = createDatabase(testDatabase) })
	err := setupErr
	if err == nil && db != testDatabase {
		err = createDatabase(db)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MariaDB at %s: %v", serverDSN(), err)
		}
		t.Skipf("MariaDB at %s is not reachable (%v); CI=true makes this a failure", serverDSN(), err)
	}
	return serverDSN() + db
}

func createDatabase(name string) error { return createDatabaseOn(serverDSN(), name) }

func adminPool(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// createDatabaseOn creates database name on the server of dsn.
func createDatabaseOn(dsn, name string) error {
	db, err := adminPool(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"`")
	return err
}

// openTest opens a store on the package's database with migrations applied, closed
// when t ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.DSN == "" {
		opts.DSN = testDSN(t, testDatabase)
	}
	opts.Migrate = true
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 8
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	dsn := testDSN(t, testDatabase)
	open := func(t *testing.T) backends.Store {
		s, err := Open(context.Background(), Options{DSN: dsn, Migrate: true, MaxOpenConns: 4})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
	backendtest.Run(t, open, backendtest.Reopen(func(t *testing.T, st backends.Store) backends.Store {
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		return open(t)
	}))
}

// TestConformanceUnpipelined runs the suite with the write pipeline disabled and with
// batches of one row, the two other ways writes reach the server.
func TestConformanceUnpipelined(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the pipelined run covers the same cases")
	}
	dsn := testDSN(t, testDatabase)
	for name, p := range map[string]PipelineOptions{
		"Disabled": {Disabled: true},
		"OneRow":   {MaxBatchRows: 1},
	} {
		t.Run(name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) backends.Store {
				s, err := Open(context.Background(), Options{DSN: dsn, Migrate: true, MaxOpenConns: 4, Pipeline: p})
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return s
			})
		})
	}
}

// TestTextColumnsRefuseInvalidUTF8 checks that text bound for utf8mb4 columns that is
// not UTF-8 fails with ErrInvalid rather than a server error.
func TestTextColumnsRefuseInvalidUTF8(t *testing.T) {
	s := openTest(t, Options{})
	dom := testDomain(t)
	for name, err := range map[string]error{
		"roster name": errorOf(s.PutRosterItem(t.Context(), dom, "u", backends.RosterItem{Contact: "c@example.net", Name: "\xff"})),
		"group":       errorOf(s.PutRosterItem(t.Context(), dom, "u", backends.RosterItem{Contact: "c@example.net", Groups: []string{"ok", "\xc3"}})),
		"status":      s.SetLastLogout(t.Context(), dom, "u", backends.LastLogout{At: time.Now(), Status: "\xe2\x82"}),
	} {
		if !errors.Is(err, backends.ErrInvalid) {
			t.Errorf("%s not UTF-8: %v, want ErrInvalid", name, err)
		}
	}
	if v, _ := s.RosterVersion(t.Context(), dom, "u"); v != 0 {
		t.Errorf("a refused item changed the roster version to %d", v)
	}
}

func errorOf[T any](_ T, err error) error { return err }

func TestPrivateNamespaces(t *testing.T) {
	s := openTest(t, Options{})
	dom := testDomain(t)
	items := []backends.PrivateItem{
		{Namespace: "storage:bookmarks", XML: []byte("<storage xmlns='storage:bookmarks'/>")},
		{Namespace: "Storage:bookmarks", XML: []byte("<storage xmlns='Storage:bookmarks'/>")},
		{Namespace: "exodus:prefs", XML: []byte("<prefs xmlns='exodus:prefs'/>")},
	}
	if err := s.SetPrivateXML(t.Context(), dom, "u", items); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPrivateXML(t.Context(), dom, "u2", items[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := s.PrivateNamespaces(t.Context(), dom, "u")
	if want := []string{"Storage:bookmarks", "exodus:prefs", "storage:bookmarks"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("PrivateNamespaces = %q, %v; want %q", got, err, want)
	}
	if got, err := s.PrivateNamespaces(t.Context(), dom, "nobody"); err != nil || len(got) != 0 {
		t.Fatalf("PrivateNamespaces of nobody = %q, %v", got, err)
	}
}
