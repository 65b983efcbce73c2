package authmethods

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/config"
)

// extauthScript is an ejabberd extauth program as operators write them, with test
// behaviours keyed by the user: "slow" answers after 3 s, "die" exits, "garbage"
// answers a bad frame, "stderr" complains first.
const extauthScript = `#!/usr/bin/env python3
import struct, sys, time
users = {("alice", "example.com"): "secret", ("dave", "example.com"): "pa:ss"}
def reply(ok):
    sys.stdout.buffer.write(struct.pack(">HH", 2, 1 if ok else 0))
    sys.stdout.buffer.flush()
while True:
    head = sys.stdin.buffer.read(2)
    if len(head) < 2:
        sys.exit(0)
    (n,) = struct.unpack(">H", head)
    req = sys.stdin.buffer.read(n).decode("utf-8")
    op, _, rest = req.partition(":")
    if op == "auth":
        user, server, password = rest.split(":", 2)
        if user == "slow":
            time.sleep(3)
        if user == "die":
            sys.exit(3)
        if user == "garbage":
            sys.stdout.buffer.write(b"\x00\x05hello")
            sys.stdout.buffer.flush()
            continue
        if user == "stderr":
            print("checking", user, file=sys.stderr, flush=True)
        reply(users.get((user, server)) == password)
    elif op == "isuser":
        user, server = rest.split(":", 1)
        reply((user, server) in users)
    else:
        reply(False)
`

func needPython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is needed for the external method tests")
		}
		t.Skip("python3 not found")
	}
	return p
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "extauth.py")
	if err := os.WriteFile(p, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func externalMethod(t *testing.T, script string, instances int, timeout time.Duration) *External {
	t.Helper()
	py := needPython(t)
	m, err := NewExternal(config.AuthExternal{Program: py, Args: []string{script}, Instances: instances, Timeout: dur(timeout)}, "example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestExternal(t *testing.T) {
	m := externalMethod(t, writeScript(t, extauthScript), 2, 2*time.Second)
	ctx := context.Background()
	checkMethod(t, m, []passwordCase{
		{"alice", "secret", true},
		{"alice", "wrong", false},
		{"alice", "secret:with:colons", false},
		{"dave", "pa:ss", true},
		{"carol", "secret", false},
		{"stderr", "x", false},
	}, map[string]bool{"alice": true, "carol": false})
	// Many concurrent requests over two instances.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := m.CheckPassword(ctx, "alice", "secret")
			if err == nil && !ok {
				err = fmt.Errorf("request %d: a right password was refused", i)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// An instance that dies, hangs or answers garbage fails that request within the
// timeout and is replaced; the method keeps answering.
func TestExternalFailures(t *testing.T) {
	m := externalMethod(t, writeScript(t, extauthScript), 1, 1500*time.Millisecond)
	ctx := context.Background()
	for _, user := range []string{"die", "slow", "garbage"} {
		start := time.Now()
		ok, err := m.CheckPassword(ctx, user, "secret")
		if ok || err == nil {
			t.Errorf("%s: CheckPassword = %v, %v; want an error", user, ok, err)
		}
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Errorf("%s: took %v with a 1.5s timeout", user, d)
		}
		// The replacement starts once restartDelay has passed since the last start. On
		// a loaded machine a fresh interpreter can take longer than the timeout to
		// boot, which fails that request and restarts it again: allow three tries.
		for range 3 {
			time.Sleep(restartDelay + 50*time.Millisecond)
			if ok, err = m.CheckPassword(ctx, "alice", "secret"); ok && err == nil {
				break
			}
		}
		if !ok || err != nil {
			t.Errorf("after %s: CheckPassword(alice) = %v, %v", user, ok, err)
		}
	}
}

// A program that exits at once fails every request quickly, without being forked on
// each of them.
func TestExternalDeadProgram(t *testing.T) {
	m := externalMethod(t, writeScript(t, "import sys\nsys.exit(1)\n"), 1, time.Second)
	for range 3 {
		start := time.Now()
		ok, err := m.CheckPassword(context.Background(), "alice", "secret")
		if ok || err == nil {
			t.Fatalf("CheckPassword = %v, %v; want an error", ok, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v with a 1s timeout", d)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows the password", err)
		}
	}
	if _, err := NewExternal(config.AuthExternal{Program: filepath.Join(t.TempDir(), "absent"), Instances: 1, Timeout: dur(time.Second)}, "example.com", quietLog()); err == nil {
		t.Error("NewExternal with a missing program succeeded")
	}
}

// After Close, requests fail at once instead of blocking.
func TestExternalClosed(t *testing.T) {
	m := externalMethod(t, writeScript(t, extauthScript), 2, time.Second)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CheckPassword(context.Background(), "alice", "secret"); err == nil {
		t.Error("CheckPassword after Close succeeded")
	}
}

// The instances are long-lived: requests go to the same N processes, concurrently.
func TestExternalInstances(t *testing.T) {
	log := filepath.Join(t.TempDir(), "pids")
	script := writeScript(t, `import os, struct, sys, time
while True:
    h = sys.stdin.buffer.read(2)
    if len(h) < 2: sys.exit(0)
    sys.stdin.buffer.read(struct.unpack(">H", h)[0])
    with open(`+"\""+log+"\""+`, "a") as f: f.write("%d\n" % os.getpid())
    time.sleep(0.2)
    sys.stdout.buffer.write(struct.pack(">HH", 2, 1))
    sys.stdout.buffer.flush()
`)
	m := externalMethod(t, script, 3, 5*time.Second)
	round := func(each int) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if ok, err := m.CheckPassword(context.Background(), "alice", "secret"); !ok || err != nil {
						t.Errorf("CheckPassword = %v, %v", ok, err)
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	round(1) // the interpreters have booted
	// Nine requests of 200 ms on three instances: about 600 ms, not 1.8 s.
	if d := round(3); d > 1500*time.Millisecond {
		t.Errorf("9 requests took %v on 3 instances", d)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]bool{}
	for _, p := range strings.Fields(string(b)) {
		pids[p] = true
	}
	if len(strings.Fields(string(b))) != 12 || len(pids) != 3 {
		t.Errorf("12 requests served by %d processes (%d requests logged), want 3", len(pids), len(strings.Fields(string(b))))
	}
}
