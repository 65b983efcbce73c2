package metrics

import (
	"testing"
	"time"
)

func BenchmarkStanzaIn(b *testing.B) {
	m := New(Options{NoRuntimeCollectors: true})
	b.ReportAllocs()
	for b.Loop() {
		m.StanzaIn(Message)
	}
}

func BenchmarkBytesIn(b *testing.B) {
	l := New(Options{NoRuntimeCollectors: true}).Listener("c2s")
	b.ReportAllocs()
	for b.Loop() {
		l.BytesIn(220)
	}
}

func BenchmarkObserveRouting(b *testing.B) {
	m := New(Options{NoRuntimeCollectors: true})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRouting(12 * time.Microsecond)
	}
}

// Parallel: the cost when every event loop counts into the same counter.
func BenchmarkStanzaInParallel(b *testing.B) {
	m := New(Options{NoRuntimeCollectors: true})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.StanzaIn(Message)
		}
	})
}

// One stanza's full accounting on the routing path: in, out, latency, bytes.
func BenchmarkPerStanza(b *testing.B) {
	m := New(Options{NoRuntimeCollectors: true})
	l := m.Listener("c2s")
	b.ReportAllocs()
	for b.Loop() {
		l.BytesIn(220)
		m.StanzaIn(Message)
		m.ObserveRouting(5 * time.Microsecond)
		m.StanzaOut(Message)
		l.BytesOut(240)
	}
}
