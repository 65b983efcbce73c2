package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/backendtest"
	"github.com/hermod-im/hermod/backends/redis/redistest"
)

// open returns a registry on the shared server under a prefix of the test's own.
func open(t testing.TB, o Options) *Registry {
	t.Helper()
	if o.Addr == "" {
		o.Addr = redistest.Addr(t)
	}
	if o.Prefix == "" {
		o.Prefix = redistest.Prefix(t, o.Addr, "redis")
	}
	r, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestSessionsConformance(t *testing.T) {
	backendtest.RunSessions(t, func(t *testing.T, ttl time.Duration) backends.Sessions {
		return open(t, Options{TTL: ttl})
	})
}

// roundTrips counts what go-redis sends: pipelines and single commands.
type roundTrips struct {
	pipelines, pipelined, singles atomic.Int64
}

func (h *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		switch cmd.Name() {
		case "hello", "auth", "select", "client": // connection set-up, not writes
		default:
			h.singles.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.pipelines.Add(1)
		h.pipelined.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestPipelining(t *testing.T) {
	for _, tc := range []struct {
		name             string
		maxBatch         int
		wantFewerThanOps bool
	}{
		{"batched", 0, true},
		{"one round trip each", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := open(t, Options{Shards: 2, MaxBatch: tc.maxBatch})
			loadScripts(t, r) // a cold script cache costs one retry, tested apart
			var h roundTrips
			r.c.AddHook(&h)
			const callers, each = 50, 20
			node := "pipe"
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for c := range callers {
				wg.Go(func() {
					for i := range each {
						s := backends.Session{Domain: "example.com", User: fmt.Sprintf("u%d", c), Resource: fmt.Sprintf("r%d", i), Node: node}
						if err := r.Register(t.Context(), s); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			const ops = callers * each
			if n := h.pipelined.Load(); n != ops {
				t.Fatalf("%d scripts pipelined, want %d", n, ops)
			}
			if h.singles.Load() != 0 {
				t.Fatalf("%d single commands for writes, want none", h.singles.Load())
			}
			rounds := h.pipelines.Load()
			t.Logf("%d registrations from %d callers in %d round trips", ops, callers, rounds)
			if tc.wantFewerThanOps && rounds > ops/4 {
				t.Fatalf("%d round trips for %d concurrent writes: not batched", rounds, ops)
			}
			if !tc.wantFewerThanOps && rounds != ops {
				t.Fatalf("%d round trips with MaxBatch 1, want %d", rounds, ops)
			}
			if n, err := r.CountSessions(t.Context(), node); err != nil || n != ops {
				t.Fatalf("CountSessions = %d, %v; want %d", n, err, ops)
			}
		})
	}
}

// TestQueueBackPressure fills a queue whose writer is stuck and checks that a caller
// waits no longer than its context.
func TestQueueBackPressure(t *testing.T) {
	srv := redistest.StartServer(t)
	r := open(t, Options{Addr: srv.Addr, Shards: 1, QueueSize: 2, MaxBatch: 1, Timeout: 5 * time.Second})
	// Pause the server's clients so that the writer's round trip hangs.
	if err := r.c.Do(t.Context(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
	s := backends.Session{Domain: "example.com", User: "u", Resource: "r", Node: "n"}
	var wg sync.WaitGroup
	for range 3 { // one in flight, two queued
		wg.Go(func() { _ = r.Register(context.Background(), s) })
	}
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Register(ctx, s)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Register on a full queue: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Register waited %v on a 200ms context", d)
	}
	wg.Wait()
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"tiny ttl", Options{TTL: time.Microsecond}, false},
		{"negative shards", Options{Shards: -1}, false},
		{"queue below shards", Options{Shards: 8, QueueSize: 4}, false},
		{"one each", Options{MaxBatch: 1, Shards: 1, QueueSize: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.o.withDefaults()
			if (err == nil) != tc.ok {
				t.Fatalf("withDefaults(%+v) error %v, want ok=%v", tc.o, err, tc.ok)
			}
			if err != nil && !errors.Is(err, backends.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if tc.ok && (o.Addr == "" || o.Prefix == "" || o.TTL <= 0 || o.Shards <= 0 || o.MaxBatch <= 0 || o.PoolSize <= 0) {
				t.Fatalf("defaults not filled: %+v", o)
			}
		})
	}
}

func loadScripts(t testing.TB, r *Registry) {
	t.Helper()
	for _, s := range []*goredis.Script{registerScript, unregisterScript} {
		if err := s.Load(context.Background(), r.c).Err(); err != nil {
			t.Fatalf("SCRIPT LOAD: %v", err)
		}
	}
}

// TestScriptCacheLost checks that writes recover from a server that forgot the
// scripts (as a restarted one has).
func TestScriptCacheLost(t *testing.T) {
	srv := redistest.StartServer(t)
	r := open(t, Options{Addr: srv.Addr})
	s := backends.Session{Domain: "example.com", User: "u", Resource: "r", Node: "n"}
	for i := range 3 {
		if err := r.c.ScriptFlush(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		s.Priority = i
		if err := r.Register(t.Context(), s); err != nil {
			t.Fatalf("Register after SCRIPT FLUSH: %v", err)
		}
	}
	if _, err := r.Refresh(t.Context(), "n"); err != nil {
		t.Fatal(err)
	}
	got, err := r.UserSessions(t.Context(), "example.com", "u")
	if err != nil || len(got) != 1 || got[0].Priority != 2 {
		t.Fatalf("UserSessions = %+v, %v", got, err)
	}
}
