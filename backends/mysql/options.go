package mysql

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Defaults of Options and PipelineOptions, used for zero fields.
const (
	DefaultMaxOpenConns    = 32
	DefaultMaxIdleConns    = 16
	DefaultConnMaxLifetime = 30 * time.Minute
	DefaultQueryTimeout    = 5 * time.Second
	DefaultDialTimeout     = 2 * time.Second
	DefaultMaxBatchRows    = 512
	DefaultQueueSize       = 4096
	// maxStatementBytes caps the parameters of one multi-row statement, well under the
	// server's default max_allowed_packet of 16 MiB.
	maxStatementBytes = 4 << 20
	// maxStatementRows caps the rows of one multi-row statement: MariaDB accepts at
	// most 65535 placeholders in a prepared statement.
	maxStatementRows = 1000
)

// Options configure Open. Every zero field takes the default named in its comment.
type Options struct {
	// DSN names the database, in go-sql-driver/mysql form:
	// "user:password@tcp(127.0.0.1:3306)/hermod". A database name is required. The
	// store sets what it depends on (client-found-rows, READ-COMMITTED transactions,
	// interpolated parameters for ad-hoc statements, utf8mb4) and refuses a DSN that
	// asks for multiStatements. A DSN without a dial timeout gets DefaultDialTimeout.
	DSN string
	// MaxOpenConns bounds the pool (DefaultMaxOpenConns). The write pipeline holds one
	// connection while it commits a batch.
	MaxOpenConns int
	// MaxIdleConns is how many idle connections the pool keeps (DefaultMaxIdleConns,
	// at most MaxOpenConns).
	MaxIdleConns int
	// ConnMaxLifetime is when a connection is retired (DefaultConnMaxLifetime).
	ConnMaxLifetime time.Duration
	// QueryTimeout bounds every call, including a write's transaction and a pipelined
	// write's time in the queue (DefaultQueryTimeout). A call that runs out of it
	// fails with ErrUnavailable.
	QueryTimeout time.Duration
	// Migrate applies pending migrations when the store opens. Without it, Open fails
	// when the schema is not current (run `hermod db migrate`, i.e. Migrate).
	Migrate bool
	// Pipeline configures the grouping of high-volume writes.
	Pipeline PipelineOptions
	// Logger receives the store's messages (slog.Default() when nil).
	Logger *slog.Logger
}

// PipelineOptions configure the asynchronous write pipeline that gathers the writes of
// concurrent callers (AppendOffline, SetLastLogout) into multi-row statements committed
// in one transaction. See docs/design/08-mysql-pipeline.md.
type PipelineOptions struct {
	// Disabled makes every such call run its own transaction on the caller's
	// goroutine: the baseline the benchmarks compare against.
	Disabled bool
	// MaxBatchRows is the most rows one transaction takes (DefaultMaxBatchRows). A
	// single call with more rows is committed alone.
	MaxBatchRows int
	// MaxDelay is how long the writer waits for more writes once it has one, when fewer
	// than MaxBatchRows are queued. Zero (the default) waits for nothing: writes that
	// arrive while a batch commits form the next batch, which is enough to group them
	// under load without delaying a lone writer.
	MaxDelay time.Duration
	// QueueSize is how many calls may wait for the writer (DefaultQueueSize). When it
	// is full, callers block until there is room, their context ends, or QueryTimeout
	// passes (then with ErrUnavailable): back-pressure, never an unbounded queue.
	QueueSize int
}

// ParseDSN checks dsn and returns the driver configuration the store uses: the
// settings the store depends on applied, defaults filled in. Errors say what is wrong
// without repeating the password. Any goroutine may call it.
func ParseDSN(dsn string) (*mysql.Config, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("mysql: empty DSN (want user:password@tcp(host:3306)/database)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, errors.New("mysql: DSN names no database (want user:password@tcp(host:3306)/database)")
	}
	if cfg.MultiStatements {
		return nil, errors.New("mysql: DSN: multiStatements=true is refused (it lets one injected string run many statements)")
	}
	if cfg.Net != "tcp" && cfg.Net != "tcp6" && cfg.Net != "unix" {
		return nil, fmt.Errorf("mysql: DSN: network %q, want tcp, tcp6 or unix", cfg.Net)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultDialTimeout
	}
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = true
	cfg.CheckConnLiveness = true
	cfg.ParseTime = false
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	for k := range cfg.Params {
		if strings.EqualFold(k, "charset") {
			delete(cfg.Params, k)
		}
	}
	cfg.Params["tx_isolation"] = "'READ-COMMITTED'"
	cfg.Collation = "utf8mb4_bin"
	return cfg, nil
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = DefaultMaxOpenConns
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = DefaultMaxIdleConns
	}
	o.MaxIdleConns = min(o.MaxIdleConns, o.MaxOpenConns)
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = DefaultConnMaxLifetime
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := &o.Pipeline
	if p.MaxBatchRows <= 0 {
		p.MaxBatchRows = DefaultMaxBatchRows
	}
	if p.QueueSize <= 0 {
		p.QueueSize = DefaultQueueSize
	}
	p.MaxDelay = max(p.MaxDelay, 0)
	return o
}
