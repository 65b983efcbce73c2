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

// messageResult is one shard's figures for one measured window of the messages,
// max-message-rate (one per step), presence and muc scenarios.
type messageResult struct {
	Sessions   int     `json:"sessions"`
	TargetRate float64 `json:"target_rate"` // this shard's, 0 in the closed loop
	Sent       int64   `json:"sent"`
	WriteErrs  int64   `json:"write_errors"`
	Received   int64   `json:"received"`  // by the end of the drain (not counting Self)
	InWindow   int64   `json:"in_window"` // received before the window closed
	Self       int64   `json:"self"`      // presence, muc: the sender's own copy
	Expected   int64   `json:"expected"`  // presence, muc: deliveries if every recipient gets one
	Late       int64   `json:"late"`      // stamped before this window (a previous step's)
	Bounced    int64   `json:"bounced"`   // type='error' stanzas
	Foreign    int64   `json:"foreign"`   // stanzas without our stamp
	Dropped    int64   `json:"dropped"`   // sessions whose stream ended
	SendSecs   float64 `json:"send_secs"`
	// Latency holds the latencies of Received.
	Latency *stats.Histogram `json:"latency"`
}

// histShards spreads latency recording over several locks.
const histShards = 16

// window is the state of one measured window; readers find the current one through
// msgRun.win.
type window struct {
	startNS, endNS int64
	inflight       chan struct{} // closed loop: one token per message in flight; nil when open

	sent, writeErrs, received, inWindow, self, expected, late, bounced, foreign atomic.Int64

	hists [histShards]struct {
		sync.Mutex
		h stats.Histogram
	}
}

func (w *window) release() {
	if w.inflight != nil {
		select {
		case <-w.inflight:
		default:
		}
	}
}

// msgRun is the state shared by a shard's senders and readers in the stanza
// scenarios. build writes the stanza session from sends into buf and returns it
// with the number of deliveries expected; handle sees every stanza a session reads
// (nil: chat messages only).
type msgRun struct {
	shard    *shard
	conns    []*client.Conn
	jids     [][]byte
	win      atomic.Pointer[window]
	stopping atomic.Bool
	dropped  atomic.Int64

	build  func(buf []byte, from int, rng *rand.Rand, stamp []byte) ([]byte, int64)
	handle func(m *msgRun, i int, c *client.Conn, st client.Stanza)
}

// stampPrefix starts every stamp the harness sends: "hb <unix ns> <seq>", in a
// message body, a presence status or a groupchat body.
const stampPrefix = "hb "

// parseStamp returns the send time of a stamp, or false if text is not one.
func parseStamp(text []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(text, []byte(stampPrefix))
	sp := bytes.IndexByte(rest, ' ')
	if !ok || sp < 0 {
		return 0, false
	}
	ts, err := strconv.ParseInt(string(rest[:sp]), 10, 64)
	return ts, err == nil
}

// appendStamp appends a stamp with the current time.
func appendStamp(buf []byte, seq int64) []byte {
	buf = append(buf, stampPrefix...)
	buf = strconv.AppendInt(buf, time.Now().UnixNano(), 10)
	buf = append(buf, ' ')
	return strconv.AppendInt(buf, seq, 10)
}

// deliver records a stamped stanza received by session i: self is the sender's own copy.
func (m *msgRun) deliver(i int, text []byte, self bool) {
	w := m.win.Load()
	ts, ok := parseStamp(text)
	if w == nil || !ok {
		if w != nil {
			w.foreign.Add(1)
		}
		return
	}
	if ts < w.startNS {
		w.late.Add(1)
		return
	}
	if self {
		w.self.Add(1)
		return
	}
	now := time.Now().UnixNano()
	hs := &w.hists[i%histShards]
	hs.Lock()
	hs.h.Record(now - ts)
	hs.Unlock()
	m.shard.live.record(i, now-ts)
	w.received.Add(1)
	if now <= w.endNS {
		w.inWindow.Add(1)
	}
	w.release()
}

// bounce records a stanza of type error.
func (m *msgRun) bounce() {
	if w := m.win.Load(); w != nil {
		w.bounced.Add(1)
		w.release()
	}
}

// read is a session's reader goroutine.
func (m *msgRun) read(i int, c *client.Conn) {
	for {
		st, err := c.ReadStanza()
		if err != nil {
			if !m.stopping.Load() {
				m.dropped.Add(1)
				m.shard.live.online.Add(-1)
				m.shard.live.errs.Add(1)
			}
			return
		}
		if m.handle != nil {
			m.handle(m, i, c, st)
			continue
		}
		if string(st.Name) != "message" {
			continue
		}
		if string(client.Attr(st.Raw, "type")) == "error" {
			m.bounce()
			continue
		}
		m.deliver(i, client.Text(st.Raw, "body"), false)
	}
}

// buildChat writes a chat message from session from to a random other session.
func (m *msgRun) buildChat(buf []byte, from int, rng *rand.Rand, stamp []byte) ([]byte, int64) {
	to := rng.IntN(len(m.conns) - 1)
	if to >= from {
		to++
	}
	buf = append(buf, "<message type='chat' to='"...)
	buf = append(buf, m.jids[to]...)
	buf = append(buf, "'><body>"...)
	buf = append(buf, stamp...)
	return append(buf, "</body></message>"...), 1
}

// sender sends from the sessions i with i % senders == g until end.
func (m *msgRun) sender(ctx context.Context, w *window, g, senders int, rate float64, end time.Time, seed uint64) {
	var own []int
	for i := g; i < len(m.conns); i += senders {
		own = append(own, i)
	}
	if len(own) == 0 || len(m.conns) < 2 {
		return
	}
	rng := rand.New(rand.NewPCG(seed, uint64(g)))
	buf := make([]byte, 0, 256)
	stamp := make([]byte, 0, 64)
	var seq int64
	send := func() {
		from := own[rng.IntN(len(own))]
		seq++
		stamp = appendStamp(stamp[:0], seq)
		var exp int64
		buf, exp = m.build(buf[:0], from, rng, stamp)
		w.sent.Add(1)
		w.expected.Add(exp)
		m.shard.live.sent.Add(1)
		if err := m.conns[from].Write(buf); err != nil {
			w.writeErrs.Add(1)
			m.shard.live.errs.Add(1)
			w.release()
		}
	}
	done := time.NewTimer(time.Until(end))
	defer done.Stop()
	if rate <= 0 { // closed loop
		for {
			select {
			case w.inflight <- struct{}{}:
				send()
			case <-done.C:
				return
			case <-ctx.Done():
				return
			}
		}
	}
	// Open loop: every tick, send what the schedule says is due. Sends that fall behind
	// (the server pushing back through TCP) are caught up until the window ends.
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

// login logs the shard's users in and starts a reader per session.
func (s *shard) loginAll(ctx context.Context, m *msgRun) (failed int, errs *errorCounts, took time.Duration) {
	lo, hi := s.cfg.span(s.cfg.shard, s.cfg.n)
	errs = &errorCounts{}
	conns, failed, took := s.ramp(ctx, s.cfg.options(true), lo, hi, s.cfg.rate/float64(s.cfg.shards), s.cfg.rampConc, errs)
	m.conns = compactConns(conns)
	m.jids = make([][]byte, len(m.conns))
	for i, c := range m.conns {
		m.jids[i] = []byte(c.JID())
	}
	return failed, errs, took
}

func (m *msgRun) startReaders() {
	for i, c := range m.conns {
		go m.read(i, c)
	}
}

// measure runs one window at rate (this shard's total; 0: closed loop), waits for
// the stragglers, and returns the window's figures.
func (m *msgRun) measure(ctx context.Context, rate float64, duration time.Duration) *messageResult {
	cfg := m.shard.cfg
	start := time.Now()
	end := start.Add(duration)
	w := &window{startNS: start.UnixNano(), endNS: end.UnixNano()}
	if rate <= 0 {
		w.inflight = make(chan struct{}, cfg.window)
	}
	m.win.Store(w)
	var wg sync.WaitGroup
	seed := uint64(time.Now().UnixNano()) + uint64(cfg.shard)
	for g := 0; g < cfg.senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.sender(ctx, w, g, cfg.senders, rate/float64(cfg.senders), end, seed)
		}()
	}
	wg.Wait()
	sendSecs := time.Since(start).Seconds()
	drainEnd := time.Now().Add(cfg.drain)
	for time.Now().Before(drainEnd) && ctx.Err() == nil {
		got := w.received.Load() + w.bounced.Load() + w.writeErrs.Load()
		if m.handle == nil && got >= w.sent.Load() || m.handle != nil && got >= w.expected.Load() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := &messageResult{Sessions: len(m.conns), TargetRate: rate, Sent: w.sent.Load(), WriteErrs: w.writeErrs.Load(),
		Received: w.received.Load(), InWindow: w.inWindow.Load(), Self: w.self.Load(), Expected: w.expected.Load(),
		Late: w.late.Load(), Bounced: w.bounced.Load(), Foreign: w.foreign.Load(), Dropped: m.dropped.Load(),
		SendSecs: sendSecs, Latency: &stats.Histogram{}}
	for i := range w.hists {
		hs := &w.hists[i]
		hs.Lock()
		res.Latency.Merge(&hs.h)
		hs.Unlock()
	}
	return res
}

// messages logs the shard's users in, starts a reader per session, and on "go" sends
// chat messages between them for the window, then waits for stragglers.
func (s *shard) messages(ctx context.Context) error {
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
	if err := s.await(ctx, cmdGo); err != nil {
		return err
	}
	res := m.measure(ctx, s.cfg.msgRate/float64(s.cfg.shards), s.cfg.duration)
	if err := s.emit(event{Ev: "result", Messages: res}); err != nil {
		return err
	}
	return s.await(ctx, cmdStop)
}
