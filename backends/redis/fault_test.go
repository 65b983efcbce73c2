package redis

import (
	"context"
	"errors"
	"fmt"
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
