package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/compose"
	"github.com/hermod-im/hermod/backends/mysql"
	"github.com/hermod-im/hermod/backends/transfer"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/stores"
)

// dbCommand runs `hermod db migrate|export|import ...`.
func dbCommand(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef("missing subcommand: migrate, export or import")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "migrate":
		return dbMigrate(ctx, args, io)
	case "export":
		return dbExport(ctx, args, io)
	case "import":
		return dbImport(ctx, args, io)
	}
	return usagef("unknown subcommand %q: migrate, export or import", sub)
}

// dbMigrate applies the MySQL schema migrations to the database of [backends.mysql].
func dbMigrate(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("db migrate")
	cfgPath := fs.String("config", "", "configuration file whose [backends.mysql] dsn names the database")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("db migrate takes no arguments")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	dsn := cfg.Backends.MySQL.DSN
	if dsn == "" {
		return &usageError{err: fmt.Errorf("%s has no [backends.mysql] dsn: nothing to migrate", cfgName(cfg)), config: true}
	}
	dc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return &usageError{err: err, config: true}
	}
	applied, err := mysql.MigrateDSN(ctx, dsn)
	for _, v := range applied {
		fmt.Fprintf(io.out, "applied %s\n", v)
	}
	if errors.Is(err, backends.ErrUnavailable) {
		return fmt.Errorf("cannot reach MySQL at %s (database %s): %w", dc.Addr, dc.DBName, err)
	}
	if err != nil {
		return err
	}
	versions := mysql.Versions()
	if len(applied) == 0 {
		fmt.Fprintf(io.out, "schema of %s is current (%s)\n", dc.DBName, strings.Join(versions, ", "))
	} else {
		fmt.Fprintf(io.out, "schema of %s is now at %s\n", dc.DBName, versions[len(versions)-1])
	}
	return nil
}

// openStores opens the stores cfg names, with a hint when a running server holds the
// embedded store.
func openStores(ctx context.Context, cfg *config.Config) (*compose.Store, error) {
	log := slog.New(slog.DiscardHandler)
	st, err := stores.Open(ctx, cfg, log)
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("%w\n(a running server holds this data directory: stop it first)", err)
		}
		return nil, err
	}
	return st, nil
}

// dbExport writes every account's data in the configured stores to a file.
func dbExport(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("db export")
	cfgPath := fs.String("config", "", "configuration file: the stores to read and the hosts to export")
	out := fs.String("out", "", "file to write (gzip'd JSON lines)")
	var private []string
	fs.Var(stringsFlag{&private}, "private-ns", "private XML namespaces to export, comma-separated or repeated (default: those clients are known to use)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *out == "" {
		return usagef("db export takes --out FILE and no arguments")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	// Write beside the target and rename, so that a failed export leaves no file that
	// looks complete.
	tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".partial-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	opts := transfer.ExportOptions{Progress: accountProgress(io.err, "exported", start)}
	if len(private) > 0 {
		opts.PrivateNamespaces = private
	}
	sum, err := transfer.Export(ctx, st, cfg.General.Hosts, tmp, opts)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), *out)
	}
	if err != nil {
		return fmt.Errorf("export to %s: %w", *out, err)
	}
	fmt.Fprintf(io.out, "exported %s from %s in %v: %s\n", strings.Join(cfg.General.Hosts, ", "), cfgName(cfg),
		time.Since(start).Round(time.Millisecond), sum)
	return nil
}

// dbImport stores the data of an export file in the configured stores.
func dbImport(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("db import")
	cfgPath := fs.String("config", "", "configuration file: the stores to write")
	workers := fs.Int("workers", transfer.DefaultWorkers, "accounts written at once (their durable writes share commits)")
	batch := fs.Int("batch", transfer.DefaultBatchSize, "accounts per batch")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("db import takes one FILE")
	}
	if *workers < 1 || *batch < 1 {
		return usagef("--workers and --batch must be at least 1")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = st.Close()
		}
	}()
	start := time.Now()
	sum, err := transfer.Import(ctx, st, f, transfer.ImportOptions{Workers: *workers, BatchSize: *batch,
		Progress: accountProgress(io.err, "read", start)})
	if err != nil {
		return fmt.Errorf("import %s: %w", pos[0], err)
	}
	closed = true
	if err := st.Close(); err != nil {
		return fmt.Errorf("import %s: closing the stores: %w", pos[0], err)
	}
	fmt.Fprintf(io.out, "imported %s into %s in %v: %s\n", pos[0], cfgName(cfg), time.Since(start).Round(time.Millisecond), sum)
	if sum.RostersVersionBehind > 0 {
		fmt.Fprintf(io.out, "note: %d rosters got a version below the one they had; a client that cached an older version of one may be told it is current (see docs/backends.md)\n", sum.RostersVersionBehind)
	}
	return nil
}

// accountProgress returns a Progress function that prints the accounts done to w at
// most every 3 seconds, for runs long enough to wonder about.
func accountProgress(w io.Writer, verb string, start time.Time) func(transfer.Summary) {
	last := start
	return func(s transfer.Summary) {
		now := time.Now()
		if now.Sub(last) < 3*time.Second {
			return
		}
		last = now
		fmt.Fprintf(w, "%s %d accounts (%.0f/s)\n", verb, s.Accounts, float64(s.Accounts)/now.Sub(start).Seconds())
	}
}
