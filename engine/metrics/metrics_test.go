package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestCounters(t *testing.T) {
	m := New(Options{NoRuntimeCollectors: true})
	m.StanzaIn(Message)
	m.StanzaIn(Message)
	m.StanzaIn(IQ)
	m.StanzaOut(Presence)
	m.StanzaOut(Other)
	m.StanzaIn(StanzaKind(200)) // out of range: ignored, no panic
	m.SessionOpened()
	m.SessionOpened()
	m.SessionClosed()
	l := m.Listener("c2s:0.0.0.0:5222")
	l.ConnOpened()
	l.BytesIn(100)
	l.BytesIn(-5)
	l.BytesOut(42)
	m.Listener("c2s:0.0.0.0:5223").ConnOpened()
	m.Listener("c2s:0.0.0.0:5223").ConnClosed()
	m.Mechanism("SCRAM-SHA-256").Success()
	m.Mechanism("SCRAM-SHA-256").Failure()
	m.Mechanism("PLAIN").Failure()
	m.Mechanism("X-CUSTOM").Success()
	m.ObserveRouting(3 * time.Microsecond)
	m.Storage("account_get").Observe(2 * time.Millisecond)
	m.Storage("account_get").Since(time.Now())

	tests := []struct {
		name, label string
		want        float64
	}{
		{"hermod_stanzas_received_total", "message", 2},
		{"hermod_stanzas_received_total", "iq", 1},
		{"hermod_stanzas_received_total", "presence", 0},
		{"hermod_stanzas_received_total", "other", 0},
		{"hermod_stanzas_sent_total", "presence", 1},
		{"hermod_stanzas_sent_total", "other", 1},
		{"hermod_stanzas_sent_total", "message", 0},
		{"hermod_sessions", "", 1},
		{"hermod_connections", "c2s:0.0.0.0:5222", 1},
		{"hermod_connections", "c2s:0.0.0.0:5223", 0},
		{"hermod_received_bytes_total", "c2s:0.0.0.0:5222", 100},
		{"hermod_sent_bytes_total", "c2s:0.0.0.0:5222", 42},
		{"hermod_auth_successes_total", "SCRAM-SHA-256", 1},
		{"hermod_auth_failures_total", "SCRAM-SHA-256", 1},
		{"hermod_auth_failures_total", "PLAIN", 1},
		{"hermod_auth_successes_total", "PLAIN", 0},
		{"hermod_auth_successes_total", "X-CUSTOM", 1},
		{"hermod_routing_latency_seconds", "", 1},            // sample count
		{"hermod_storage_latency_seconds", "account_get", 2}, // sample count
		{"hermod_storage_latency_seconds", "account_put", 0},
	}
	for _, tt := range tests {
		got, ok := value(t, m, tt.name, tt.label)
		if !ok || got != tt.want {
			t.Errorf("%s{%s} = %v (found %v), want %v", tt.name, tt.label, got, ok, tt.want)
		}
	}
	// Known mechanisms are exported at zero from the start.
	if n := series(t, m, "hermod_auth_failures_total"); n != 9 {
		t.Errorf("auth failure series = %d, want 8 known + 1 custom", n)
	}
}

// value reads a series with Value, failing t on a gather error.
func value(t *testing.T, m *Metrics, name, label string) (float64, bool) {
	t.Helper()
	v, ok, err := m.Value(name, label)
	if err != nil {
		t.Fatal(err)
	}
	return v, ok
}

func series(t *testing.T, m *Metrics, name string) int {
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}

func TestRuntimeCollectors(t *testing.T) {
	m := New(Options{})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var goroutines, process bool
	for _, mf := range mfs {
		goroutines = goroutines || mf.GetName() == "go_goroutines"
		process = process || strings.HasPrefix(mf.GetName(), "hermod_process_")
	}
	if !goroutines || !process {
		t.Errorf("runtime collectors missing: go=%v process=%v", goroutines, process)
	}
}

// Two servers in one process keep separate counts.
func TestSeparateRegistries(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	a.StanzaIn(Message)
	if got, _ := value(t, b, "hermod_stanzas_received_total", "message"); got != 0 {
		t.Errorf("b saw a's stanza: %v", got)
	}
}

func TestNilReceivers(t *testing.T) {
	var m *Metrics
	m.StanzaIn(Message)
	m.StanzaOut(IQ)
	m.SessionOpened()
	m.SessionClosed()
	m.ObserveRouting(time.Second)
	l := m.Listener("x")
	l.ConnOpened()
	l.ConnClosed()
	l.BytesIn(1)
	l.BytesOut(1)
	m.Mechanism("PLAIN").Success()
	m.Mechanism("PLAIN").Failure()
	m.Storage("x").Observe(time.Second)
	m.Storage("x").Since(time.Now())
}

func TestKindString(t *testing.T) {
	for k, want := range map[StanzaKind]string{Message: "message", Presence: "presence", IQ: "iq", Other: "other", 9: "other"} {
		if k.String() != want {
			t.Errorf("%d.String() = %s", k, k.String())
		}
	}
}
