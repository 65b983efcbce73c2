// Package mariadbtest gives tests a database of their own on the MariaDB server that CI
// runs (127.0.0.1:3306, user root without a password; HERMOD_TEST_MYSQL_ADDR overrides
// the address). When CI=true a missing server fails the test; otherwise the test is
// skipped with a message saying so.
//
// It is imported only by tests. It must never touch a database it was not asked for,
// nor configure the server.
package mariadbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ServerDSN is the DSN of the test server without a database. Any goroutine may call it.
func ServerDSN() string {
	addr := os.Getenv("HERMOD_TEST_MYSQL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:3306"
	}
	return fmt.Sprintf("root@tcp(%s)/", addr)
}

// Fresh drops database name if it exists, creates it empty and returns its DSN. name
// must be a test database, hermod_t_<package>, so that packages running in parallel
// never share one. It skips or fails t as the package doc says when the server cannot
// be reached. Call it from the test's goroutine.
func Fresh(t testing.TB, name string) string {
	t.Helper()
	if !strings.HasPrefix(name, "hermod_t_") || strings.ContainsAny(name, "`.") {
		t.Fatalf("mariadbtest: %q is not a test database name (hermod_t_...)", name)
	}
	err := exec(t.Context(), "DROP DATABASE IF EXISTS `"+name+"`", "CREATE DATABASE `"+name+"`")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MariaDB at %s: %v", ServerDSN(), err)
		}
		t.Skipf("MariaDB at %s is not reachable (%v); CI=true makes this a failure", ServerDSN(), err)
	}
	return ServerDSN() + name
}

// exec runs statements on the server, each bounded in time.
func exec(ctx context.Context, stmts ...string) error {
	cfg, err := mysql.ParseDSN(ServerDSN())
	if err != nil {
		return err
	}
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	for _, s := range stmts {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := db.ExecContext(sctx, s)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}
