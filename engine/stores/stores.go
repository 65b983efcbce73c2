// Package stores opens the storage engines a configuration's [backends] table names and
// composes them into the one backends.Store the server and the admin commands use.
//
// Each engine is opened once however many kinds of data it keeps: the embedded store
// in general.data_dir, MySQL from [backends.mysql], an in-memory store. The session
// registry (backends.sessions) is Redis from [backends.redis], or one in memory. What
// was opened, for which kinds, is logged. An engine that cannot be opened (MySQL unreachable, its
// schema not current, the embedded file locked by another process) fails Open with an
// error that says which engine and why, and closes what was already open.
//
// This package must not serve anything or know about modules: it only opens and closes
// storage. It is used by engine.Run and by cmd/hermod's db commands.
package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/compose"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/backends/mysql"
	"github.com/hermod-im/hermod/backends/redis"
	"github.com/hermod-im/hermod/engine/config"
)

// Open opens every engine cfg.Backends uses and the session registry, and returns their
// composite; its Backend method gives the store for the server (with the registry).
// cfg must be validated. The caller closes the returned store, which closes each
// engine once. It may block on disk and network I/O; call it from any goroutine but an
// event loop.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*compose.Store, error) {
	b := &cfg.Backends
	engines := map[string]backends.Store{}
	closeAll := func() {
		for _, e := range engines {
			_ = e.Close()
		}
	}
	for _, kind := range config.Kinds() {
		name := b.For(kind)
		if engines[name] != nil {
			continue
		}
		e, err := openEngine(ctx, cfg, name, log)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("stores: open the %s store (keeping %s): %w", name, kindsOf(b, name), err)
		}
		engines[name] = e
	}
	var err error
	p := compose.Parts{
		Accounts: engines[b.For(config.KindAccounts)],
		Rosters:  engines[b.For(config.KindRosters)],
		Offline:  engines[b.For(config.KindOffline)],
		VCard:    engines[b.For(config.KindVCard)],
		Private:  engines[b.For(config.KindPrivate)],
		Privacy:  engines[b.For(config.KindPrivacy)],
		Last:     engines[b.For(config.KindLast)],
	}
	p.Sessions, err = openSessions(&b.Redis, b.Sessions)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("stores: open the %s session registry: %w", b.Sessions, err)
	}
	st, err := compose.New(p)
	if err != nil {
		closeAll()
		_ = p.Sessions.Close()
		return nil, fmt.Errorf("stores: %w", err)
	}
	for _, name := range []string{config.BackendEmbedded, config.BackendMySQL, config.BackendMemory} {
		e := engines[name]
		if e == nil {
			continue
		}
		attrs := []any{"engine", name, "kinds", kindsOf(b, name)}
		switch e := e.(type) {
		case *embedded.Store:
			attrs = append(attrs, "path", e.Path())
		case *mysql.Store:
			if c, err := mysql.ParseDSN(b.MySQL.DSN); err == nil {
				attrs = append(attrs, "address", c.Addr, "database", c.DBName)
			}
		case *memory.Store:
			attrs = append(attrs, "durable", false)
		}
		log.Info("store opened", attrs...)
	}
	if b.Sessions == config.BackendRedis {
		log.Info("session registry opened", "engine", b.Sessions, "address", b.Redis.Address, "db", b.Redis.DB, "key_prefix", b.Redis.KeyPrefix)
	}
	return st, nil
}

// openEngine opens one engine by its configuration name.
func openEngine(ctx context.Context, cfg *config.Config, name string, log *slog.Logger) (backends.Store, error) {
	switch name {
	case config.BackendEmbedded:
		return embedded.Open(cfg.General.DataDir, embedded.Options{})
	case config.BackendMemory:
		return memory.New(), nil
	case config.BackendMySQL:
		st, err := mysql.Open(ctx, MySQLOptions(&cfg.Backends.MySQL, log))
		if err != nil {
			if errors.Is(err, backends.ErrUnavailable) {
				return nil, fmt.Errorf("cannot reach MySQL at %s (check that it runs and that [backends.mysql] dsn is right): %w", mysqlAddr(cfg.Backends.MySQL.DSN), err)
			}
			return nil, err
		}
		return st, nil
	}
	return nil, fmt.Errorf("unknown storage engine %q", name)
}

// openSessions opens the session registry: Redis connects lazily (the registry
// rides out outages by design), memory keeps it in this process.
func openSessions(r *config.Redis, engine string) (backends.Sessions, error) {
	if engine == config.BackendRedis {
		return redis.Open(redis.Options{
			Addr: r.Address, DB: r.DB, Username: r.Username, Password: r.Password,
			Prefix: r.KeyPrefix, TTL: r.TTL.D, Timeout: r.Timeout.D, PoolSize: r.PoolSize,
		})
	}
	return memory.NewSessions(redis.DefaultTTL), nil
}

// MySQLOptions maps [backends.mysql] to the store's options. Any goroutine may call it.
func MySQLOptions(m *config.MySQL, log *slog.Logger) mysql.Options {
	return mysql.Options{
		DSN:             m.DSN,
		MaxOpenConns:    m.MaxOpenConns,
		MaxIdleConns:    m.MaxIdleConns,
		ConnMaxLifetime: m.ConnMaxLifetime.D,
		QueryTimeout:    m.QueryTimeout.D,
		Migrate:         m.MigrateOnStart,
		Pipeline: mysql.PipelineOptions{
			Disabled:     !m.Pipeline.Enabled,
			MaxBatchRows: m.Pipeline.MaxBatch,
			MaxDelay:     m.Pipeline.MaxDelay.D,
			QueueSize:    m.Pipeline.Queue,
		},
		Logger: log,
	}
}

// mysqlAddr names the server of dsn without its credentials.
func mysqlAddr(dsn string) string {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("%s (database %s)", c.Addr, c.DBName)
}

// kindsOf lists the kinds of data b keeps in engine.
func kindsOf(b *config.Backends, engine string) []string {
	var out []string
	for _, k := range config.Kinds() {
		if b.For(k) == engine {
			out = append(out, k)
		}
	}
	return out
}
