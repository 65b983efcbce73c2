package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/backends/redis"
	"github.com/hermod-im/hermod/backends/redis/redistest"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
)

// start runs a server with mod_sessions on the Redis at addr under prefix, and returns
// it with the module.
func start(t *testing.T, addr, prefix, node string, extra map[string]any) (*enginetest.Server, *Module) {
	t.Helper()
	opts := map[string]any{"redis_addr": addr, "key_prefix": prefix, "node": node, "ttl": "3s", "heartbeat": "100ms", "timeout": "1s"}
	for k, v := range extra {
		opts[k] = v
	}
	var built atomic.Pointer[Module] // the server builds modules on its own goroutine
	factory := func(mc engine.ModuleConfig) (engine.Module, error) {
		m, err := New(mc)
		if err == nil {
			built.Store(m.(*Module))
		}
		return m, err
	}
	ts := enginetest.Start(t, enginetest.WithModule(Name, factory, opts))
	mod := built.Load()
	if mod == nil {
		t.Fatal("module not built")
	}
	return ts, mod
}

// observer is another node's view of the registry.
func observer(t *testing.T, addr, prefix string) *redis.Registry {
	t.Helper()
	r, err := redis.Open(redis.Options{Addr: addr, Prefix: prefix, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitFor polls cond for up to 15 s and fails t with cond's last description.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, desc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// describe is a session as the tests compare it: resource, node, availability and
// priority.
func describe(ss []backends.Session) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%s/%s@%s:%v:%d", s.User, s.Resource, s.Node, s.Available, s.Priority))
	}
	return strings.Join(parts, " ")
}

// wantUser waits until the registry shows exactly want for user@localhost.
func wantUser(t *testing.T, r backends.Sessions, user, want string) {
	t.Helper()
	waitFor(t, user+" to be "+want, func() (bool, string) {
		ss, err := r.UserSessions(context.Background(), "localhost", user)
		if err != nil {
			return false, err.Error()
		}
		got := describe(ss)
		return got == want, "registry shows " + got
	})
}

func TestLoginLogout(t *testing.T) {
	addr := redistest.Addr(t)
	prefix := redistest.Prefix(t, addr, "mod_sessions")
	ts, mod := start(t, addr, prefix, "node-a", nil)
	obs := observer(t, addr, prefix)
	ts.AddUser("alice", "secret")

	phone := ts.Login(t, "alice", "secret", "phone")
	wantUser(t, obs, "alice", "alice/phone@node-a:false:0")
	phone.Send("<presence><priority>5</priority></presence>")
	wantUser(t, obs, "alice", "alice/phone@node-a:true:5")

	desk := ts.Login(t, "alice", "secret", "desk")
	desk.Send("<presence/>")
	wantUser(t, obs, "alice", "alice/desk@node-a:true:0 alice/phone@node-a:true:5")
	phone.Send("<presence type='unavailable'/>")
	wantUser(t, obs, "alice", "alice/desk@node-a:true:0 alice/phone@node-a:false:5")

	phone.Send("</stream:stream>")
	phone.Conn.Close()
	wantUser(t, obs, "alice", "alice/desk@node-a:true:0")
	if st := mod.Stats(); st.Registered < 3 || st.Unregistered < 1 || st.Failures != 0 || st.Live != 1 {
		t.Fatalf("stats %+v", st)
	}

	ts.Stop() // the module purges its node
	waitFor(t, "node-a purged", func() (bool, string) {
		n, err := obs.CountSessions(context.Background(), "node-a")
		return err == nil && n == 0, fmt.Sprintf("%d entries, %v", n, err)
	})
	nodes, err := obs.Nodes(context.Background())
	if err != nil || slices.ContainsFunc(nodes, func(n backends.NodeState) bool { return n.Name == "node-a" }) {
		t.Fatalf("Nodes after stop = %v, %v", nodes, err)
	}
}

func TestStartPurgesEarlierRunAndDeadNodes(t *testing.T) {
	addr := redistest.Addr(t)
	prefix := redistest.Prefix(t, addr, "mod_sessions")
	obs := observer(t, addr, prefix)
	ctx := t.Context()
	// What a crashed earlier run of node-b left, and a node that died since.
	ghost, err := redis.Open(redis.Options{Addr: addr, Prefix: prefix, TTL: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ghost.Close()
	for i := range 20 {
		for _, node := range []string{"node-b", "ghost"} {
			s := backends.Session{Domain: "localhost", User: fmt.Sprint("u", i), Resource: "r", Node: node}
			if err := ghost.Register(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := ghost.Refresh(ctx, "ghost"); err != nil {
		t.Fatal(err)
	}

	_, mod := start(t, addr, prefix, "node-b", nil)
	if n, err := obs.CountSessions(ctx, "node-b"); err != nil || n != 0 {
		t.Fatalf("after start: node-b holds %d entries, %v; want them purged", n, err)
	}
	waitFor(t, "the dead node purged", func() (bool, string) {
		n, err := obs.CountSessions(ctx, "ghost")
		return err == nil && n == 0 && mod.Stats().PurgedDead == 20, fmt.Sprintf("%d left, %v, stats %+v", n, err, mod.Stats())
	})
}

// TestRedisRestart kills the module's Redis mid-run: logins go on without waiting for
// it, and once it is back (empty), the registry converges to the live sessions.
func TestRedisRestart(t *testing.T) {
	srv := redistest.StartServer(t)
	prefix := "hermod_t_mod_sessions:"
	ts, mod := start(t, srv.Addr, prefix, "node-c", map[string]any{"timeout": "3s"})
	obs := observer(t, srv.Addr, prefix)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		ts.AddUser(u, "secret")
	}
	alice := ts.Login(t, "alice", "secret", "phone")
	bob := ts.Login(t, "bob", "secret", "phone")
	wantUser(t, obs, "alice", "alice/phone@node-c:false:0")
	wantUser(t, obs, "bob", "bob/phone@node-c:false:0")

	// A server that accepts connections but does not answer: a login must not wait.
	if err := redisDo(srv.Addr, "CLIENT", "PAUSE", "2000", "ALL"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	dave := ts.Login(t, "dave", "secret", "x")
	if d := time.Since(t0); d > 1500*time.Millisecond {
		t.Fatalf("login took %v while Redis was paused", d)
	}
	_ = dave

	srv.Kill()
	carol := ts.Login(t, "carol", "secret", "tablet")
	carol.Send("<presence><priority>3</priority></presence>")
	bob.Conn.Close()
	alice.Send("<presence/>")
	waitFor(t, "the outage noticed", func() (bool, string) {
		st := mod.Stats()
		return st.Outage, fmt.Sprintf("stats %+v", st)
	})

	srv.Start()
	wantUser(t, obs, "alice", "alice/phone@node-c:true:0")
	wantUser(t, obs, "carol", "carol/tablet@node-c:true:3")
	wantUser(t, obs, "dave", "dave/x@node-c:false:0")
	wantUser(t, obs, "bob", "")
	if st := mod.Stats(); st.Outage || st.Resyncs == 0 || st.Failures == 0 {
		t.Fatalf("after recovery: stats %+v", st)
	}
}

func redisDo(addr string, args ...any) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	return c.Do(context.Background(), args...).Err()
}

func TestKeyOf(t *testing.T) {
	for _, tc := range []struct {
		full                   string
		domain, user, resource string
	}{
		{"alice@example.com/phone", "example.com", "alice", "phone"},
		{"alice@example.com/a/b@c", "example.com", "alice", "a/b@c"},
		{"example.com/r", "example.com", "", "r"},
	} {
		got := keyOf(tc.full, "n")
		if got.Domain != tc.domain || got.User != tc.user || got.Resource != tc.resource || got.Node != "n" {
			t.Errorf("keyOf(%q) = %+v", tc.full, got)
		}
	}
}

// sessionStore is a store that also keeps sessions.
type sessionStore struct {
	*memory.Store
	*memory.Sessions
}

func (s sessionStore) Close() error { return errors.Join(s.Store.Close(), s.Sessions.Close()) }

func TestOpenRegistry(t *testing.T) {
	if _, _, err := openRegistry(Options{}, memory.New()); err == nil {
		t.Fatal("a store without sessions was accepted")
	}
	st := sessionStore{memory.New(), memory.NewSessions(time.Minute)}
	reg, own, err := openRegistry(Options{}, st)
	if err != nil || own || reg != backends.Sessions(st) {
		t.Fatalf("openRegistry(store with sessions) = %v, %v, %v", reg, own, err)
	}
	reg, own, err = openRegistry(Options{RedisAddr: "127.0.0.1:1"}, st)
	if err != nil || !own {
		t.Fatalf("openRegistry(redis_addr) = %v, %v, %v", reg, own, err)
	}
	reg.Close()
}

// TestStoreRegistry runs the module on a store that keeps sessions itself.
func TestStoreRegistry(t *testing.T) {
	st := sessionStore{memory.New(), memory.NewSessions(time.Minute)}
	t.Cleanup(func() { st.Close() }) // after the server's own cleanup, which stops it
	ts := enginetest.Start(t, enginetest.WithStore(st), enginetest.WithModule(Name, New, map[string]any{"node": "solo"}))
	ts.AddUser("erin", "secret")
	c := ts.Login(t, "erin", "secret", "r")
	c.Send("<presence><priority>-1</priority></presence>")
	wantUser(t, st.Sessions, "erin", "erin/r@solo:true:-1")
}

// TestManySessions logs many clients in at once: every one is registered, in fewer
// writer rounds than sessions, and every one is removed when they leave.
func TestManySessions(t *testing.T) {
	addr := redistest.Addr(t)
	prefix := redistest.Prefix(t, addr, "mod_sessions")
	ts, mod := start(t, addr, prefix, "node-m", nil)
	obs := observer(t, addr, prefix)
	const n = 60
	for i := range n {
		ts.AddUser(fmt.Sprint("user", i), "secret")
	}
	conns := make([]*enginetest.Raw, n)
	done := make(chan int, n)
	for i := range n {
		go func() {
			conns[i] = ts.Login(t, fmt.Sprint("user", i), "secret", "r") // fails t, and never sends, on error
			done <- i
		}()
	}
	timeout := time.After(30 * time.Second)
	for range n {
		select {
		case <-done:
		case <-timeout:
			t.Fatal("logins did not finish in 30 s")
		}
	}
	count := func(want int) func() (bool, string) {
		return func() (bool, string) {
			got, err := obs.CountSessions(context.Background(), "node-m")
			return err == nil && got == want, fmt.Sprintf("%d entries, %v", got, err)
		}
	}
	waitFor(t, "every login registered", count(n))
	wantUser(t, obs, "user7", "user7/r@node-m:false:0")
	for _, c := range conns {
		c.Conn.Close()
	}
	waitFor(t, "every logout unregistered", count(0))
	if st := mod.Stats(); st.Registered < n || st.Unregistered < n || st.Live != 0 || st.Failures != 0 {
		t.Fatalf("stats %+v", st)
	}
}
