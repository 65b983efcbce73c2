package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/bench/procstat"
	"github.com/hermod-im/hermod/bench/stats"
)

// live is a shard's running counters, reported to the driver as a "tick" event every
// --interval: the time series behind the progress line, the CSV and the charts. Every
// goroutine of the shard may update it.
type live struct {
	online, logins, sent, delivered, errs atomic.Int64

	hists [histShards]struct {
		sync.Mutex
		h stats.Histogram
	}
}

// record adds one delivery latency (ns) to the current interval; k spreads the locks.
func (l *live) record(k int, ns int64) {
	hs := &l.hists[k%histShards]
	hs.Lock()
	hs.h.Record(ns)
	hs.Unlock()
	l.delivered.Add(1)
}

// tick returns the cumulative counters and the latencies since the previous tick.
func (l *live) tick() *tickData {
	t := &tickData{Online: l.online.Load(), Logins: l.logins.Load(), Sent: l.sent.Load(),
		Delivered: l.delivered.Load(), Errors: l.errs.Load(), Latency: &stats.Histogram{}}
	for i := range l.hists {
		hs := &l.hists[i]
		hs.Lock()
		t.Latency.Merge(&hs.h)
		hs.h = stats.Histogram{}
		hs.Unlock()
	}
	return t
}

// tickData is one shard's "tick" event: cumulative counts, interval latencies.
type tickData struct {
	Online    int64            `json:"online"`
	Logins    int64            `json:"logins"`
	Sent      int64            `json:"sent"`
	Delivered int64            `json:"delivered"`
	Errors    int64            `json:"errors"`
	Latency   *stats.Histogram `json:"latency"`
}

// runTicks emits a tick every interval until ctx ends. Run it in its own goroutine.
func (s *shard) runTicks(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.emit(event{Ev: "tick", Tick: s.live.tick()}); err != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// row is one line of the time series the driver records.
type row struct {
	T            float64 // seconds since the driver started
	Phase        string  // ramp, run, step-RATE...
	Online       int64
	LoginsPerS   float64
	SentPerS     float64
	DeliveredPS  float64
	P50us, P99us float64
	Errors       int64
	ServerCPUPct float64
	ServerRSS    int64
	HarnessCPU   float64 // percent of one core, shards and driver together
	HarnessRSS   int64
	TargetRate   float64
}

// csvHeader names the columns of the time-series CSV; readCSV finds columns by name.
var csvHeader = []string{"t_s", "phase", "online", "logins_per_s", "sent_per_s", "delivered_per_s",
	"p50_us", "p99_us", "errors", "server_cpu_pct", "server_rss_mib", "harness_cpu_pct", "harness_rss_mib", "target_rate"}

func (r row) record() []string {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	return []string{f(r.T, 2), r.Phase, strconv.FormatInt(r.Online, 10), f(r.LoginsPerS, 1), f(r.SentPerS, 1), f(r.DeliveredPS, 1),
		f(r.P50us, 1), f(r.P99us, 1), strconv.FormatInt(r.Errors, 10), f(r.ServerCPUPct, 1), f(float64(r.ServerRSS)/(1<<20), 2),
		f(r.HarnessCPU, 1), f(float64(r.HarnessRSS)/(1<<20), 2), f(r.TargetRate, 0)}
}

// series is the driver's time series: the shards' latest ticks and the rows so far.
// Shard reader goroutines call add; the sampler goroutine calls sample; the driver's
// goroutine sets the phase and reads the rows at the end.
type series struct {
	mu     sync.Mutex
	start  time.Time
	phase  string
	target float64
	last   []*tickData      // per shard, cumulative counts
	hist   *stats.Histogram // latencies since the previous row
	rows   []row
	prev   struct {
		at                       time.Time
		logins, sent, delivered  int64
		serverCPU, harnessCPU    time.Duration
		serverValid, harnessSeen bool
	}
}

func newSeries(shards int) *series {
	s := &series{start: time.Now(), phase: "ramp", last: make([]*tickData, shards), hist: &stats.Histogram{}}
	s.prev.at = s.start
	return s
}

func (s *series) add(shard int, t *tickData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if shard >= 0 && shard < len(s.last) {
		if t.Latency != nil {
			s.hist.Merge(t.Latency)
		}
		t.Latency = nil
		s.last[shard] = t
	}
}

// setPhase names the rows from now on (and the target rate of a step).
func (s *series) setPhase(phase string, target float64) {
	s.mu.Lock()
	s.phase, s.target = phase, target
	s.mu.Unlock()
}

// sample appends a row from the shards' counters and the processes' CPU and RSS.
func (s *series) sample(now time.Time, server procstat.Proc, serverOK bool, harness []procstat.Proc) row {
	s.mu.Lock()
	defer s.mu.Unlock()
	var online, logins, sent, delivered, errs int64
	for _, t := range s.last {
		if t != nil {
			online += t.Online
			logins += t.Logins
			sent += t.Sent
			delivered += t.Delivered
			errs += t.Errors
		}
	}
	var hcpu time.Duration
	var hrss int64
	for _, p := range harness {
		hcpu += p.CPU
		hrss += p.RSS
	}
	dt := now.Sub(s.prev.at).Seconds()
	r := row{T: now.Sub(s.start).Seconds(), Phase: s.phase, Online: online, Errors: errs, TargetRate: s.target,
		HarnessRSS: hrss, P50us: float64(s.hist.Quantile(0.5)) / 1e3, P99us: float64(s.hist.Quantile(0.99)) / 1e3}
	if serverOK {
		r.ServerRSS = server.RSS
	}
	if dt > 0 {
		r.LoginsPerS = float64(logins-s.prev.logins) / dt
		r.SentPerS = float64(sent-s.prev.sent) / dt
		r.DeliveredPS = float64(delivered-s.prev.delivered) / dt
		if serverOK && s.prev.serverValid {
			r.ServerCPUPct = 100 * (server.CPU - s.prev.serverCPU).Seconds() / dt
		}
		if s.prev.harnessSeen {
			r.HarnessCPU = max(0, 100*(hcpu-s.prev.harnessCPU).Seconds()/dt)
		}
	}
	s.prev.at, s.prev.logins, s.prev.sent, s.prev.delivered = now, logins, sent, delivered
	s.prev.serverCPU, s.prev.serverValid = server.CPU, serverOK
	s.prev.harnessCPU, s.prev.harnessSeen = hcpu, true
	s.hist = &stats.Histogram{}
	s.rows = append(s.rows, r)
	return r
}

func (s *series) snapshot() []row {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]row(nil), s.rows...)
}

// runSampler samples every interval until ctx ends, printing a progress line to w
// (nil: none). Run it in its own goroutine.
func (d *driver) runSampler(ctx context.Context, every time.Duration, w io.Writer) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			srv, err := procstat.ReadProc(d.pid)
			r := d.series.sample(now, srv, err == nil, d.harnessProcs())
			if w != nil {
				fmt.Fprintf(w, "[%5.0fs %s] online %d  logins %.0f/s  sent %.0f/s  delivered %.0f/s  p50 %.0f µs  p99 %.0f µs  errors %d  server CPU %.0f%% RSS %.0f MiB  harness CPU %.0f%%\n",
					r.T, r.Phase, r.Online, r.LoginsPerS, r.SentPerS, r.DeliveredPS, r.P50us, r.P99us, r.Errors,
					r.ServerCPUPct, float64(r.ServerRSS)/(1<<20), r.HarnessCPU)
			}
		case <-ctx.Done():
			return
		}
	}
}

// writeCSV writes rows with csvHeader to path.
func writeCSV(path string, header []string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("csv %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("csv %s: %w", path, err)
	}
	return nil
}

// seriesRecords turns rows into CSV records.
func seriesRecords(rows []row) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out
}

// readCSV reads a CSV written by writeCSV into columns by header name; the phase
// column and any other text column come back as NaN-free zeros where not numeric.
func readCSV(path string) (map[string][]float64, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read csv: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("read csv %s: %w", path, err)
	}
	if len(recs) < 1 {
		return nil, nil, fmt.Errorf("read csv %s: empty", path)
	}
	cols := map[string][]float64{}
	var phases []string
	for _, rec := range recs[1:] {
		for j, name := range recs[0] {
			if j >= len(rec) {
				continue
			}
			if name == "phase" {
				phases = append(phases, rec[j])
				continue
			}
			v, err := strconv.ParseFloat(rec[j], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("read csv %s: column %s: %w", path, name, err)
			}
			cols[name] = append(cols[name], v)
		}
	}
	return cols, phases, nil
}
