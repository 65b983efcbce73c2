package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/bench/client"
	"github.com/hermod-im/hermod/bench/stats"
)

// messageResult is one shard's message figures.
type messageResult struct {
	Sessions   int              `json:"sessions"`
	TargetRate float64          `json:"target_rate"` // this shard's, 0 in the closed loop
	Sent       int64            `json:"sent"`
	WriteErrs  int64            `json:"write_errors"`
	Received   int64            `json:"received"`  // by the end of the drain
	InWindow   int64            `json:"in_window"` // received before the window closed
	Bounced    int64            `json:"bounced"`   // type='error' messages
	Foreign    int64            `json:"foreign"`   // messages without our body format
	Dropped    int64            `json:"dropped"`   // sessions whose stream ended
	SendSecs   float64          `json:"send_secs"`
	Latency    *stats.Histogram `json:"latency"`
}

// histShards spreads latency recording over several locks.
const histShards = 16

// msgRun is the state shared by a shard's senders and readers.
type msgRun struct {
	conns    []*client.Conn
	jids     [][]byte
	inflight chan struct{} // closed loop: one token per message in flight; nil when open
	windowNS atomic.Int64  // end of the window, unix ns; 0 before the window starts
	stopping atomic.Bool

	sent, writeErrs, received, inWindow, bounced, foreign, dropped atomic.Int64

	hists [histShards]struct {
		sync.Mutex
		h stats.Histogram
	}
}

func (m *msgRun) release() {
	if m.inflight != nil {
		select {
		case <-m.inflight:
		default:
		}
	}
}

// bodyPrefix starts the body of every harness message: "hb <unix ns> <seq>".
const bodyPrefix = "hb "

// read is a session's reader goroutine.
func (m *msgRun) read(i int, c *client.Conn) {
	for {
		st, err := c.ReadStanza()
		if err != nil {
			if !m.stopping.Load() {
				m.dropped.Add(1)
			}
			return
		}
		if string(st.Name) != "message" {
			continue
		}
		if string(client.Attr(st.Raw, "type")) == "error" {
			m.bounced.Add(1)
			m.release()
			continue
		}
		body := client.Text(st.Raw, "body")
		rest, ok := bytes.CutPrefix(body, []byte(bodyPrefix))
		sp := bytes.IndexByte(rest, ' ')
		if !ok || sp < 0 {
			m.foreign.Add(1)
			continue
		}
		ts, err := strconv.ParseInt(string(rest[:sp]), 10, 64)
		if err != nil {
			m.foreign.Add(1)
			continue
		}
		now := time.Now().UnixNano()
		hs := &m.hists[i%histShards]
		hs.Lock()
		hs.h.Record(now - ts)
		hs.Unlock()
		m.received.Add(1)
		if w := m.windowNS.Load(); w == 0 || now <= w {
			m.inWindow.Add(1)
		}
		m.release()
	}
}

// sender sends from the sessions i with i % senders == g until end.
func (m *msgRun) sender(ctx context.Context, g, senders int, rate float64, end time.Time, seed uint64) {
	var own []int
	for i := g; i < len(m.conns); i += senders {
		own = append(own, i)
	}
	if len(own) == 0 || len(m.conns) < 2 {
		return
	}
	rng := rand.New(rand.NewPCG(seed, uint64(g)))
	buf := make([]byte, 0, 256)
	var seq int64
	send := func() {
		from := own[rng.IntN(len(own))]
		to := rng.IntN(len(m.conns) - 1)
		if to >= from {
			to++
		}
		seq++
		buf = append(buf[:0], "<message type='chat' to='"...)
		buf = append(buf, m.jids[to]...)
		buf = append(buf, "' id='m"...)
		buf = strconv.AppendInt(buf, seq, 10)
		buf = append(buf, "'><body>"+bodyPrefix...)
		buf = strconv.AppendInt(buf, time.Now().UnixNano(), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, seq, 10)
		buf = append(buf, "</body></message>"...)
		m.sent.Add(1)
		if err := m.conns[from].Write(buf); err != nil {
			m.writeErrs.Add(1)
			m.release()
		}
	}
	done := time.NewTimer(time.Until(end))
	defer done.Stop()
	if rate <= 0 { // closed loop
		for {
			select {
			case m.inflight <- struct{}{}:
				send()
			case <-done.C:
				return
			case <-ctx.Done():
				return
			}
		}
	}
	// Open loop: every tick, send what the schedule says is due. Sends that fall behind
	// (the server pushing back through TCP) are caught up, never skipped.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	var n int64
	for {
		select {
		case <-tick.C:
			due := int64(time.Since(start).Seconds() * rate)
			for ; n < due && time.Now().Before(end); n++ {
				send()
			}
		case <-done.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// messages logs the shard's users in, starts a reader per session, and on "go" sends
// chat messages between them for the window, then waits for stragglers.
func (s *shard) messages(ctx context.Context) error {
	lo, hi := s.cfg.span(s.cfg.shard, s.cfg.n)
	errs := &errorCounts{}
	conns, failed, took := s.ramp(ctx, s.cfg.options(true), lo, hi, s.cfg.rate/float64(s.cfg.shards), s.cfg.rampConc, errs)
	conns = compactConns(conns)
	m := &msgRun{conns: conns, jids: make([][]byte, len(conns))}
	defer func() {
		m.stopping.Store(true)
		abortAll(conns)
	}()
	for i, c := range conns {
		m.jids[i] = []byte(c.JID())
		go m.read(i, c)
	}
	if err := s.emit(event{Ev: "ready", Connected: len(conns), Failed: failed, Errors: errs.snapshot(), ConnectSecs: took.Seconds()}); err != nil {
		return err
	}
	if err := s.await(ctx, cmdGo); err != nil {
		return err
	}
	rate := s.cfg.msgRate / float64(s.cfg.shards)
	if rate <= 0 {
		m.inflight = make(chan struct{}, s.cfg.window)
	}
	start := time.Now()
	end := start.Add(s.cfg.duration)
	m.windowNS.Store(end.UnixNano())
	var wg sync.WaitGroup
	seed := uint64(time.Now().UnixNano()) + uint64(s.cfg.shard)
	for g := 0; g < s.cfg.senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.sender(ctx, g, s.cfg.senders, rate/float64(s.cfg.senders), end, seed)
		}()
	}
	wg.Wait()
	sendSecs := time.Since(start).Seconds()
	drainEnd := time.Now().Add(s.cfg.drain)
	for time.Now().Before(drainEnd) && m.received.Load()+m.bounced.Load()+m.writeErrs.Load() < m.sent.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	res := &messageResult{Sessions: len(conns), TargetRate: rate, Sent: m.sent.Load(), WriteErrs: m.writeErrs.Load(),
		Received: m.received.Load(), InWindow: m.inWindow.Load(), Bounced: m.bounced.Load(), Foreign: m.foreign.Load(),
		Dropped: m.dropped.Load(), SendSecs: sendSecs, Latency: &stats.Histogram{}}
	for i := range m.hists {
		hs := &m.hists[i]
		hs.Lock()
		res.Latency.Merge(&hs.h)
		hs.Unlock()
	}
	if err := s.emit(event{Ev: "result", Messages: res}); err != nil {
		return err
	}
	return s.await(ctx, cmdStop)
}
