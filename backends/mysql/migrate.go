package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/go-sql-driver/mysql"

	"github.com/hermod-im/hermod/backends"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the GET_LOCK name that serialises Migrate across processes.
const migrationLock = "hermod.schema_migrations"

// migrationLockWait is how long Migrate waits for another process's migration.
const migrationLockWait = 60 * time.Second

// migration is one versioned file of migrations/: NNNN_name.sql.
type migration struct {
	version string // "0001_init"
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]migration, 0, len(names))
	for _, n := range names {
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: strings.TrimSuffix(path.Base(n), ".sql"), sql: string(b)})
	}
	return out, nil
}

// Versions returns the versions of the migrations built into this binary, in the order
// they apply ("0001_init", ...). Any goroutine may call it.
func Versions() []string {
	ms, err := migrations()
	if err != nil {
		return nil
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.version
	}
	return out
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
	applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB`

// Migrate applies, in order, the migrations not yet recorded in the schema_migrations
// table of db's database, recording each after its statements ran, and returns the
// versions it applied (none when the schema is current). It holds a GET_LOCK lock
// meanwhile, so processes that run it at once apply each migration once. MariaDB
// commits DDL statement by statement: a migration cut short (the server went away) is
// applied again in full by the next run, which its IF NOT EXISTS clauses allow. Any
// goroutine may call it.
func Migrate(ctx context.Context, db *sql.DB) (applied []string, err error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("mysql: migrate: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: migrate: %w", err)
	}
	defer conn.Close()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", migrationLock, int(migrationLockWait/time.Second)).Scan(&got); err != nil {
		return nil, fmt.Errorf("mysql: migrate: lock: %w", err)
	}
	if got.Int64 != 1 {
		return nil, fmt.Errorf("mysql: migrate: another process held the migration lock for %v", migrationLockWait)
	}
	defer func() {
		// The lock is the connection's: release it before the connection returns to the
		// pool. A context that ended must not keep it held.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, rerr := conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", migrationLock); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("mysql: migrate: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		for i, stmt := range splitStatements(m.sql) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return applied, fmt.Errorf("mysql: migrate %s: statement %d: %w", m.version, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (?)", m.version); err != nil {
			return applied, fmt.Errorf("mysql: migrate %s: record: %w", m.version, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

// MigrateDSN opens the database named by dsn (checked as ParseDSN does), applies the
// pending migrations as Migrate does and closes it: what `hermod db migrate` runs. A
// server that cannot be reached fails it with an error wrapping
// backends.ErrUnavailable. Any goroutine may call it.
func MigrateDSN(ctx context.Context, dsn string) (applied []string, err error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: migrate: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		if unavailable(err) {
			return nil, fmt.Errorf("mysql: migrate: %w: %w", backends.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("mysql: migrate: %w", err)
	}
	return Migrate(ctx, db)
}

// Pending returns the versions of the built-in migrations that db's schema lacks. Any
// goroutine may call it.
func Pending(ctx context.Context, db *sql.DB) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("mysql: migrations: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: migrations: %w", err)
	}
	defer conn.Close()
	var n int
	err = conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'").Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("mysql: migrations: %w", err)
	}
	done := map[string]bool{}
	if n > 0 {
		if done, err = appliedVersions(ctx, conn); err != nil {
			return nil, err
		}
	}
	var pending []string
	for _, m := range ms {
		if !done[m.version] {
			pending = append(pending, m.version)
		}
	}
	return pending, nil
}

func appliedVersions(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("mysql: migrations: %w", err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("mysql: migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql: migrations: %w", err)
	}
	return done, nil
}

// trimEnd drops the terminating semicolons and spaces of a statement.
func trimEnd(stmt string) string {
	return strings.TrimRightFunc(stmt, func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
}

// splitStatements cuts a migration file into statements: they end with ';' at the end
// of a line; lines that start with "--" are comments. A ';' inside a line (in a string
// or a comment) does not end a statement, so migration files keep each terminating ';'
// at a line's end.
func splitStatements(src string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(src) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			stmt := trimEnd(cur.String())
			if strings.TrimSpace(stmt) != "" {
				out = append(out, stmt)
			}
			cur.Reset()
		}
	}
	if stmt := trimEnd(cur.String()); strings.TrimSpace(stmt) != "" {
		out = append(out, stmt)
	}
	return out
}
