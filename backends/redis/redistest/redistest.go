// Package redistest gives tests a Redis to talk to: the shared server of the machine
// and CI (127.0.0.1:6379) under a key prefix of their own, or a private redis-server
// they may kill and restart. It is test support: no production code imports it.
//
// Every function and method is to be called from the test's own goroutine (they may
// fail or skip the test).
//
// When CI=true, a missing server fails the test; otherwise the test is skipped with a
// message saying what is missing.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// SharedAddr is the address of the shared server, unless HERMOD_REDIS_ADDR says another.
const SharedAddr = "127.0.0.1:6379"

// unavailable fails t under CI=true and skips it otherwise.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: Redis tests must run)", msg)
	}
	t.Skipf("%s; skipping (set CI=true to make this a failure)", msg)
}

// Addr returns the shared server's address after checking that it answers PING.
func Addr(t testing.TB) string {
	t.Helper()
	addr := SharedAddr
	if a := os.Getenv("HERMOD_REDIS_ADDR"); a != "" {
		addr = a
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unavailable(t, "no Redis at %s: %v", addr, err)
	}
	return addr
}

// Prefix returns a key prefix no other test run uses, "hermod_t_PKG:RANDOM:", and
// deletes the keys under it on addr when the test ends.
func Prefix(t testing.TB, addr, pkg string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	prefix := "hermod_t_" + pkg + ":" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() { DeletePrefix(t, addr, prefix) })
	return prefix
}

// DeletePrefix deletes every key under prefix on addr (at most a million).
func DeletePrefix(t testing.TB, addr, prefix string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var cursor uint64
	for range 1000 {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			t.Logf("redistest: cleaning %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				t.Logf("redistest: cleaning %s*: %v", prefix, err)
				return
			}
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

// Server is a private redis-server on a free loopback port, without persistence, that a
// test can kill and start again on the same port.
type Server struct {
	// Addr is 127.0.0.1:PORT; it stays the same across Kill and Start.
	Addr string
	t    testing.TB
	port int
	cmd  *exec.Cmd
	exit chan struct{}
}

// StartServer starts a private server and kills it when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unavailable(t, "no redis-server binary on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), t: t, port: port}
	t.Cleanup(s.Kill)
	s.Start()
	return s
}

// Start starts the server (again, after Kill) and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("redistest: Start of a running server")
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir(), "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	s.cmd, s.exit = cmd, make(chan struct{})
	go func(exit chan struct{}) { _ = cmd.Wait(); close(exit) }(s.exit)
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.exit:
			s.cmd = nil
			s.t.Fatalf("redistest: redis-server on port %d exited at start (port taken?)", s.port)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on %s not answering: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL, as a crash would, and waits for it to exit. It
// does nothing when the server is not running.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		s.t.Errorf("redistest: redis-server pid %d did not exit", s.cmd.Process.Pid)
	}
	s.cmd = nil
}
