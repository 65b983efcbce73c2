package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/redis/redistest"
)

// TestServerKilled kills a private Redis mid-run: every call must fail promptly with
// ErrUnavailable, none may hang, and after a restart the registry works again, with a
// new epoch telling the node its entries are gone.
func TestServerKilled(t *testing.T) {
	srv := redistest.StartServer(t)
	r := open(t, Options{Addr: srv.Addr, Timeout: time.Second, TTL: 10 * time.Second})
	ctx := t.Context()
	const node = "n1"
	s := backends.Session{Domain: "example.com", User: "alice", Resource: "phone", Node: node, Available: true}
	epoch, err := r.Refresh(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ctx, s); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	start := time.Now()
	calls := map[string]func() error{
		"Register":     func() error { return r.Register(ctx, s) },
		"Unregister":   func() error { return r.Unregister(ctx, s.Domain, s.User, s.Resource, node) },
		"UserSessions": func() error { _, err := r.UserSessions(ctx, s.Domain, s.User); return err },
		"NodeSessions": func() error { _, err := r.NodeSessions(ctx, node); return err },
		"Count":        func() error { _, err := r.CountSessions(ctx, node); return err },
		"Refresh":      func() error { _, err := r.Refresh(ctx, node); return err },
		"Nodes":        func() error { _, err := r.Nodes(ctx); return err },
		"Purge":        func() error { _, err := r.PurgeNode(ctx, node); return err },
	}
	for round := range 5 {
		for name, call := range calls {
			t0 := time.Now()
			err := call()
			if !errors.Is(err, backends.ErrUnavailable) {
				t.Fatalf("round %d: %s with Redis down: %v, want ErrUnavailable", round, name, err)
			}
			if d := time.Since(t0); d > 1500*time.Millisecond {
				t.Fatalf("round %d: %s took %v to fail", round, name, d)
			}
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("40 calls against a dead server took %v", d)
	}

	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	var again string
	for {
		if again, err = r.Refresh(ctx, node); err == nil {
			break
		}
		if !errors.Is(err, backends.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Refresh after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if again == epoch {
		t.Fatalf("epoch %q survived a restart without persistence", epoch)
	}
	if got, err := r.UserSessions(ctx, s.Domain, s.User); err != nil || len(got) != 0 {
		t.Fatalf("after restart: UserSessions = %v, %v; want nothing", got, err)
	}
	if err := r.Register(ctx, s); err != nil { // scripts reloaded on the new server
		t.Fatalf("Register after restart: %v", err)
	}
	if got, err := r.UserSessions(ctx, s.Domain, s.User); err != nil || len(got) != 1 {
		t.Fatalf("after re-registering: UserSessions = %v, %v", got, err)
	}
}

// TestClosedWhileQueued closes a registry while writers are busy: queued writes finish
// or fail with ErrClosed, and nobody hangs.
func TestClosedWhileQueued(t *testing.T) {
	r := open(t, Options{Shards: 1, MaxBatch: 4})
	errs := make(chan error, 200)
	for i := range 200 {
		go func() {
			errs <- r.Register(context.Background(), backends.Session{Domain: "example.com", User: "u", Resource: fmt.Sprint(i), Node: "n"})
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for range 200 {
		select {
		case err := <-errs:
			if err != nil && !errors.Is(err, backends.ErrClosed) {
				t.Fatalf("Register during Close: %v", err)
			}
		case <-timeout:
			t.Fatal("Register calls hang after Close")
		}
	}
}

// TestServerKilledUnderLoad kills and restarts a private Redis while callers keep
// registering: every call returns within about one timeout, every error wraps
// ErrUnavailable, and writes succeed again after the restart.
func TestServerKilledUnderLoad(t *testing.T) {
	srv := redistest.StartServer(t)
	const timeout = time.Second
	r := open(t, Options{Addr: srv.Addr, Timeout: timeout})
	type result struct {
		ok, unavailable, other int
		slowest                time.Duration
		otherErr               error
	}
	var mu sync.Mutex
	var total result
	var afterRestart atomic.Int64
	restarted := atomic.Bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			var res result
			for i := 0; ; i++ {
				select {
				case <-stop:
					mu.Lock()
					total.ok += res.ok
					total.unavailable += res.unavailable
					total.other += res.other
					total.slowest = max(total.slowest, res.slowest)
					if total.otherErr == nil {
						total.otherErr = res.otherErr
					}
					mu.Unlock()
					return
				default:
				}
				t0 := time.Now()
				err := r.Register(context.Background(), backends.Session{Domain: "example.com",
					User: fmt.Sprint("u", g), Resource: fmt.Sprint("r", i%50), Node: "n"})
				res.slowest = max(res.slowest, time.Since(t0))
				switch {
				case err == nil:
					res.ok++
					if restarted.Load() {
						afterRestart.Add(1)
					}
				case errors.Is(err, backends.ErrUnavailable):
					res.unavailable++
					time.Sleep(time.Millisecond) // as a caller that backs off would
				default:
					res.other++
					res.otherErr = err
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	srv.Kill()
	time.Sleep(500 * time.Millisecond)
	srv.Start()
	restarted.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for afterRestart.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("ok %d, unavailable %d, slowest call %v, ok after restart %d", total.ok, total.unavailable, total.slowest, afterRestart.Load())
	if total.other != 0 {
		t.Fatalf("%d errors not wrapping ErrUnavailable, e.g. %v", total.other, total.otherErr)
	}
	if total.unavailable == 0 {
		t.Fatal("no call failed while Redis was down")
	}
	if total.slowest > timeout+time.Second {
		t.Fatalf("a call took %v with a %v timeout", total.slowest, timeout)
	}
	if afterRestart.Load() < 100 {
		t.Fatalf("only %d registrations succeeded in 10 s after the restart", afterRestart.Load())
	}
}

// TestPingTimeout pings a server that does not answer: the timeout is unavailability,
// not the caller's deadline, and it closes the fail-fast gate.
func TestPingTimeout(t *testing.T) {
	srv := redistest.StartServer(t)
	r := open(t, Options{Addr: srv.Addr, Timeout: 300 * time.Millisecond})
	if err := r.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := r.c.Do(t.Context(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Ping(t.Context()); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Ping of a paused server: %v, want ErrUnavailable", err)
	}
	t0 := time.Now()
	if err := r.Ping(t.Context()); !errors.Is(err, backends.ErrUnavailable) || time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("Ping right after a timeout: %v after %v, want ErrUnavailable from the gate at once", err, time.Since(t0))
	}
}
