package redis

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// BenchmarkRegister measures registrations per second against the shared Redis: many
// concurrent callers with pipelining (the default), the same callers with one round
// trip per registration (MaxBatch 1) through the default 4 writers and through 64
// (64 round trips in flight), and a single caller.
//
//	go test ./backends/redis -run '^$' -bench Register -benchtime 3s
func BenchmarkRegister(b *testing.B) {
	for _, bc := range []struct {
		name        string
		maxBatch    int
		parallelism int // goroutines per GOMAXPROCS; 0: one caller
		shards      int
	}{
		{"pipelined/callers=64xP", 0, 64, 0},
		{"one-round-trip-each/callers=64xP", 1, 64, 0},
		{"one-round-trip-each/callers=64xP/shards=64", 1, 64, 64},
		{"pipelined/callers=1", 0, 0, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := open(b, Options{MaxBatch: bc.maxBatch, Shards: bc.shards})
			loadScripts(b, r)
			var h roundTrips
			r.c.AddHook(&h)
			var seq atomic.Int64
			one := func() {
				i := seq.Add(1)
				s := backends.Session{Domain: "bench.example", User: "u" + strconv.FormatInt(i%10_000, 10),
					Resource: "r" + strconv.FormatInt(i, 10), Node: "bench", Available: true}
				if err := r.Register(b.Context(), s); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			if bc.parallelism == 0 {
				for b.Loop() {
					one()
				}
			} else {
				b.SetParallelism(bc.parallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						one()
					}
				})
			}
			b.StopTimer()
			b.ReportMetric(float64(seq.Load())/b.Elapsed().Seconds(), "registrations/s")
			b.ReportMetric(float64(seq.Load())/float64(max(1, h.batches.Load())), "writes/roundtrip")
		})
	}
}
