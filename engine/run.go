package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/admin/accounts"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/metrics"
	"github.com/hermod-im/hermod/engine/stores"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Run is `hermod serve`: it opens the stores [backends] names (failing when one cannot
// be opened or reached, see engine/stores), starts the admin HTTP listener (metrics,
// pprof, health, user management) and serves clients until ctx ends, then shuts down
// gracefully and closes the stores. SIGHUP reloads the TLS certificates. cfg must be
// validated; modules are the constructors of the modules the configuration may
// enable, by name.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, modules map[string]ModuleFactory) error {
	store, err := stores.Open(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()

	if cfg.Backends.Sessions == config.BackendRedis && !cfg.HasModule("mod_sessions") {
		log.Warn("backends.sessions is redis but mod_sessions is not enabled: nothing writes the session registry")
	}

	m := metrics.New(metrics.Options{})
	go monitorBackends(ctx, pingable(store.Engines(), store.Parts().Sessions), healthEvery, m, log)
	srv, err := New(cfg, log, Options{Store: store.Backend(), Engines: store.Engines(), Metrics: m, Modules: modules})
	if err != nil {
		return err
	}
	var adm *admin.Server
	if cfg.Admin.Address != "" {
		opts := accounts.ForConfig(cfg, store)
		opts.Store = timeAccounts(opts.Store, m)
		// A running server keeps a core for its clients during an import.
		opts.Workers = max(1, runtime.GOMAXPROCS(0)/2)
		users, err := accounts.New(opts)
		if err != nil {
			return fmt.Errorf("engine: accounts: %w", err)
		}
		adm = admin.New(admin.Options{Addr: cfg.Admin.Address, Registry: m.Registry(), Users: removalNotifier{users, srv}, Logger: log})
		if err := adm.Start(); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := adm.Shutdown(sctx); err != nil {
				log.Warn("admin shutdown", "err", err)
			}
		}()
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer func() { signal.Stop(hup); close(hup) }()
	go func() {
		for range hup {
			if err := srv.ReloadCertificates(); err != nil {
				log.Error("reloading certificates", "err", err)
				continue
			}
			log.Info("certificates reloaded")
		}
	}()

	err = srv.Serve(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// removalNotifier tells the server about accounts deleted through the admin API, so
// their sessions end and modules drop their data.
type removalNotifier struct {
	admin.Users
	srv *Server
}

func (r removalNotifier) DeleteUser(ctx context.Context, s string) error {
	if err := r.Users.DeleteUser(ctx, s); err != nil {
		return err
	}
	if j, err := jid.Parse(s); err == nil {
		r.srv.RemoveUser(j.Bare())
	}
	return nil
}
