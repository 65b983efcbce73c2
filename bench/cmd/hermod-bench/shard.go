package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/bench/client"
)

// event is one line a shard writes to the driver.
type event struct {
	Ev    string `json:"ev"` // ready, verified, result, error
	Shard int    `json:"shard"`
	PID   int    `json:"pid"`
	// ready
	Connected   int            `json:"connected,omitempty"`
	Failed      int            `json:"failed,omitempty"`
	Errors      map[string]int `json:"errors,omitempty"`
	ConnectSecs float64        `json:"connect_secs,omitempty"`
	// verified
	Alive int `json:"alive,omitempty"`
	Dead  int `json:"dead,omitempty"`
	// result
	Login    *loginResult   `json:"login,omitempty"`
	Messages *messageResult `json:"messages,omitempty"`
	// provisioned (presence), joined (muc)
	Items int `json:"items,omitempty"`
	Want  int `json:"want,omitempty"`
	// tick
	Tick *tickData `json:"tick,omitempty"`
	// error
	Message string `json:"message,omitempty"`
}

// Commands the driver writes to a shard, one per line.
const (
	cmdGo     = "go"
	cmdVerify = "verify"
	cmdNext   = "next"
	cmdStop   = "stop"
	cmdStep   = "step" // max-message-rate: "step RATE NS", RATE the total over all shards, NS the window
)

// shard is the state of one shard process.
type shard struct {
	cfg  *config
	out  *json.Encoder
	outM sync.Mutex
	cmds <-chan string
	live live
}

func (s *shard) emit(e event) error {
	e.Shard, e.PID = s.cfg.shard, os.Getpid()
	s.outM.Lock()
	defer s.outM.Unlock()
	if err := s.out.Encode(e); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// await waits for the driver's command want.
func (s *shard) await(ctx context.Context, want string) error {
	select {
	case c, ok := <-s.cmds:
		if !ok {
			return errors.New("driver closed the command stream")
		}
		if c != want {
			return fmt.Errorf("driver sent %q, expected %q", c, want)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %q: %w", want, ctx.Err())
	}
}

// next waits for the driver's next command, whatever it is.
func (s *shard) next(ctx context.Context) (string, error) {
	select {
	case c, ok := <-s.cmds:
		if !ok {
			return "", errors.New("driver closed the command stream")
		}
		return c, nil
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for a command: %w", ctx.Err())
	}
}

// runShard runs one shard: it reads commands from in and writes events to out.
func runShard(ctx context.Context, cfg *config, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	cmds := make(chan string, 4)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			cmds <- sc.Text()
		}
	}()
	s := &shard{cfg: cfg, out: json.NewEncoder(out), cmds: cmds}
	tctx, stopTicks := context.WithCancel(ctx)
	defer stopTicks()
	go s.runTicks(tctx, cfg.interval)
	var err error
	switch cfg.scenario {
	case "idle":
		err = s.idle(ctx)
	case "login":
		err = s.login(ctx)
	case "messages":
		err = s.messages(ctx)
	case "max-message-rate":
		err = s.steps(ctx)
	case "presence":
		err = s.presence(ctx)
	case "muc":
		err = s.muc(ctx)
	}
	if err != nil {
		_ = s.emit(event{Ev: "error", Message: err.Error()})
	}
	return err
}

// errorCounts tallies login errors by message with addresses blanked out, keeping the
// first maxKinds kinds.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int
}

const maxKinds = 20

var addrPattern = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

func (e *errorCounts) add(err error) {
	msg := addrPattern.ReplaceAllString(err.Error(), "ADDR")
	if len(msg) > 300 {
		msg = msg[:300]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]int{}
	}
	if _, ok := e.m[msg]; ok || len(e.m) < maxKinds {
		e.m[msg]++
	} else {
		e.m["(other)"]++
	}
}

func (e *errorCounts) snapshot() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// source returns the local address of the i-th connection of this shard.
func (c *config) source(i int) net.IP {
	if len(c.sources) == 0 {
		return nil
	}
	return c.sources[(c.shard+i)%len(c.sources)]
}

// ramp logs in accounts lo..hi-1 at rate per second with at most conc logins in
// flight, adding failures to errs. conns[i] is the session of account lo+i, nil if
// its login failed.
func (s *shard) ramp(ctx context.Context, o *client.Options, lo, hi int, rate float64, conc int, errs *errorCounts) ([]*client.Conn, int, time.Duration) {
	conns := make([]*client.Conn, hi-lo)
	var failed atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c, err := s.cfg.login(ctx, o, s.cfg.source(i), s.cfg.user(lo+i))
				if err != nil {
					failed.Add(1)
					errs.add(err)
					s.live.errs.Add(1)
					continue
				}
				s.live.logins.Add(1)
				s.live.online.Add(1)
				c.Compact()
				conns[i] = c
			}
		}()
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := range conns {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return conns, int(failed.Load()), time.Since(start)
}

// compactConns drops the nil entries of failed logins.
func compactConns(conns []*client.Conn) []*client.Conn {
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func abortAll(conns []*client.Conn) {
	for _, c := range conns {
		c.Abort()
	}
}

// idle holds sessions, stage by stage, until the driver has sampled the server, then
// proves them alive.
func (s *shard) idle(ctx context.Context) error {
	lo, _ := s.cfg.span(s.cfg.shard, s.cfg.n)
	var conns []*client.Conn
	defer func() { abortAll(conns) }()
	errs := &errorCounts{}
	held, failed := 0, 0
	for k, target := range s.cfg.stages() {
		if k > 0 {
			if err := s.await(ctx, cmdNext); err != nil {
				return err
			}
		}
		want := s.cfg.share(s.cfg.shard, target)
		got, f, took := s.ramp(ctx, s.cfg.options(true), lo+held, lo+want, s.cfg.rate/float64(s.cfg.shards), s.cfg.rampConc, errs)
		held, failed = want, failed+f
		conns = append(conns, compactConns(got)...)
		if err := s.emit(event{Ev: "ready", Connected: len(conns), Failed: failed, Errors: errs.snapshot(), ConnectSecs: took.Seconds()}); err != nil {
			return err
		}
	}
	if err := s.await(ctx, cmdVerify); err != nil {
		return err
	}
	var alive, dead atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				if err := conns[i].Ping(10 * time.Second); err != nil {
					dead.Add(1)
					continue
				}
				alive.Add(1)
			}
		}()
	}
	wg.Wait()
	if err := s.emit(event{Ev: "verified", Alive: int(alive.Load()), Dead: int(dead.Load())}); err != nil {
		return err
	}
	return s.await(ctx, cmdStop)
}
