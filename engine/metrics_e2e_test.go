package engine_test

import (
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/engine/metrics"
)

// TestServerMetrics checks that the server feeds what /metrics exports: stanzas by
// kind both ways (bind and replies included), the routing latency of routed stanzas
// and the storage latency of the account reads SASL makes.
func TestServerMetrics(t *testing.T) {
	m := metrics.New(metrics.Options{NoRuntimeCollectors: true})
	ts := startServer(t, enginetest.WithMetrics(m))
	users(ts, "alice", "bob")
	a := rawLogin(t, ts, "alice", "a") // SCRAM: one account read; bind: an iq each way
	b := rawLogin(t, ts, "bob", "b")
	a.Send("<presence/>") // to alice herself
	a.ReadUntil("<presence ")
	a.Send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
	a.ReadUntil("id='p1'")
	a.Send("<message to='bob@localhost/b' type='chat' id='m1'><body>hi</body></message>")
	b.ReadUntil("</message>")

	// The loop records a stanza's routing after its write: the client may read first.
	want := []struct {
		name, label string
		atLeast     float64
	}{
		{"hermod_stanzas_received_total", "iq", 3}, // two binds, one ping
		{"hermod_stanzas_received_total", "presence", 1},
		{"hermod_stanzas_received_total", "message", 1},
		{"hermod_stanzas_sent_total", "iq", 3}, // two bind results, one pong
		{"hermod_stanzas_sent_total", "presence", 1},
		{"hermod_stanzas_sent_total", "message", 1},
		{"hermod_routing_latency_seconds", "", 3}, // presence, ping, message
		{"hermod_storage_latency_seconds", "account_get", 2},
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, tc := range want {
		got, ok := gauge(t, m, tc.name, tc.label)
		for (!ok || got < tc.atLeast) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			got, ok = gauge(t, m, tc.name, tc.label)
		}
		if !ok || got < tc.atLeast {
			t.Errorf("%s{%s} = %v (found %v), want at least %v", tc.name, tc.label, got, ok, tc.atLeast)
		}
	}
}

// gauge reads a series with Value, failing t on a gather error.
func gauge(t *testing.T, m *metrics.Metrics, name, label string) (float64, bool) {
	t.Helper()
	v, ok, err := m.Value(name, label)
	if err != nil {
		t.Fatal(err)
	}
	return v, ok
}
