package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/metrics"
)

// flakyPinger answers Ping as told.
type flakyPinger struct{ down atomic.Bool }

func (f *flakyPinger) Ping(context.Context) error {
	if f.down.Load() {
		return fmt.Errorf("flaky: %w", backends.ErrUnavailable)
	}
	return nil
}

func backendUp(t *testing.T, m *metrics.Metrics, name string) (up float64, failures float64) {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			if len(mt.GetLabel()) != 1 || mt.GetLabel()[0].GetValue() != name {
				continue
			}
			switch mf.GetName() {
			case "hermod_backend_up":
				up = mt.GetGauge().GetValue()
			case "hermod_backend_check_failures_total":
				failures = mt.GetCounter().GetValue()
			}
		}
	}
	return up, failures
}

func TestBackendHealthTransitions(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	m := metrics.New(metrics.Options{NoRuntimeCollectors: true})
	f := &flakyPinger{}
	b := &checkedBackend{name: "flaky", p: f, up: true}
	ctx := context.Background()

	checkBackend(ctx, b, time.Second, m, log)
	if up, _ := backendUp(t, m, "flaky"); up != 1 || logs.Len() != 0 {
		t.Fatalf("healthy: up=%v logs=%q", up, logs.String())
	}
	f.down.Store(true)
	checkBackend(ctx, b, time.Second, m, log)
	checkBackend(ctx, b, time.Second, m, log)
	up, fails := backendUp(t, m, "flaky")
	if up != 0 || fails != 2 {
		t.Fatalf("down: up=%v failures=%v", up, fails)
	}
	if n := strings.Count(logs.String(), "storage backend unreachable"); n != 1 {
		t.Fatalf("an outage is logged once, got %d lines: %q", n, logs.String())
	}
	f.down.Store(false)
	checkBackend(ctx, b, time.Second, m, log)
	if up, _ := backendUp(t, m, "flaky"); up != 1 || !strings.Contains(logs.String(), "storage backend reachable again") {
		t.Fatalf("back: up=%v logs=%q", up, logs.String())
	}
}

func TestMonitorStopsAndNames(t *testing.T) {
	if bs := pingable([]backends.Store{memory.New()}, nil); len(bs) != 0 {
		t.Fatalf("the memory store has no server to ping: %v", bs)
	}
	f := &flakyPinger{}
	bs := pingable(nil, pingSessions{flakyPinger: f})
	if len(bs) != 1 || bs[0].name != "engine" {
		t.Fatalf("pingable = %+v", bs)
	}
	m := metrics.New(metrics.Options{NoRuntimeCollectors: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { monitorBackends(ctx, bs, time.Millisecond, m, slog.New(slog.DiscardHandler)); close(done) }()
	f.down.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if up, fails := backendUp(t, m, "engine"); up == 0 && fails > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the monitor never saw the backend down")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the monitor did not stop with its context")
	}
}

// pingSessions is a session registry that can be pinged (its package names it);
// only Ping is called.
type pingSessions struct {
	backends.Sessions
	*flakyPinger
}
