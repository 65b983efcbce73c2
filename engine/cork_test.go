package engine_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/enginetest"
)

// writeSyscalls returns how many write system calls this process has made: the test
// server runs in the test's own process.
func writeSyscalls(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// quietWrites waits until the process has made no write call for 100 ms (at most 2 s)
// and returns the count: what a login set off on workers (session hooks, their store
// writes, the loop wake-ups that bring their results back) must not land in a
// measurement, and on a loaded machine it may take longer than a fixed sleep.
func quietWrites(t *testing.T) int {
	t.Helper()
	n := writeSyscalls(t)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		m := writeSyscalls(t)
		if m == n {
			break
		}
		n = m
	}
	return n
}

// TestRepliesLeaveTogether checks that what the server writes while handling one read
// leaves in one system call: the stream header with its features, and the replies to
// several stanzas that arrived in one segment.
//
// The count is the whole process's, so the runtime's own writes (the netpoller's
// wake-ups when a timer moves) sometimes land in it: each case is tried up to five
// times and passes when one attempt counts exactly the client's write and the
// server's. Replies written apart never count that low.
func TestRepliesLeaveTogether(t *testing.T) {
	ts := startServer(t)
	users(ts, "cork")
	fewest := func(what string, attempt func() int) {
		t.Helper()
		var counts []int
		for range 5 {
			n := attempt()
			if n == 2 {
				return
			}
			counts = append(counts, n)
		}
		t.Errorf("%s: write calls (client and server) %v, want 2", what, counts)
	}
	fewest("stream header with features", func() int {
		rc := dialRaw(t, ts.Plain)
		defer rc.Conn.Close()
		before := quietWrites(t)       // the accept's own work is done
		rc.Send(enginetest.StreamOpen) // one write by the client
		rc.ReadUntil("</stream:features>")
		return writeSyscalls(t) - before
	})
	rc := rawLogin(t, ts, "cork", "r1")
	fewest("three pings in one segment", func() int {
		before := quietWrites(t)
		rc.Send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq><iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq><iq type='get' id='p3'><ping xmlns='urn:xmpp:ping'/></iq>")
		rc.ReadUntil("id='p3'")
		n := writeSyscalls(t) - before
		rc.Buf.Reset()
		return n
	})
}
