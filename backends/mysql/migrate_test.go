package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/hermod-im/hermod/backends"
)

// freshDB creates an empty database of this process's own, dropped when t ends (its
// name carries the process id, so that concurrent runs of this package do not drop
// each other's), and returns a pool on it and its DSN.
func freshDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	migrateDatabase := fmt.Sprintf("hermod_t_mysql_m%d", os.Getpid())
	testDSN(t, testDatabase) // skips when the server is absent
	admin := openPool(t, serverDSN())
	if _, err := admin.Exec("DROP DATABASE IF EXISTS " + migrateDatabase); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + migrateDatabase); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + migrateDatabase); err != nil {
			t.Errorf("drop %s: %v", migrateDatabase, err)
		}
	})
	return openPool(t, serverDSN()+migrateDatabase), serverDSN() + migrateDatabase
}

func openPool(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrate(t *testing.T) {
	db, dsn := freshDB(t)
	ctx := t.Context()
	want := Versions()
	if len(want) == 0 || want[0] != "0001_init" {
		t.Fatalf("Versions() = %v", want)
	}
	if pending, err := Pending(ctx, db); err != nil || !slices.Equal(pending, want) {
		t.Fatalf("Pending on an empty database = %v, %v; want %v", pending, err, want)
	}
	// Open refuses a schema that is not current unless told to migrate.
	if s, err := Open(ctx, Options{DSN: dsn}); err == nil || !strings.Contains(err.Error(), "migrate") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open without Migrate on an empty database: %v", err)
	}
	applied, err := MigrateDSN(ctx, dsn)
	if err != nil || !slices.Equal(applied, want) {
		t.Fatalf("Migrate on an empty database = %v, %v; want %v", applied, err, want)
	}
	// Re-running applies nothing and keeps one record per version.
	applied, err = Migrate(ctx, db)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing", applied, err)
	}
	wantRecords(t, db, want)
	if pending, err := Pending(ctx, db); err != nil || len(pending) != 0 {
		t.Fatalf("Pending after Migrate = %v, %v", pending, err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil || n < 12 {
		t.Fatalf("%d tables after Migrate, %v", n, err)
	}
	s, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatalf("Open without Migrate on a current schema: %v", err)
	}
	s.Close()
}

func TestMigrateDSNUnreachable(t *testing.T) {
	_, err := MigrateDSN(t.Context(), "root@tcp(127.0.0.1:1)/hermod")
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("MigrateDSN on a closed port: %v, want ErrUnavailable", err)
	}
	if _, err := MigrateDSN(t.Context(), "root@tcp(127.0.0.1:1)/"); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("MigrateDSN without a database: %v", err)
	}
}

// wantRecords fails t unless schema_migrations holds each of versions exactly once.
func wantRecords(t *testing.T, db *sql.DB, versions []string) {
	t.Helper()
	rows, err := db.Query("SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		rows.Scan(&v)
		got = append(got, v)
	}
	if !slices.Equal(got, versions) {
		t.Fatalf("schema_migrations holds %v, want %v", got, versions)
	}
}

// TestMigrateConcurrent runs Migrate from 8 pools at once on an empty database: one
// applies every migration, the others nothing, and none fails.
func TestMigrateConcurrent(t *testing.T) {
	_, dsn := freshDB(t)
	const n = 8
	results := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		db := openPool(t, dsn)
		wg.Go(func() {
			<-start
			results[i], errs[i] = Migrate(context.Background(), db)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	appliers := 0
	for _, r := range results {
		switch {
		case slices.Equal(r, Versions()):
			appliers++
		case len(r) != 0:
			t.Errorf("a concurrent Migrate applied %v", r)
		}
	}
	if appliers != 1 {
		t.Fatalf("%d concurrent Migrate calls applied the migrations: %v", appliers, results)
	}
	wantRecords(t, openPool(t, dsn), Versions())
}

func TestSplitStatements(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", nil},
		{"comments only", "-- a\n  -- b\n\n", nil},
		{"one", "CREATE TABLE a (x INT);\n", []string{"CREATE TABLE a (x INT)"}},
		{"multi-line", "CREATE TABLE a (\n\tx INT\n);\n-- c\nDROP TABLE b;", []string{"CREATE TABLE a (\n\tx INT\n)", "DROP TABLE b"}},
		{"semicolon inside a line", "INSERT INTO t VALUES ('a;b');\n", []string{"INSERT INTO t VALUES ('a;b')"}},
		{"no final semicolon", "SELECT 1;\nSELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"lone semicolons", ";\n;\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := splitStatements(c.src); !slices.Equal(got, c.want) {
				t.Errorf("splitStatements(%q) = %q, want %q", c.src, got, c.want)
			}
		})
	}
	// The built-in migrations split into statements that each start with a keyword.
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, st := range splitStatements(m.sql) {
			if !strings.HasPrefix(st, "CREATE ") {
				t.Errorf("%s: statement %q", m.version, st)
			}
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	f.Add("CREATE TABLE a (x INT);\n-- c\nDROP TABLE b;")
	f.Add(";;\n;\n--;\n")
	f.Fuzz(func(t *testing.T, src string) {
		for _, st := range splitStatements(src) {
			if strings.TrimSpace(st) == "" {
				t.Fatalf("empty statement from %q", src)
			}
			if strings.HasSuffix(strings.TrimSpace(st), ";") {
				// A statement keeps no terminating ';' of its last line.
				t.Fatalf("statement %q keeps its ';' (from %q)", st, src)
			}
		}
	})
}
