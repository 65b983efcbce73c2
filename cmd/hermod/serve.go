package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/modules/registry"
)

// serveCommand runs `hermod [serve] [flags]` until ctx ends (SIGINT or SIGTERM).
func serveCommand(ctx context.Context, args []string, io stdio) error {
	cfg, err := serveConfig(args)
	if err != nil {
		return err
	}
	log := newLogger(io.err, cfg.General)
	log.Info("starting hermod", "config", cfgName(cfg), "hosts", cfg.General.Hosts, "data_dir", cfg.General.DataDir)
	return engine.Run(ctx, cfg, log, registry.All())
}

// serveConfig parses serve's flags, loads the file (or the defaults), applies the
// overrides and validates the result, including that certificate files exist.
func serveConfig(args []string) (*config.Config, error) {
	fs := newFlagSet("serve")
	cfgPath := fs.String("config", "", "configuration file (default: built-in defaults)")
	var o overrides
	o.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("serve takes no arguments, got %q", pos)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return nil, err
	}
	if err := o.apply(cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, configError(err)
	}
	if err := cfg.CheckFiles(); err != nil {
		return nil, configError(err)
	}
	return cfg, nil
}

func cfgName(c *config.Config) string {
	if c.File() == "" {
		return "(defaults)"
	}
	return c.File()
}

// newLogger builds the process logger from [general] loglevel and log_format.
func newLogger(w io.Writer, g config.General) *slog.Logger {
	opts := &slog.HandlerOptions{Level: g.SlogLevel()}
	if g.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
