package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/metrics"
)

// Backend health. The stores fail calls fast while their server is down and
// reconnect by themselves; what the operator needs on top is to know: a gauge per
// backend (hermod_backend_up) and one log line when a backend goes down and one
// when it is back, rather than a line per failed call.

// healthEvery is the period of the health checks.
const healthEvery = 5 * time.Second

// checkedBackend is a backend the monitor pings, by the name metrics and logs use.
type checkedBackend struct {
	name string
	p    backends.Pinger
	up   bool
}

// monitorBackends pings each backend every period until ctx ends, recording the
// outcome in m and logging transitions. It runs on a goroutine of its own.
func monitorBackends(ctx context.Context, bs []checkedBackend, period time.Duration, m *metrics.Metrics, log *slog.Logger) {
	if len(bs) == 0 {
		return
	}
	for i := range bs {
		bs[i].up = true // as opened: Open fails on a backend it cannot reach
		m.BackendHealth(bs[i].name, true)
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i := range bs {
			checkBackend(ctx, &bs[i], period, m, log)
		}
	}
}

// checkBackend pings one backend once.
func checkBackend(ctx context.Context, b *checkedBackend, timeout time.Duration, m *metrics.Metrics, log *slog.Logger) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	err := b.p.Ping(cctx)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: not the backend's fault
	}
	up := err == nil
	m.BackendHealth(b.name, up)
	switch {
	case b.up && !up:
		log.Error("storage backend unreachable: requests that need it fail with a temporary error until it is back", "backend", b.name, "err", err)
	case !b.up && up:
		log.Info("storage backend reachable again", "backend", b.name)
	}
	b.up = up
}

// pingable returns the engines among es (and the session registry) that talk to a
// server, each named by its package: mysql, redis.
func pingable(es []backends.Store, sessions backends.Sessions) []checkedBackend {
	var bs []checkedBackend
	add := func(v any) {
		if p, ok := v.(backends.Pinger); ok {
			name, _, _ := strings.Cut(strings.TrimPrefix(fmt.Sprintf("%T", v), "*"), ".")
			bs = append(bs, checkedBackend{name: name, p: p})
		}
	}
	for _, e := range es {
		add(e)
	}
	if sessions != nil {
		add(sessions)
	}
	return bs
}
