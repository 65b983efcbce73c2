//go:build !race

package engine_test

import (
	"io"
	"testing"
	"time"
)

// A chat message between two sessions on one event loop is received, routed and
// written without allocating (the whole process is counted: server and clients).
func TestRouteSameLoopAllocs(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := rawLogin(t, ts, "alice", "a")
	r := loginPlaced(t, ts, "bob", "b", "alice", "a", true)
	msg := []byte("<message to='bob@localhost/b' type='chat' id='m'><body>allocation-free?</body></message>")
	if _, err := a.Conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	want := len(r.ReadUntil("</message>"))
	buf := make([]byte, want)
	_ = r.Conn.SetReadDeadline(time.Time{})
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := a.Conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r.Conn, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per routed message", allocs)
	}
}
