package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hermod-im/hermod/backends"
)

// Store is a backends.Store over MariaDB. It implements every storage interface of
// package backends. All methods are safe for concurrent use by any goroutine and may
// block on the network; none may be called on an event loop.
type Store struct {
	db    *sql.DB
	opts  Options
	log   *slog.Logger
	stmts statements
	pipe  *pipeline
	// adhoc makes the hot reads skip their prepared statements: the benchmarks'
	// baseline. Set before the store is used.
	adhoc bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// stats count what the store did, for Stats, tests and benchmarks.
	stats struct {
		txs, batches, batchedCalls, unavailable atomic.Int64
	}
	// lastOutageLog is when an unavailability was last logged (UnixNano), so that an
	// outage logs once per outageLogEvery rather than once per call.
	lastOutageLog atomic.Int64
}

// outageLogEvery spaces the log lines of an outage.
const outageLogEvery = 5 * time.Second

// Stats are counters of a store since it opened, for metrics.
type Stats struct {
	// Transactions counts the transactions begun, retries included.
	Transactions int64
	// Batches counts the pipelined transactions that committed, and BatchedCalls the
	// calls they carried: BatchedCalls/Batches is the grouping achieved.
	Batches, BatchedCalls int64
	// Queued is how many calls wait for the pipeline's writer now.
	Queued int
	// Unavailable counts the calls that failed with backends.ErrUnavailable.
	Unavailable int64
	// Pool is the connection pool's own statistics.
	Pool sql.DBStats
}

// Stats returns the store's counters. Any goroutine may call it, also after Close.
func (s *Store) Stats() Stats {
	st := Stats{
		Transactions: s.stats.txs.Load(),
		Batches:      s.stats.batches.Load(),
		BatchedCalls: s.stats.batchedCalls.Load(),
		Unavailable:  s.stats.unavailable.Load(),
		Pool:         s.db.Stats(),
	}
	if s.pipe != nil && s.pipe.queue != nil {
		st.Queued = len(s.pipe.queue)
	}
	return st
}

var (
	_ backends.Store        = (*Store)(nil)
	_ backends.Rosters      = (*Store)(nil)
	_ backends.Offline      = (*Store)(nil)
	_ backends.VCards       = (*Store)(nil)
	_ backends.PrivateXML   = (*Store)(nil)
	_ backends.LastActivity = (*Store)(nil)
	_ backends.Privacy      = (*Store)(nil)
)

// Open connects to the database named by opts.DSN, applies pending migrations when
// opts.Migrate is set (and fails on a schema that is not current otherwise), prepares
// the statements of the hot reads and starts the write pipeline. A server that cannot
// be reached fails it with an error wrapping backends.ErrUnavailable. Any goroutine may
// call it; the caller closes the store.
func Open(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := ParseDSN(opts.DSN)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	cfg.Logger = driverLogger{opts.Logger}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: open: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	s := &Store{db: db, opts: opts, log: opts.Logger.With("backend", "mysql", "database", cfg.DBName)}
	if err := s.start(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// start checks the server and the schema, prepares statements and starts the pipeline.
func (s *Store) start(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		return s.fail(ctx, "open", err)
	}
	// Migrations may take longer than a query: only ctx bounds them.
	if s.opts.Migrate {
		applied, err := Migrate(ctx, s.db)
		if err != nil {
			return s.fail(ctx, "open", err)
		}
		if len(applied) > 0 {
			s.log.Info("applied schema migrations", "migrations", applied)
		}
	} else {
		pending, err := Pending(ctx, s.db)
		if err != nil {
			return s.fail(ctx, "open", err)
		}
		if len(pending) > 0 {
			return fmt.Errorf("mysql: open: schema not current, migrations %v pending (run `hermod db migrate` or set migrate)", pending)
		}
	}
	pctx, cancel = context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	if err := s.stmts.prepare(pctx, s.db); err != nil {
		return s.fail(ctx, "open: prepare statements", err)
	}
	s.pipe = newPipeline(s)
	return nil
}

// Close stops the pipeline after the writes already queued are committed, and releases
// the connections. Calls made after Close fail with backends.ErrClosed. Any goroutine
// may call it, more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.pipe.close()
		s.stmts.close()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("mysql: close: %w", err)
		}
	})
	return s.closeErr
}

// DB returns the store's connection pool, for administration (migrations, exports).
// Any goroutine may call it; the pool belongs to the store and is closed by Close.
func (s *Store) DB() *sql.DB { return s.db }

// begin checks that a call may start: the store is open and ctx not done.
func (s *Store) begin(ctx context.Context, op string) error {
	if s.closed.Load() {
		return fmt.Errorf("mysql: %s: %w", op, backends.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	return nil
}

// readCtx bounds a read by QueryTimeout; the caller's cancellation applies.
func (s *Store) readCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.QueryTimeout)
}

// writeCtx bounds a write by QueryTimeout but detaches it from the caller's
// cancellation: once handed to the server, a write completes, so that an error never
// hides a write that happened (the contract of backends.Accounts).
func (s *Store) writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.opts.QueryTimeout)
}

// fail wraps err with op and the sentinel that classifies it: ErrClosed after Close,
// ErrUnavailable when the server cannot be reached or did not answer within
// QueryTimeout, the caller's own context error when that ended the call.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, backends.ErrInvalid), errors.Is(err, backends.ErrNotFound),
		errors.Is(err, backends.ErrExists), errors.Is(err, backends.ErrClosed),
		errors.Is(err, backends.ErrUnavailable):
		return fmt.Errorf("mysql: %s: %w", op, err)
	case s.closed.Load():
		return fmt.Errorf("mysql: %s: %w (%v)", op, backends.ErrClosed, err)
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// The caller's own context ended the call.
		return fmt.Errorf("mysql: %s: %w", op, err)
	case unavailable(err):
		s.stats.unavailable.Add(1)
		now := time.Now().UnixNano()
		if last := s.lastOutageLog.Load(); now-last >= int64(outageLogEvery) && s.lastOutageLog.CompareAndSwap(last, now) {
			s.log.Error("database unavailable", "op", op, "error", err, "failed_calls", s.stats.unavailable.Load())
		}
		return fmt.Errorf("mysql: %s: %w: %w", op, backends.ErrUnavailable, err)
	}
	return fmt.Errorf("mysql: %s: %w", op, err)
}

// unavailable reports whether err says the server cannot be reached or did not answer
// in time, rather than refusing a statement.
func unavailable(err error) bool {
	var netErr net.Error
	var myErr *mysql.MySQLError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	case errors.As(err, &myErr):
		switch myErr.Number {
		case 1040, // too many connections
			1053, // server shutdown in progress
			1205, // lock wait timeout
			1927, // connection killed
			2002, 2003, 2006, 2013:
			return true
		}
	}
	return false
}

// driverLogger sends the driver's messages (a connection reset, a bad packet) to the
// store's logger, as warnings.
type driverLogger struct{ log *slog.Logger }

func (l driverLogger) Print(v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprint(v...)), "backend", "mysql", "source", "driver")
}

// mysqlErrno returns the server's error number in err, or 0.
func mysqlErrno(err error) uint16 {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number
	}
	return 0
}

const (
	errDupEntry = 1062
	errDeadlock = 1213
)

// maxTxAttempts bounds the retries of a transaction that lost a deadlock.
const maxTxAttempts = 5

// inTx runs fn in a transaction and commits it, retrying a transaction the server
// chose as a deadlock victim. fn may run more than once. Any goroutine may call it.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := range maxTxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(time.Duration(attempt) * time.Millisecond):
			}
		}
		err = s.tryTx(ctx, fn)
		if mysqlErrno(err) != errDeadlock {
			return err
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.stats.txs.Add(1)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ownerKey returns the key of (domain, user) in tables whose own key would exceed an
// InnoDB index: SHA-256 of the length-prefixed pair, so that no two pairs share one.
func ownerKey(domain, user string) []byte {
	h := sha256.New()
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(domain)))
	h.Write(n[:])
	h.Write([]byte(domain))
	h.Write([]byte(user))
	return h.Sum(nil)
}

// placeholders returns "(?,?,...),(?,?,...)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := make([]byte, 0, 2*cols+1)
	one = append(one, '(')
	for i := range cols {
		if i > 0 {
			one = append(one, ',')
		}
		one = append(one, '?')
	}
	one = append(one, ')')
	out := make([]byte, 0, rows*(len(one)+1))
	for i := range rows {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, one...)
	}
	return string(out)
}
