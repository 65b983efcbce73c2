//go:build !race

package metrics

import (
	"testing"
	"time"
)

// The per-stanza and per-read paths must not allocate.
func TestHotPathAllocs(t *testing.T) {
	m := New(Options{NoRuntimeCollectors: true})
	l := m.Listener("c2s")
	mech := m.Mechanism("SCRAM-SHA-256")
	op := m.Storage("account_get")
	tests := map[string]func(){
		"StanzaIn":       func() { m.StanzaIn(Message) },
		"StanzaOut":      func() { m.StanzaOut(IQ) },
		"Session":        func() { m.SessionOpened(); m.SessionClosed() },
		"ObserveRouting": func() { m.ObserveRouting(7 * time.Microsecond) },
		"Conn":           func() { l.ConnOpened(); l.ConnClosed() },
		"Bytes":          func() { l.BytesIn(512); l.BytesOut(220) },
		"Mechanism":      func() { m.Mechanism("SCRAM-SHA-256").Success() },
		"Auth":           func() { mech.Failure() },
		"Storage":        func() { op.Observe(time.Millisecond) },
	}
	for name, f := range tests {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
}
