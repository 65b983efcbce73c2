package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/hermod-im/hermod/bench/stats"
)

// report is one run's result: what was asked, the samples, and the derived figures.
// It is printed for people and appended as one JSON line for scripts.
type report struct {
	Label     string    `json:"label"`
	Scenario  string    `json:"scenario"`
	Server    string    `json:"server"`
	ServerPID int       `json:"server_pid"`
	StartTLS  bool      `json:"starttls"`
	Mech      string    `json:"mech"`
	N         int       `json:"n"`
	Shards    int       `json:"shards"`
	Started   time.Time `json:"started"`

	Before  sample  `json:"before"` // before any shard started
	Start   sample  `json:"start"`  // login, messages: when "go" was sent
	After   sample  `json:"after"`  // idle: after settling; others: after the results
	AfterGC *sample `json:"after_gc,omitempty"`

	Connect struct {
		OK     int            `json:"ok"`
		Failed int            `json:"failed"`
		Secs   float64        `json:"secs"` // slowest shard, summed over stages
		Errors map[string]int `json:"errors,omitempty"`
	} `json:"connect"`

	Idle     []*idleFigures  `json:"idle,omitempty"` // one per stage (--checkpoints, then --n)
	Login    *loginFigures   `json:"login,omitempty"`
	Messages *messageFigures `json:"messages,omitempty"` // messages, presence, muc
	Steps    *stepFigures    `json:"steps,omitempty"`    // max-message-rate
	Prepared *prepFigures    `json:"prepared,omitempty"` // presence: roster items; muc: occupants
	Harness  *harnessFigures `json:"harness"`

	CSV      string   `json:"csv,omitempty"`
	Charts   []string `json:"charts,omitempty"`
	Profiles []string `json:"profiles,omitempty"`
}

// prepFigures is what the set-up phase of presence or muc achieved.
type prepFigures struct {
	What string  `json:"what"` // "roster items with subscription both", "room occupants"
	Got  int     `json:"got"`
	Want int     `json:"want"`
	Secs float64 `json:"secs"`
}

// idleFigures are one stage of an idle run: the sessions held at a checkpoint.
type idleFigures struct {
	Target      int     `json:"target"`
	Connected   int     `json:"connected"`
	Failed      int     `json:"failed"`
	ConnectSecs float64 `json:"connect_secs"` // this stage's ramp, slowest shard
	After       sample  `json:"after"`
	AfterGC     *sample `json:"after_gc,omitempty"`

	Alive int `json:"alive"` // last stage only: sessions that answered a ping at the end
	Dead  int `json:"dead"`

	RSSPerSession        float64 `json:"rss_per_session_bytes"`
	AnonPerSession       float64 `json:"rss_anon_per_session_bytes"`
	RSSPerSessionGC      float64 `json:"rss_per_session_after_gc_bytes,omitempty"`
	SockstatPerSession   float64 `json:"sockstat_mem_per_session_bytes"` // both loopback ends
	SlabPerSession       float64 `json:"slab_per_session_bytes"`         // both loopback ends
	ServerSkmemPerSock   float64 `json:"server_skmem_per_socket_bytes"`
	ServerSockets        int     `json:"server_sockets"`
	ConnectCPUPerLogin   float64 `json:"server_cpu_ms_per_login"` // whole run so far
	ServerRSSAfter       int64   `json:"server_rss_after_bytes"`
	ServerRSSBefore      int64   `json:"server_rss_before_bytes"`
	ServerFDsAfter       int     `json:"server_fds_after"`
	ServerThreadsAfter   int     `json:"server_threads_after"`
	ConnectRatePerSec    float64 `json:"connect_rate_per_sec"` // this stage's ramp
	HarnessRSSPerSession float64 `json:"harness_rss_per_session_bytes"`
	HarnessCPU           float64 `json:"harness_cpu_secs"`
	ServerCPU            float64 `json:"server_cpu_secs"`
}

type loginFigures struct {
	OK        int64            `json:"ok"`
	Failed    int64            `json:"failed"`
	Errors    map[string]int   `json:"errors,omitempty"`
	Secs      float64          `json:"secs"`
	PerSec    float64          `json:"per_sec"`
	ServerCPU float64          `json:"server_cpu_secs"`
	PerCPUSec float64          `json:"per_server_cpu_sec"`
	P50ms     float64          `json:"p50_ms"`
	P99ms     float64          `json:"p99_ms"`
	Latency   *stats.Histogram `json:"latency"`
}

type messageFigures struct {
	Sessions   int              `json:"sessions"`
	TargetRate float64          `json:"target_rate"`
	Window     float64          `json:"window_secs"`
	Sent       int64            `json:"sent"`
	Received   int64            `json:"received"`
	InWindow   int64            `json:"in_window"`
	WriteErrs  int64            `json:"write_errors"`
	Bounced    int64            `json:"bounced"`
	Foreign    int64            `json:"foreign"`
	Dropped    int64            `json:"dropped_sessions"`
	Self       int64            `json:"self"`
	Expected   int64            `json:"expected"`
	Late       int64            `json:"late"`
	Lost       int64            `json:"lost"`
	SentPerSec float64          `json:"sent_per_sec"`
	PerSec     float64          `json:"delivered_per_sec"`
	ServerCPU  float64          `json:"server_cpu_secs"`
	PerCPUSec  float64          `json:"delivered_per_server_cpu_sec"`
	CPUPerDlv  float64          `json:"server_cpu_us_per_delivered"`
	P50us      float64          `json:"p50_us"`
	P99us      float64          `json:"p99_us"`
	P999us     float64          `json:"p999_us"`
	MaxUs      float64          `json:"max_us"`
	Latency    *stats.Histogram `json:"latency"`
}

type harnessFigures struct {
	CPU    float64 `json:"cpu_secs"` // shards and driver, over the same window as the server's
	RSS    int64   `json:"rss_bytes"`
	Procs  int     `json:"procs"`
	Server float64 `json:"server_cpu_secs"`
}

// addReady records the shards' cumulative connection counts after a stage.
func (r *report) addReady(evs []event) {
	r.Connect.OK, r.Connect.Failed = 0, 0
	r.Connect.Errors = map[string]int{}
	for _, e := range evs {
		r.Connect.OK += e.Connected
		r.Connect.Failed += e.Failed
		for k, v := range e.Errors {
			r.Connect.Errors[k] += v
		}
	}
	r.Connect.Secs += r.stageSecs(evs)
}

// stageSecs returns the slowest shard's ramp time of one stage.
func (r *report) stageSecs(evs []event) float64 {
	var secs float64
	for _, e := range evs {
		secs = max(secs, e.ConnectSecs)
	}
	return secs
}

func (r *report) addVerified(evs []event) {
	last := r.Idle[len(r.Idle)-1]
	for _, e := range evs {
		last.Alive += e.Alive
		last.Dead += e.Dead
	}
}

func (r *report) addResults(evs []event) error {
	switch r.Scenario {
	case "login":
		f := &loginFigures{Errors: map[string]int{}, Latency: &stats.Histogram{}}
		for _, e := range evs {
			l := e.Login
			if l == nil {
				return fmt.Errorf("shard %d sent no login result", e.Shard)
			}
			f.OK += l.OK
			f.Failed += l.Failed
			f.Secs = max(f.Secs, l.Secs)
			for k, v := range l.Errors {
				f.Errors[k] += v
			}
			if l.Latency != nil {
				f.Latency.Merge(l.Latency)
			}
		}
		r.Login = f
	default:
		f, err := mergeMessages(evs)
		if err != nil {
			return err
		}
		r.Messages = f
	}
	return nil
}

// mergeMessages adds up the shards' results of one window.
func mergeMessages(evs []event) (*messageFigures, error) {
	f := &messageFigures{Latency: &stats.Histogram{}}
	for _, e := range evs {
		m := e.Messages
		if m == nil {
			return nil, fmt.Errorf("shard %d sent no message result", e.Shard)
		}
		f.Sessions += m.Sessions
		f.TargetRate += m.TargetRate
		f.Window = max(f.Window, m.SendSecs)
		f.Sent += m.Sent
		f.Received += m.Received
		f.InWindow += m.InWindow
		f.Self += m.Self
		f.Expected += m.Expected
		f.Late += m.Late
		f.WriteErrs += m.WriteErrs
		f.Bounced += m.Bounced
		f.Foreign += m.Foreign
		f.Dropped += m.Dropped
		if m.Latency != nil {
			f.Latency.Merge(m.Latency)
		}
	}
	return f, nil
}

// derive computes a window's rates, loss and percentiles; serverCPU in seconds.
func (f *messageFigures) derive(scenario string, serverCPU float64) {
	f.ServerCPU = serverCPU
	if scenario == "presence" || scenario == "muc" {
		f.Lost = max(0, f.Expected-f.Received)
	} else {
		f.Lost = max(0, f.Sent-f.Received-f.Bounced-f.WriteErrs)
	}
	if f.Window > 0 {
		f.PerSec = float64(f.InWindow) / f.Window
		f.SentPerSec = float64(f.Sent) / f.Window
	}
	if f.ServerCPU > 0 {
		f.PerCPUSec = float64(f.Received) / f.ServerCPU
	}
	if f.Received > 0 {
		f.CPUPerDlv = f.ServerCPU * 1e6 / float64(f.Received)
	}
	us := func(q float64) float64 { return float64(f.Latency.Quantile(q)) / 1e3 }
	f.P50us, f.P99us, f.P999us, f.MaxUs = us(0.5), us(0.99), us(0.999), float64(f.Latency.Max())/1e3
}

// finish derives the figures from the samples.
func (r *report) finish() {
	per := func(delta int64, n int) float64 {
		if n <= 0 {
			return 0
		}
		return float64(delta) / float64(n)
	}
	h := &harnessFigures{RSS: r.After.harnessRSS(), Procs: len(r.After.Harness)}
	r.Harness = h
	switch r.Scenario {
	case "idle":
		b := r.Before
		for _, f := range r.Idle {
			n, a := f.Connected, f.After
			f.RSSPerSession = per(a.Server.RSS-b.Server.RSS, n)
			f.AnonPerSession = per(a.Server.RSSAnon-b.Server.RSSAnon, n)
			if f.AfterGC != nil {
				f.RSSPerSessionGC = per(f.AfterGC.Server.RSS-b.Server.RSS, n)
			}
			f.SockstatPerSession = per(a.Sockstat.MemBytes()-b.Sockstat.MemBytes(), n)
			f.SlabPerSession = per(a.Slab.Bytes()-b.Slab.Bytes(), n)
			f.ServerSockets = a.Sockets.Sockets
			f.ServerSkmemPerSock = per(a.Sockets.Bytes, a.Sockets.Sockets)
			f.ConnectCPUPerLogin = per(int64(a.Server.CPU-b.Server.CPU), n) / 1e6
			f.ServerRSSAfter, f.ServerRSSBefore = a.Server.RSS, b.Server.RSS
			f.ServerFDsAfter, f.ServerThreadsAfter = a.Server.FDs, a.Server.Threads
			f.HarnessRSSPerSession = per(a.harnessRSS(), n)
			f.HarnessCPU = (a.harnessCPU() - b.harnessCPU()).Seconds()
			f.ServerCPU = (a.Server.CPU - b.Server.CPU).Seconds()
		}
		for k, f := range r.Idle {
			prev := 0
			if k > 0 {
				prev = r.Idle[k-1].Connected
			}
			if f.ConnectSecs > 0 {
				f.ConnectRatePerSec = float64(f.Connected-prev) / f.ConnectSecs
			}
		}
		last := r.Idle[len(r.Idle)-1]
		h.CPU, h.Server = last.HarnessCPU, last.ServerCPU
	case "login":
		f := r.Login
		f.ServerCPU = (r.After.Server.CPU - r.Start.Server.CPU).Seconds()
		if f.Secs > 0 {
			f.PerSec = float64(f.OK) / f.Secs
		}
		if f.ServerCPU > 0 {
			f.PerCPUSec = float64(f.OK) / f.ServerCPU
		}
		f.P50ms = float64(f.Latency.Quantile(0.5)) / 1e6
		f.P99ms = float64(f.Latency.Quantile(0.99)) / 1e6
		h.CPU = (r.After.harnessCPU() - r.Start.harnessCPU()).Seconds()
		h.Server = f.ServerCPU
	case "max-message-rate":
		h.CPU = (r.After.harnessCPU() - r.Start.harnessCPU()).Seconds()
		h.Server = (r.After.Server.CPU - r.Start.Server.CPU).Seconds()
	default:
		f := r.Messages
		f.derive(r.Scenario, (r.After.Server.CPU - r.Start.Server.CPU).Seconds())
		h.CPU = (r.After.harnessCPU() - r.Start.harnessCPU()).Seconds()
		h.Server = f.ServerCPU
	}
}

func kib(b float64) float64 { return b / 1024 }

func (r *report) print(w io.Writer) {
	tls := "plaintext"
	if r.StartTLS {
		tls = "STARTTLS"
	}
	fmt.Fprintf(w, "== %s %s: %s %s, %s, n=%d, shards=%d, %s\n", r.Label, r.Scenario, r.Server, tls, r.Mech, r.N, r.Shards, r.Started.Format(time.RFC3339))
	fmt.Fprintf(w, "   connected %d, failed %d, in %.1f s\n", r.Connect.OK, r.Connect.Failed, r.Connect.Secs)
	printErrors(w, r.Connect.Errors)
	switch r.Scenario {
	case "idle":
		for _, f := range r.Idle {
			fmt.Fprintf(w, "   -- %d sessions (target %d, %d failed), ramp %.0f/s\n", f.Connected, f.Target, f.Failed, f.ConnectRatePerSec)
			fmt.Fprintf(w, "   server RSS %.1f -> %.1f MiB: %.2f KiB per session (anon %.2f KiB)",
				float64(f.ServerRSSBefore)/(1<<20), float64(f.ServerRSSAfter)/(1<<20), kib(f.RSSPerSession), kib(f.AnonPerSession))
			if f.AfterGC != nil {
				fmt.Fprintf(w, "; after a forced GC %.2f KiB", kib(f.RSSPerSessionGC))
			}
			fmt.Fprintf(w, "\n   kernel per session (client and server ends): sockstat TCP mem %.2f KiB, slab tcp_sock+inode %.2f KiB\n",
				kib(f.SockstatPerSession), kib(f.SlabPerSession))
			fmt.Fprintf(w, "   server sockets: %d, skmem %.0f B each; server fds %d, threads %d\n",
				f.ServerSockets, f.ServerSkmemPerSock, f.ServerFDsAfter, f.ServerThreadsAfter)
			fmt.Fprintf(w, "   server CPU %.2f s for the logins so far (%.3f ms each); harness CPU %.2f s, RSS %.0f MiB\n",
				f.ServerCPU, f.ConnectCPUPerLogin, f.HarnessCPU, f.HarnessRSSPerSession*float64(f.Connected)/(1<<20))
		}
		last := r.Idle[len(r.Idle)-1]
		fmt.Fprintf(w, "   alive at the end %d, dead %d\n", last.Alive, last.Dead)
	case "login":
		f := r.Login
		fmt.Fprintf(w, "   logins %d ok, %d failed in %.1f s: %.0f/s; server CPU %.2f s: %.0f logins per CPU-second\n",
			f.OK, f.Failed, f.Secs, f.PerSec, f.ServerCPU, f.PerCPUSec)
		fmt.Fprintf(w, "   cycle latency p50 %.2f ms, p99 %.2f ms; harness CPU %.2f s\n", f.P50ms, f.P99ms, r.Harness.CPU)
		printErrors(w, f.Errors)
	case "max-message-rate":
		r.Steps.print(w)
		fmt.Fprintf(w, "   server CPU %.2f s, harness CPU %.2f s over all steps\n", r.Harness.Server, r.Harness.CPU)
	default:
		if p := r.Prepared; p != nil {
			fmt.Fprintf(w, "   set-up: %d of %d %s in %.1f s\n", p.Got, p.Want, p.What, p.Secs)
		}
		r.Messages.print(w, r.Scenario)
		fmt.Fprintf(w, "   harness CPU %.2f s\n", r.Harness.CPU)
	}
	if r.CSV != "" {
		fmt.Fprintf(w, "   time series %s; charts %v\n", r.CSV, r.Charts)
	}
	if len(r.Profiles) > 0 {
		fmt.Fprintf(w, "   profiles %v\n", r.Profiles)
	}
}

func (f *messageFigures) print(w io.Writer, scenario string) {
	what := map[string]string{"messages": "messages", "presence": "presence changes", "muc": "groupchat messages"}[scenario]
	mode := "closed loop"
	if f.TargetRate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s", f.TargetRate)
	}
	fmt.Fprintf(w, "   %d sessions, %s, window %.1f s: sent %d %s (%.0f/s), delivered %d in the window (%.0f/s), %d in all\n",
		f.Sessions, mode, f.Window, f.Sent, what, f.SentPerSec, f.InWindow, f.PerSec, f.Received)
	if scenario != "messages" {
		fmt.Fprintf(w, "   fan-out: expected %d deliveries to others (%.1f per stanza sent), got %d; the sender's own copies %d\n",
			f.Expected, float64(f.Expected)/float64(max(f.Sent, 1)), f.Received, f.Self)
	}
	fmt.Fprintf(w, "   lost %d, bounced %d, write errors %d, foreign %d, late %d, dropped sessions %d\n", f.Lost, f.Bounced, f.WriteErrs, f.Foreign, f.Late, f.Dropped)
	fmt.Fprintf(w, "   server CPU %.2f s: %.0f delivered per CPU-second (%.1f µs CPU per delivered stanza)\n", f.ServerCPU, f.PerCPUSec, f.CPUPerDlv)
	fmt.Fprintf(w, "   latency p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs, max %.0f µs\n", f.P50us, f.P99us, f.P999us, f.MaxUs)
}

func printErrors(w io.Writer, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	for _, k := range keys {
		fmt.Fprintf(w, "   error x%d: %s\n", m[k], k)
	}
}

func (r *report) appendJSON(path string) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("--json: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}
