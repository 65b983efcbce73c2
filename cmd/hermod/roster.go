package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/compose"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine/admin/rosters"
	"github.com/hermod-im/hermod/engine/stores"
)

// rosterCommand runs `hermod roster import FILE.csv`: roster items written straight
// into the roster store the configuration names (or the embedded store in --data),
// with the server stopped.
func rosterCommand(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("roster")
	dataDir := fs.String("data", "", "data directory of the embedded store (default: the config's data_dir)")
	cfgPath := fs.String("config", "", "configuration file (hosts, [backends], data_dir)")
	batch := fs.Int("batch", rosters.DefaultBatchSize, "items per write (one transaction each in the embedded store)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("missing subcommand: import")
	case pos[0] != "import":
		return usagef("unknown subcommand %q: import", pos[0])
	case len(pos) != 2:
		return usagef("roster import takes FILE.csv")
	case *batch < 1:
		return usagef("--batch must be at least 1")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}

	in := io.in
	if name := pos[1]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in = f
	}

	var st backends.Store
	if *dataDir != "" {
		st, err = embedded.Open(*dataDir, embedded.Options{})
	} else {
		st, err = stores.Open(ctx, cfg, slog.New(slog.DiscardHandler)) // the stores [backends] names
	}
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return fmt.Errorf("%w\n(a running server holds this data directory: stop it first)", err)
		}
		return err
	}
	defer st.Close()
	// The roster engine itself, so that a bulk writer behind the composite is found.
	var engine backends.Store = st
	if c, ok := st.(*compose.Store); ok {
		engine = c.Parts().Rosters
	}
	rs, ok := engine.(backends.Rosters)
	if !ok {
		return fmt.Errorf("the roster store %T keeps no rosters", engine)
	}
	o := rosters.Options{Store: rs, BatchSize: *batch}
	if *cfgPath != "" {
		o.Hosts = cfg.General.Hosts // no configuration: any domain
	}
	start := time.Now()
	o.Progress = progressPrinter(io.err, start, "roster items")
	res, err := rosters.Import(ctx, in, o) // a file as is: Import reads it twice
	if err != nil {
		return err
	}
	d := time.Since(start)
	how := "in batches of " + fmt.Sprint(*batch)
	if !res.Bulk {
		how = "one write per item"
	}
	fmt.Fprintf(io.out, "imported %d roster items of %d rosters in %v (%.0f items/s, %s)\n",
		res.Items, res.Rosters, d.Round(time.Millisecond), float64(res.Items)/d.Seconds(), how)
	return nil
}
