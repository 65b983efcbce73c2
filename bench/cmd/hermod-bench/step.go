package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// The max-message-rate scenario: the messages scenario's open loop, in steps. Each
// step sends at a total rate for --step-duration, waits for the stragglers (--drain)
// and is judged: it is sustained when its p99 latency is within --p99-bound, it lost
// at most --loss-bound of its messages, and the generator kept to the schedule
// (at least 95% of the messages due were sent: otherwise the server pushed back
// through TCP). The first step that is not sustained ends the run; the result is the
// highest sustained rate.

// stepFigures is the result of a max-message-rate run.
type stepFigures struct {
	P99BoundUs     float64       `json:"p99_bound_us"`
	LossBound      float64       `json:"loss_bound"`
	Steps          []*stepFigure `json:"steps"`
	MaxSustained   float64       `json:"max_sustained_rate"`      // target rate of the last sustained step
	MaxDelivered   float64       `json:"max_sustained_delivered"` // its delivered/s
	StoppedBecause string        `json:"stopped_because"`
}

// stepFigure is one step: its window's figures and the verdict.
type stepFigure struct {
	Rate      float64         `json:"rate"`
	Figures   *messageFigures `json:"figures"`
	Sustained bool            `json:"sustained"`
	Why       string          `json:"why,omitempty"` // why not
}

// judge returns why a step is not sustained, or "".
func (c *config) judge(f *messageFigures, rate float64) string {
	var why []string
	if f.Received == 0 {
		why = append(why, "nothing delivered")
	}
	if p99 := f.P99us; p99 > float64(c.p99Bound.Microseconds()) {
		why = append(why, fmt.Sprintf("p99 %.0f µs > %v", p99, c.p99Bound))
	}
	if f.Sent > 0 {
		if loss := float64(f.Lost) / float64(f.Sent); loss > c.lossBound {
			why = append(why, fmt.Sprintf("lost %d of %d (%.3g%% > %.3g%%)", f.Lost, f.Sent, 100*loss, 100*c.lossBound))
		}
	}
	if due := rate * c.stepDuration.Seconds(); float64(f.Sent) < 0.95*due {
		why = append(why, fmt.Sprintf("sent %d of %.0f due: the server pushed back", f.Sent, due))
	}
	if f.Dropped > 0 {
		why = append(why, fmt.Sprintf("%d sessions dropped", f.Dropped))
	}
	return strings.Join(why, "; ")
}

// steps drives the step loop and writes the per-step CSV beside the time series.
func (d *driver) steps(ctx context.Context, rep *report, prof *profiler, csvPath string) error {
	cfg := d.cfg
	sf := &stepFigures{P99BoundUs: float64(cfg.p99Bound.Microseconds()), LossBound: cfg.lossBound}
	rep.Steps = sf
	if cfg.warmup > 0 {
		d.series.setPhase("warmup", cfg.stepStart)
		if err := d.broadcast(stepCommand(cfg.stepStart, cfg.warmup)); err != nil {
			return err
		}
		results, err := d.collect(ctx, "result")
		if err != nil {
			return err
		}
		if f, err := mergeMessages(results); err == nil {
			f.derive("messages", 0)
			fmt.Fprintf(os.Stderr, "hermod-bench: warm-up at %.0f/s for %v: delivered %.0f/s, p99 %.0f µs, lost %d (not judged)\n",
				cfg.stepStart, cfg.warmup, f.PerSec, f.P99us, f.Lost)
		}
	}
	var err error
	if rep.Start, err = d.sample(); err != nil {
		return err
	}
	if prof != nil {
		prof.start(ctx, time.Duration(cfg.maxSteps)*cfg.stepDuration)
	}
	rate := cfg.stepStart
	for k := 0; k < cfg.maxSteps; k++ {
		before, err := d.sample()
		if err != nil {
			return err
		}
		d.series.setPhase("step-"+strconv.Itoa(k+1), rate)
		if err := d.broadcast(stepCommand(rate, cfg.stepDuration)); err != nil {
			return err
		}
		results, err := d.collect(ctx, "result")
		if err != nil {
			return err
		}
		after, err := d.sample()
		if err != nil {
			return err
		}
		f, err := mergeMessages(results)
		if err != nil {
			return err
		}
		f.derive("messages", (after.Server.CPU - before.Server.CPU).Seconds())
		st := &stepFigure{Rate: rate, Figures: f}
		st.Why = cfg.judge(f, rate)
		st.Sustained = st.Why == ""
		sf.Steps = append(sf.Steps, st)
		verdict := "sustained"
		if !st.Sustained {
			verdict = "NOT sustained: " + st.Why
		}
		fmt.Fprintf(os.Stderr, "hermod-bench: step %d at %.0f/s: delivered %.0f/s, p99 %.0f µs, lost %d: %s\n",
			k+1, rate, f.PerSec, f.P99us, f.Lost, verdict)
		if !st.Sustained {
			sf.StoppedBecause = fmt.Sprintf("step %d at %.0f/s: %s", k+1, rate, st.Why)
			break
		}
		sf.MaxSustained, sf.MaxDelivered = rate, f.PerSec
		if cfg.stepBy == 0 {
			sf.StoppedBecause = "--step 0: one rate only"
			break
		}
		rate += cfg.stepBy
	}
	if sf.StoppedBecause == "" {
		sf.StoppedBecause = fmt.Sprintf("--max-steps %d reached", cfg.maxSteps)
	}
	if rep.After, err = d.sample(); err != nil {
		return err
	}
	if csvPath != "" {
		return writeCSV(stepsCSVPath(csvPath), stepsHeader, sf.records())
	}
	return nil
}

// stepCommand tells the shards to send at rate (over all shards) for d.
func stepCommand(rate float64, d time.Duration) string {
	return cmdStep + " " + strconv.FormatFloat(rate, 'f', -1, 64) + " " + strconv.FormatInt(int64(d), 10)
}

// parseStep reads a stepCommand.
func parseStep(cmd string) (rate float64, d time.Duration, err error) {
	f := strings.Fields(cmd)
	if len(f) != 3 || f[0] != cmdStep {
		return 0, 0, fmt.Errorf("driver sent %q, expected %q or %q", cmd, "step RATE NS", cmdStop)
	}
	rate, err1 := strconv.ParseFloat(f[1], 64)
	ns, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || rate <= 0 || ns <= 0 {
		return 0, 0, fmt.Errorf("driver sent %q: bad rate or duration", cmd)
	}
	return rate, time.Duration(ns), nil
}

// stepsCSVPath is the per-step CSV beside the time series.
func stepsCSVPath(csvPath string) string { return strings.TrimSuffix(csvPath, ".csv") + "-steps.csv" }

var stepsHeader = []string{"step", "target_rate", "sent_per_s", "delivered_per_s", "p50_us", "p99_us", "p999_us", "max_us",
	"sent", "received", "lost", "bounced", "server_cpu_s", "delivered_per_server_cpu_s", "sustained", "why"}

func (sf *stepFigures) records() [][]string {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	out := make([][]string, 0, len(sf.Steps))
	for k, st := range sf.Steps {
		m := st.Figures
		out = append(out, []string{strconv.Itoa(k + 1), f(st.Rate, 0), f(m.SentPerSec, 1), f(m.PerSec, 1), f(m.P50us, 1), f(m.P99us, 1),
			f(m.P999us, 1), f(m.MaxUs, 1), strconv.FormatInt(m.Sent, 10), strconv.FormatInt(m.Received, 10), strconv.FormatInt(m.Lost, 10),
			strconv.FormatInt(m.Bounced, 10), f(m.ServerCPU, 3), f(m.PerCPUSec, 0), strconv.FormatBool(st.Sustained), st.Why})
	}
	return out
}

func (sf *stepFigures) print(w io.Writer) {
	fmt.Fprintf(w, "   %-5s %10s %12s %12s %10s %10s %8s %12s  %s\n", "step", "target/s", "sent/s", "delivered/s", "p50 µs", "p99 µs", "lost", "dlv/CPU-s", "verdict")
	for k, st := range sf.Steps {
		m := st.Figures
		v := "ok"
		if !st.Sustained {
			v = st.Why
		}
		fmt.Fprintf(w, "   %-5d %10.0f %12.0f %12.0f %10.0f %10.0f %8d %12.0f  %s\n", k+1, st.Rate, m.SentPerSec, m.PerSec, m.P50us, m.P99us, m.Lost, m.PerCPUSec, v)
	}
	fmt.Fprintf(w, "   highest sustained rate: %.0f/s (delivered %.0f/s) with p99 <= %.0f µs and loss <= %.3g%%; stopped: %s\n",
		sf.MaxSustained, sf.MaxDelivered, sf.P99BoundUs, 100*sf.LossBound, sf.StoppedBecause)
}

// steps is the shard side: log in, then one window per "step RATE" until "stop".
func (s *shard) steps(ctx context.Context) error {
	m := &msgRun{shard: s}
	m.build = m.buildChat
	failed, errs, took := s.loginAll(ctx, m)
	defer func() {
		m.stopping.Store(true)
		abortAll(m.conns)
	}()
	m.startReaders()
	if err := s.emit(event{Ev: "ready", Connected: len(m.conns), Failed: failed, Errors: errs.snapshot(), ConnectSecs: took.Seconds()}); err != nil {
		return err
	}
	for {
		cmd, err := s.next(ctx)
		if err != nil {
			return err
		}
		if cmd == cmdStop {
			return nil
		}
		rate, dur, err := parseStep(cmd)
		if err != nil {
			return err
		}
		res := m.measure(ctx, rate/float64(s.cfg.shards), dur)
		if err := s.emit(event{Ev: "result", Messages: res}); err != nil {
			return err
		}
	}
}
