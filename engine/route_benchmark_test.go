package engine_test

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRouteMessage measures the receive-route-send path for one chat message
// between two local sessions: the client's bytes are scanned, the header parsed, the
// recipient looked up, the start tag rewritten with the stamped 'from', and the bytes
// written to the recipient's socket. Allocations counted are the whole process's,
// clients included (they write and read preallocated buffers).
//
// "same-loop" puts both sessions on one event loop (a direct write); "cross-loop" on
// different loops (the recipient's mailbox and one gnet Wake per batch).
func BenchmarkRouteMessage(b *testing.B) {
	for _, tc := range []struct {
		name     string
		sameLoop bool
	}{{"cross-loop", false}, {"same-loop", true}} {
		b.Run(tc.name, func(b *testing.B) {
			ts := startServer(b)
			ts.AddUser("alice", "pw-alice")
			ts.AddUser("bob", "pw-bob")
			t := b
			a := rawLogin(t, ts, "alice", "a")
			r := loginPlaced(t, ts, "bob", "b", "alice", "a", tc.sameLoop)
			msg := []byte("<message to='bob@localhost/b' type='chat' id='m'><body>" + string(bytes.Repeat([]byte("x"), 120)) + "</body></message>")
			// One round trip learns the size of what bob receives.
			if _, err := a.Conn.Write(msg); err != nil {
				b.Fatal(err)
			}
			got := r.ReadUntil("</message>")
			want := len(got)
			buf := make([]byte, want)
			_ = r.Conn.SetReadDeadline(time.Time{}) // ReadUntil's deadline would cut the run short
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := a.Conn.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(r.Conn, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(want), "bytes-delivered/op")
			_ = strconv.Itoa
		})
	}
}
