package main

import (
	"math/rand/v2"
	"testing"

	"github.com/hermod-im/hermod/bench/client"
)

// BenchmarkDeliver is the reader's cost per stamped stanza: parse the stamp, record
// the latency in the window and in the live counters.
func BenchmarkDeliver(b *testing.B) {
	m := &msgRun{shard: &shard{}}
	m.win.Store(&window{endNS: 1 << 62})
	stamp := appendStamp(nil, 42)
	for b.Loop() {
		m.deliver(3, stamp, false)
	}
}

// BenchmarkBuildChat is the sender's cost to write one stamped chat message.
func BenchmarkBuildChat(b *testing.B) {
	m := &msgRun{jids: [][]byte{[]byte("user1@localhost/hb"), []byte("user2@localhost/hb")}, conns: make([]*client.Conn, 2)}
	rng := rand.New(rand.NewPCG(1, 2))
	buf, stamp := make([]byte, 0, 256), make([]byte, 0, 64)
	var seq int64
	for b.Loop() {
		seq++
		stamp = appendStamp(stamp[:0], seq)
		buf, _ = m.buildChat(buf[:0], 0, rng, stamp)
	}
}
