// Package metrics holds Hermod's Prometheus collectors, one set per server, in a
// registry of its own (never the client library's global one), so that two servers
// in one process (tests) do not share counters.
//
// The engine calls it on the hot path: every method that runs per stanza or per read
// is an atomic add on a label child resolved beforehand (per listener, per stanza
// kind, per SASL mechanism), with no map lookup and no allocation; tests pin that.
// Label children that depend on configuration (listeners, storage operations) are
// resolved once with Listener and Storage and kept by the caller.
//
// It must not: register into prometheus.DefaultRegisterer, serve HTTP (engine/admin
// does), or know about connections, sessions or stanzas beyond counting them.
//
// All methods are safe from any goroutine, event loops included. Methods on a nil
// *Metrics, *Listener, *Mechanism or *StorageOp do nothing, so a server built
// without metrics needs no branches.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric name.
const Namespace = "hermod"

// StanzaKind indexes the per-kind stanza counters. The engine maps its own stanza
// kinds to these; the order is fixed so that arrays index without a lookup.
type StanzaKind uint8

// Stanza kinds.
const (
	Message StanzaKind = iota
	Presence
	IQ
	Other // nonzas counted as traffic: SM acks, CSI, unknown top-level elements
	numKinds
)

// String returns the label value of the kind.
func (k StanzaKind) String() string {
	switch k {
	case Message:
		return "message"
	case Presence:
		return "presence"
	case IQ:
		return "iq"
	}
	return "other"
}

// mechanisms are resolved at construction so their series exist (at 0) from the
// first scrape: a dashboard can tell "no failures" from "not exported".
var knownMechanisms = [...]string{
	"PLAIN", "ANONYMOUS",
	"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512",
	"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS",
}

// Storage operations resolved at construction; Storage accepts others too.
var knownStorageOps = [...]string{"account_get", "account_put", "account_delete", "account_list"}

// Metrics is one server's collectors and their registry.
type Metrics struct {
	reg *prometheus.Registry

	sessions   prometheus.Gauge
	stanzasIn  [numKinds]prometheus.Counter
	stanzasOut [numKinds]prometheus.Counter
	routing    prometheus.Histogram

	connections *prometheus.GaugeVec
	bytesIn     *prometheus.CounterVec
	bytesOut    *prometheus.CounterVec
	authOK      *prometheus.CounterVec
	authFail    *prometheus.CounterVec
	storage     *prometheus.HistogramVec
	backendUp   *prometheus.GaugeVec
	backendErrs *prometheus.CounterVec

	mechs [len(knownMechanisms)]Mechanism
}

// Options adjust New. The zero value is the production setting.
type Options struct {
	// NoRuntimeCollectors leaves out the Go runtime and process collectors (tests
	// that compare whole scrapes).
	NoRuntimeCollectors bool
}

// RoutingBuckets are the routing latency histogram's upper bounds, in seconds: from
// 1 µs (a local delivery) to 100 ms (a loop that stalled).
func RoutingBuckets() []float64 { return prometheus.ExponentialBuckets(1e-6, 4, 10) }

// StorageBuckets are the storage latency histogram's upper bounds, in seconds: from
// 50 µs (a cached read) to about 13 s (a disk in trouble).
func StorageBuckets() []float64 { return prometheus.ExponentialBuckets(50e-6, 4, 10) }

// New builds the collectors and registers them, with the Go runtime and process
// collectors, in a fresh registry.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.sessions = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "sessions",
		Help: "Client sessions bound to a resource.",
	})
	in := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "stanzas_received_total",
		Help: "Top-level elements received from clients, by kind.",
	}, []string{"kind"})
	out := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "stanzas_sent_total",
		Help: "Top-level elements written to clients, by kind.",
	}, []string{"kind"})
	for k := StanzaKind(0); k < numKinds; k++ {
		m.stanzasIn[k] = in.WithLabelValues(k.String())
		m.stanzasOut[k] = out.WithLabelValues(k.String())
	}
	m.routing = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "routing_latency_seconds",
		Help:    "Time from a stanza's arrival to its hand-off to the recipient's queue.",
		Buckets: RoutingBuckets(),
	})
	m.connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "connections",
		Help: "Open client connections, by listener.",
	}, []string{"listener"})
	m.bytesIn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "received_bytes_total",
		Help: "Bytes read from client connections (on the wire, before TLS decryption), by listener.",
	}, []string{"listener"})
	m.bytesOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "sent_bytes_total",
		Help: "Bytes written to client connections (on the wire), by listener.",
	}, []string{"listener"})
	m.authOK = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "auth_successes_total",
		Help: "Successful SASL authentications, by mechanism.",
	}, []string{"mechanism"})
	m.authFail = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "auth_failures_total",
		Help: "Failed SASL authentications, by mechanism.",
	}, []string{"mechanism"})
	m.storage = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "storage_latency_seconds",
		Help:    "Duration of storage operations, by operation.",
		Buckets: StorageBuckets(),
	}, []string{"op"})
	m.backendUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "backend_up",
		Help: "1 when the storage backend answered its last health check, 0 when it did not, by backend.",
	}, []string{"backend"})
	m.backendErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "backend_check_failures_total",
		Help: "Failed health checks of storage backends, by backend.",
	}, []string{"backend"})
	for i, name := range knownMechanisms {
		m.mechs[i] = Mechanism{ok: m.authOK.WithLabelValues(name), fail: m.authFail.WithLabelValues(name)}
	}
	for _, op := range knownStorageOps {
		m.storage.WithLabelValues(op)
	}
	m.reg.MustRegister(m.sessions, in, out, m.routing, m.connections, m.bytesIn, m.bytesOut,
		m.authOK, m.authFail, m.storage, m.backendUp, m.backendErrs)
	if !opts.NoRuntimeCollectors {
		m.reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: Namespace}),
		)
	}
	return m
}

// Registry returns the registry to expose (engine/admin serves it on /metrics) or to
// add a module's collectors to.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// StanzaIn counts one top-level element received from a client.
func (m *Metrics) StanzaIn(k StanzaKind) {
	if m != nil && k < numKinds {
		m.stanzasIn[k].Inc()
	}
}

// StanzaOut counts one top-level element written to a client.
func (m *Metrics) StanzaOut(k StanzaKind) {
	if m != nil && k < numKinds {
		m.stanzasOut[k].Inc()
	}
}

// SessionOpened counts a session bound; pair every call with SessionClosed.
func (m *Metrics) SessionOpened() {
	if m != nil {
		m.sessions.Inc()
	}
}

// SessionClosed counts a bound session gone.
func (m *Metrics) SessionClosed() {
	if m != nil {
		m.sessions.Dec()
	}
}

// ObserveRouting records one stanza's routing latency.
func (m *Metrics) ObserveRouting(d time.Duration) {
	if m != nil {
		m.routing.Observe(d.Seconds())
	}
}

// Listener resolves the per-listener children once; the engine keeps the result with
// the listener. name is the label value, e.g. "c2s:0.0.0.0:5222". Safe from any
// goroutine, but it allocates on its first call per name: call it at start-up.
func (m *Metrics) Listener(name string) *Listener {
	if m == nil {
		return nil
	}
	return &Listener{
		conns:    m.connections.WithLabelValues(name),
		bytesIn:  m.bytesIn.WithLabelValues(name),
		bytesOut: m.bytesOut.WithLabelValues(name),
	}
}

// Listener is one listener's connection gauge and byte counters.
type Listener struct {
	conns             prometheus.Gauge
	bytesIn, bytesOut prometheus.Counter
}

// ConnOpened counts a connection accepted; pair it with ConnClosed.
func (l *Listener) ConnOpened() {
	if l != nil {
		l.conns.Inc()
	}
}

// ConnClosed counts a connection gone.
func (l *Listener) ConnClosed() {
	if l != nil {
		l.conns.Dec()
	}
}

// BytesIn adds n bytes read from the wire.
func (l *Listener) BytesIn(n int) {
	if l != nil && n > 0 {
		l.bytesIn.Add(float64(n))
	}
}

// BytesOut adds n bytes written to the wire.
func (l *Listener) BytesOut(n int) {
	if l != nil && n > 0 {
		l.bytesOut.Add(float64(n))
	}
}

// Mechanism returns the pre-resolved auth counters of a SASL mechanism. Known
// mechanism names cost a short linear scan of constants and no allocation; other
// names allocate a new pair of children (call those once and keep them).
func (m *Metrics) Mechanism(name string) *Mechanism {
	if m == nil {
		return nil
	}
	for i := range knownMechanisms {
		if knownMechanisms[i] == name {
			return &m.mechs[i]
		}
	}
	return &Mechanism{ok: m.authOK.WithLabelValues(name), fail: m.authFail.WithLabelValues(name)}
}

// Mechanism is one SASL mechanism's success and failure counters.
type Mechanism struct {
	ok, fail prometheus.Counter
}

// Success counts a successful authentication.
func (a *Mechanism) Success() {
	if a != nil {
		a.ok.Inc()
	}
}

// Failure counts a failed authentication.
func (a *Mechanism) Failure() {
	if a != nil {
		a.fail.Inc()
	}
}

// Storage resolves the latency histogram child of one storage operation; call it
// once per operation name and keep the result.
func (m *Metrics) Storage(op string) *StorageOp {
	if m == nil {
		return nil
	}
	return &StorageOp{h: m.storage.WithLabelValues(op)}
}

// StorageOp is one storage operation's latency histogram.
type StorageOp struct {
	h prometheus.Observer
}

// Observe records one operation's duration.
func (s *StorageOp) Observe(d time.Duration) {
	if s != nil {
		s.h.Observe(d.Seconds())
	}
}

// Since records the time elapsed since start: `defer op.Since(time.Now())`.
func (s *StorageOp) Since(start time.Time) {
	if s != nil {
		s.h.Observe(time.Since(start).Seconds())
	}
}

// BackendHealth records the outcome of a health check of the storage backend named
// name (mysql, redis). Safe from any goroutine.
func (m *Metrics) BackendHealth(name string, up bool) {
	if up {
		m.backendUp.WithLabelValues(name).Set(1)
		return
	}
	m.backendUp.WithLabelValues(name).Set(0)
	m.backendErrs.WithLabelValues(name).Inc()
}

// Value reads one series from the registry: the metric name and its single label's
// value ("" for none). Counters and gauges give their value, histograms their sample
// count; ok is false when no such series exists. For tests and tools; it gathers the
// whole registry.
func (m *Metrics) Value(name, label string) (v float64, ok bool, err error) {
	mfs, err := m.reg.Gather()
	if err != nil {
		return 0, false, err
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			lv := ""
			if len(s.GetLabel()) > 0 {
				lv = s.GetLabel()[0].GetValue()
			}
			if lv != label {
				continue
			}
			switch {
			case s.GetCounter() != nil:
				return s.GetCounter().GetValue(), true, nil
			case s.GetGauge() != nil:
				return s.GetGauge().GetValue(), true, nil
			case s.GetHistogram() != nil:
				return float64(s.GetHistogram().GetSampleCount()), true, nil
			}
		}
	}
	return 0, false, nil
}
