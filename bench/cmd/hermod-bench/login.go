package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/bench/client"
	"github.com/hermod-im/hermod/bench/stats"
)

// loginResult is one shard's login figures.
type loginResult struct {
	OK      int64            `json:"ok"`
	Failed  int64            `json:"failed"`
	Errors  map[string]int   `json:"errors,omitempty"`
	Secs    float64          `json:"secs"`
	Latency *stats.Histogram `json:"latency"` // one whole cycle: connect to closed
}

// login runs connect-authenticate-bind-close cycles. Before it reports ready it logs
// every account of the shard in once, so that SCRAM keys are cached on both sides and
// the measured window holds no client-side PBKDF2.
func (s *shard) login(ctx context.Context) error {
	lo, hi := s.cfg.span(s.cfg.shard, s.cfg.loginUsers)
	o := s.cfg.options(false)
	errs := &errorCounts{}
	warm, failed, took := s.ramp(ctx, o, lo, hi, 1e9, s.cfg.concurrency, errs)
	warm = compactConns(warm)
	ok := len(warm)
	s.live.online.Store(0)
	closeAll(warm, s.cfg.closeWait, s.cfg.concurrency)
	if err := s.emit(event{Ev: "ready", Connected: ok, Failed: failed, Errors: errs.snapshot(), ConnectSecs: took.Seconds()}); err != nil {
		return err
	}
	if err := s.await(ctx, cmdGo); err != nil {
		return err
	}
	users := hi - lo
	var next, okN, failN atomic.Int64
	cycleErrs := &errorCounts{}
	hists := make([]stats.Histogram, s.cfg.concurrency)
	start := time.Now()
	end := start.Add(s.cfg.duration)
	var wg sync.WaitGroup
	for w := 0; w < s.cfg.concurrency; w++ {
		wg.Add(1)
		go func(h *stats.Histogram) {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				i := int(next.Add(1)-1) % users
				t0 := time.Now()
				c, err := s.cfg.login(ctx, o, s.cfg.source(i), s.cfg.user(lo+i))
				if err == nil {
					err = c.Close(s.cfg.closeWait)
				}
				if err != nil {
					failN.Add(1)
					cycleErrs.add(err)
					s.live.errs.Add(1)
					continue
				}
				s.live.logins.Add(1)
				h.RecordDuration(time.Since(t0))
				okN.Add(1)
			}
		}(&hists[w])
	}
	wg.Wait()
	res := &loginResult{OK: okN.Load(), Failed: failN.Load(), Errors: cycleErrs.snapshot(),
		Secs: time.Since(start).Seconds(), Latency: &stats.Histogram{}}
	for i := range hists {
		res.Latency.Merge(&hists[i])
	}
	if err := s.emit(event{Ev: "result", Login: res}); err != nil {
		return err
	}
	return s.await(ctx, cmdStop)
}

// closeAll closes conns politely, conc at a time: a server may take its time to close
// a stream (ejabberd waits 100 ms), and one after the other that adds up.
func closeAll(conns []*client.Conn, wait time.Duration, conc int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				_ = conns[i].Close(wait)
			}
		}()
	}
	wg.Wait()
}
