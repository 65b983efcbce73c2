package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hermod-im/hermod/bench/procstat"
)

// child is one shard process as the driver sees it.
type child struct {
	i     int
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// shardEvent is an event with the shard it came from, or the end of its output.
type shardEvent struct {
	shard int
	ev    event
	err   error // the shard's output ended (err is io.EOF) or was not JSON
}

// sample is what the driver measures at one instant.
type sample struct {
	At       time.Time          `json:"at"`
	Server   procstat.Proc      `json:"server"`
	Sockstat procstat.Sockstat  `json:"sockstat"`
	Slab     procstat.Slab      `json:"slab"`
	Sockets  procstat.SocketMem `json:"server_sockets"`
	Harness  []procstat.Proc    `json:"harness"` // shard processes, then the driver
}

func (s sample) harnessCPU() time.Duration {
	var d time.Duration
	for _, p := range s.Harness {
		d += p.CPU
	}
	return d
}

func (s sample) harnessRSS() int64 {
	var n int64
	for _, p := range s.Harness {
		n += p.RSS
	}
	return n
}

// driver runs a benchmark: shards, samples, report.
type driver struct {
	cfg      *config
	pid      int
	port     int
	mu       sync.Mutex // children, for the sampler goroutine
	children []*child
	events   chan shardEvent
	series   *series
}

func drive(ctx context.Context, cfg *config, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	d := &driver{cfg: cfg, pid: cfg.serverPID, events: make(chan shardEvent, 16*cfg.shards), series: newSeries(cfg.shards)}
	if cfg.serverPIDFile != "" {
		b, err := os.ReadFile(cfg.serverPIDFile)
		if err != nil {
			return fmt.Errorf("--server-pidfile: %w", err)
		}
		if d.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return fmt.Errorf("--server-pidfile %s: %w", cfg.serverPIDFile, err)
		}
	}
	if d.pid <= 0 {
		return errors.New("--server-pid or --server-pidfile is required: the harness reports the server's memory and CPU")
	}
	_, port, _ := net.SplitHostPort(cfg.server)
	d.port, _ = strconv.Atoi(port)
	csvPath := cfg.resultCSV(time.Now())
	lim, err := readLimits()
	if err != nil {
		return err
	}
	if err := lim.check(cfg); err != nil {
		return err
	}

	before, err := d.sample()
	if err != nil {
		return err
	}
	if err := d.start(ctx, args); err != nil {
		return err
	}
	defer d.kill()
	sctx, stopSampler := context.WithCancel(ctx)
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		var w io.Writer
		if cfg.progress {
			w = os.Stderr
		}
		d.runSampler(sctx, cfg.interval, w)
	}()
	seriesWritten := false
	defer func() {
		stopSampler()
		<-samplerDone
		if !seriesWritten && csvPath != "" && len(d.series.snapshot()) > 0 {
			// The run failed: keep what was sampled, it shows where.
			if err := writeCSV(csvPath, csvHeader, seriesRecords(d.series.snapshot())); err == nil {
				fmt.Fprintf(os.Stderr, "hermod-bench: the time series up to the failure is in %s\n", csvPath)
			}
		}
	}()
	rep := &report{Label: cfg.label, Scenario: cfg.scenario, Server: cfg.server, ServerPID: d.pid, StartTLS: cfg.startTLS,
		Mech: string(cfg.mech), N: cfg.n, Shards: cfg.shards, Started: before.At, Before: before}
	ready, err := d.collect(ctx, "ready")
	if err != nil {
		return err
	}
	rep.addReady(ready)
	fmt.Fprintf(os.Stderr, "hermod-bench: %d shards ready: %d connected, %d failed in %.1f s\n",
		cfg.shards, rep.Connect.OK, rep.Connect.Failed, rep.Connect.Secs)
	var prof *profiler
	if cfg.profileURL != "" {
		prof = newProfiler(cfg.profileURL, profilePrefix(csvPath, cfg, before.At), cfg.profileSecs)
	}

	switch cfg.scenario {
	case "idle":
		if err := d.idle(ctx, rep, ready, prof); err != nil {
			return err
		}
	case "max-message-rate":
		if err := d.steps(ctx, rep, prof, csvPath); err != nil {
			return err
		}
	default:
		if err := d.prepare(ctx, rep); err != nil {
			return err
		}
		if rep.Start, err = d.sample(); err != nil {
			return err
		}
		d.series.setPhase("run", cfg.msgRate)
		if prof != nil {
			prof.start(ctx, cfg.duration)
		}
		if err := d.broadcast(cmdGo); err != nil {
			return err
		}
		results, err := d.collect(ctx, "result")
		if err != nil {
			return err
		}
		if rep.After, err = d.sample(); err != nil {
			return err
		}
		if err := rep.addResults(results); err != nil {
			return err
		}
	}
	d.series.setPhase("end", 0)
	if prof != nil {
		if err := prof.finish(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "hermod-bench: %v\n", err)
		}
		rep.Profiles = prof.files
	}
	if err := d.broadcast(cmdStop); err != nil {
		return err
	}
	if err := d.wait(ctx); err != nil {
		return err
	}
	stopSampler()
	<-samplerDone
	if csvPath != "" {
		seriesWritten = true
		if err := writeCSV(csvPath, csvHeader, seriesRecords(d.series.snapshot())); err != nil {
			return err
		}
		rep.CSV = csvPath
		charts, err := plotCSV(csvPath, strings.TrimSpace(cfg.label+" "+cfg.scenario))
		if err != nil {
			fmt.Fprintf(os.Stderr, "hermod-bench: charts: %v\n", err)
		}
		rep.Charts = charts
	}
	rep.finish()
	rep.print(os.Stdout)
	if cfg.jsonOut != "" {
		if err := rep.appendJSON(cfg.jsonOut); err != nil {
			return err
		}
	}
	return nil
}

// idle holds the sessions stage by stage, samples each stage, then has the shards
// prove every session alive.
func (d *driver) idle(ctx context.Context, rep *report, ready []event, prof *profiler) error {
	cfg := d.cfg
	var err error
	for k, target := range cfg.stages() {
		if k > 0 {
			d.series.setPhase("ramp", 0)
			if err := d.broadcast(cmdNext); err != nil {
				return err
			}
			if ready, err = d.collect(ctx, "ready"); err != nil {
				return err
			}
			rep.addReady(ready)
			fmt.Fprintf(os.Stderr, "hermod-bench: stage %d ready: %d connected, %d failed\n", k, rep.Connect.OK, rep.Connect.Failed)
		}
		d.series.setPhase("hold", 0)
		if prof != nil && k == len(cfg.stages())-1 {
			prof.start(ctx, cfg.settle)
		}
		st := &idleFigures{Target: target, Connected: rep.Connect.OK, Failed: rep.Connect.Failed, ConnectSecs: rep.stageSecs(ready)}
		if err := sleep(ctx, cfg.settle); err != nil {
			return err
		}
		if st.After, err = d.sample(); err != nil {
			return err
		}
		if cfg.gcURL != "" {
			if err := get(ctx, cfg.gcURL); err != nil {
				return err
			}
			s, err := d.sample()
			if err != nil {
				return err
			}
			st.AfterGC = &s
		}
		rep.Idle = append(rep.Idle, st)
	}
	d.series.setPhase("verify", 0)
	if err := d.broadcast(cmdVerify); err != nil {
		return err
	}
	verified, err := d.collect(ctx, "verified")
	if err != nil {
		return err
	}
	rep.addVerified(verified)
	rep.After = rep.Idle[len(rep.Idle)-1].After
	return nil
}

// prepare runs the set-up phases of a scenario between login and "go": roster
// provisioning (presence), room joins (muc).
func (d *driver) prepare(ctx context.Context, rep *report) error {
	switch d.cfg.scenario {
	case "presence":
		return d.provisionRosters(ctx, rep)
	case "muc":
		return d.joinRooms(ctx, rep)
	}
	return nil
}

// resultCSV returns the time-series CSV path of a run starting at t ("" for none).
func (c *config) resultCSV(t time.Time) string {
	switch c.csvPath {
	case "none", "":
		return ""
	case "auto":
		name := c.label
		if name == "" {
			name = c.scenario
		}
		name = strings.Map(func(r rune) rune {
			if r == '/' || r == ' ' {
				return '_'
			}
			return r
		}, name)
		return fmt.Sprintf("hermod-bench-%s-%s.csv", name, t.UTC().Format("20060102T150405Z"))
	}
	return c.csvPath
}

// profilePrefix is where profiles go: beside the CSV, or in the working directory.
func profilePrefix(csvPath string, c *config, t time.Time) string {
	if csvPath != "" {
		return strings.TrimSuffix(csvPath, ".csv")
	}
	return strings.TrimSuffix(c.resultCSVForced(t), ".csv")
}

func (c *config) resultCSVForced(t time.Time) string {
	cc := *c
	cc.csvPath = "auto"
	return cc.resultCSV(t)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("--gc-url: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("--gc-url: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("--gc-url: %s", resp.Status)
	}
	return nil
}

// start launches the shard processes with the driver's own arguments.
func (d *driver) start(ctx context.Context, args []string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	for i := 0; i < d.cfg.shards; i++ {
		cmd := exec.CommandContext(ctx, self, append(append([]string{"shard"}, args...), "--shard", fmt.Sprintf("%d/%d", i, d.cfg.shards))...)
		cmd.Stderr = os.Stderr
		cmd.WaitDelay = 5 * time.Second
		in, err := cmd.StdinPipe()
		if err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start shard %d: %w", i, err)
		}
		d.mu.Lock()
		d.children = append(d.children, &child{i: i, cmd: cmd, stdin: in})
		d.mu.Unlock()
		go func(i int, out io.Reader) {
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
			for sc.Scan() {
				var e event
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					d.events <- shardEvent{shard: i, err: fmt.Errorf("shard %d wrote %q: %w", i, sc.Bytes(), err)}
					return
				}
				if e.Ev == "tick" {
					if e.Tick != nil {
						d.series.add(i, e.Tick)
					}
					continue
				}
				d.events <- shardEvent{shard: i, ev: e}
			}
			d.events <- shardEvent{shard: i, err: io.EOF}
		}(i, out)
	}
	return nil
}

// collect waits for event kind from every shard.
func (d *driver) collect(ctx context.Context, kind string) ([]event, error) {
	got := make([]event, d.cfg.shards)
	seen := 0
	for seen < d.cfg.shards {
		select {
		case e := <-d.events:
			switch {
			case e.err != nil && errors.Is(e.err, io.EOF):
				return nil, fmt.Errorf("shard %d exited while the driver waited for %q", e.shard, kind)
			case e.err != nil:
				return nil, e.err
			case e.ev.Ev == "error":
				return nil, fmt.Errorf("shard %d: %s", e.shard, e.ev.Message)
			case e.ev.Ev != kind:
				return nil, fmt.Errorf("shard %d sent %q while the driver waited for %q", e.shard, e.ev.Ev, kind)
			}
			got[e.shard] = e.ev
			seen++
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q from the shards: %w", kind, ctx.Err())
		}
	}
	return got, nil
}

func (d *driver) broadcast(cmd string) error {
	for _, c := range d.children {
		if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
			return fmt.Errorf("shard %d: send %q: %w", c.i, cmd, err)
		}
	}
	return nil
}

// wait waits for every shard to exit after "stop".
func (d *driver) wait(ctx context.Context) error {
	var errs []error
	for _, c := range d.children {
		_ = c.stdin.Close()
		if err := c.cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("shard %d: %w", c.i, err))
		}
	}
	d.mu.Lock()
	d.children = nil
	d.mu.Unlock()
	return errors.Join(errs...)
}

// kill ends shards still running (after an error).
func (d *driver) kill() {
	for _, c := range d.children {
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	}
}

func (d *driver) sample() (sample, error) {
	s := sample{At: time.Now()}
	var err error
	if s.Server, err = procstat.ReadProc(d.pid); err != nil {
		return s, fmt.Errorf("sample server: %w", err)
	}
	if s.Sockstat, err = procstat.ReadSockstat(); err != nil {
		return s, err
	}
	if s.Slab, err = procstat.ReadSlab(); err != nil {
		return s, err
	}
	if s.Sockets, err = procstat.ReadSocketMem(d.port); err != nil {
		return s, err
	}
	s.Harness = d.harnessProcs()
	return s, nil
}

// harnessProcs samples the shard processes, then the driver. Any goroutine may call it.
func (d *driver) harnessProcs() []procstat.Proc {
	d.mu.Lock()
	pids := make([]int, 0, len(d.children)+1)
	for _, c := range d.children {
		pids = append(pids, c.cmd.Process.Pid)
	}
	d.mu.Unlock()
	pids = append(pids, os.Getpid())
	var out []procstat.Proc
	for _, pid := range pids {
		if p, err := procstat.ReadProc(pid); err == nil {
			out = append(out, p)
		}
	}
	return out
}
