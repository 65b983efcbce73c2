package tlsconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Defaults for a Limiter created with zero values.
const (
	// DefaultMaxHandshakes bounds handshake goroutines. A handshake spends
	// most of its life waiting for the peer, so this is a memory bound more
	// than a CPU bound; 512 goroutines cost a few MB at most.
	DefaultMaxHandshakes = 512
	// DefaultMaxQueued bounds handshakes waiting for a goroutine. A queued
	// handshake costs a pointer, not a goroutine.
	DefaultMaxQueued = 16384
)

// Limiter bounds the number of handshake goroutines of every Acceptor that
// shares it, and queues the handshakes beyond the bound in arrival order.
// Goroutines serve the queue and exit when it is empty, so an idle server has
// none. Safe for concurrent use.
type Limiter struct {
	mu         sync.Mutex
	maxRunning int
	maxQueued  int
	running    int
	peak       int
	queue      []*Conn // queue[head:] waits
	head       int
}

// LimiterStats is a snapshot of a Limiter.
type LimiterStats struct {
	Running     int // handshake goroutines alive now
	Queued      int // handshakes waiting for a goroutine
	PeakRunning int // the most goroutines alive at once so far
}

// NewLimiter returns a Limiter running at most maxRunning handshakes at once
// and queueing at most maxQueued more; values <= 0 select the defaults.
func NewLimiter(maxRunning, maxQueued int) *Limiter {
	if maxRunning <= 0 {
		maxRunning = DefaultMaxHandshakes
	}
	if maxQueued <= 0 {
		maxQueued = DefaultMaxQueued
	}
	return &Limiter{maxRunning: maxRunning, maxQueued: maxQueued}
}

// Stats returns a snapshot. Safe from any goroutine.
func (l *Limiter) Stats() LimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LimiterStats{Running: l.running, Queued: len(l.queue) - l.head, PeakRunning: l.peak}
}

// submit starts c's handshake in a new goroutine or queues it. It never
// blocks, so the loop may call it.
func (l *Limiter) submit(c *Conn) error {
	l.mu.Lock()
	if l.running < l.maxRunning {
		l.running++
		l.peak = max(l.peak, l.running)
		l.mu.Unlock()
		go l.serve(c)
		return nil
	}
	defer l.mu.Unlock()
	if len(l.queue)-l.head >= l.maxQueued {
		return ErrBusy
	}
	if l.head > 64 && l.head > len(l.queue)/2 {
		// A storm that never lets the queue empty would otherwise grow
		// the array forever.
		n := copy(l.queue, l.queue[l.head:])
		clear(l.queue[n:])
		l.queue, l.head = l.queue[:n], 0
	}
	l.queue = append(l.queue, c)
	return nil
}

// serve runs handshakes until the queue is empty, then exits.
func (l *Limiter) serve(c *Conn) {
	for c != nil {
		c.runHandshake()
		c = l.next()
	}
}

// next pops the queue, or retires the calling goroutine when it is empty.
func (l *Limiter) next() *Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.head == len(l.queue) {
		l.running--
		// Release the backing array after a storm.
		l.queue, l.head = nil, 0
		return nil
	}
	c := l.queue[l.head]
	l.queue[l.head] = nil
	l.head++
	return c
}

// handshakeJob is what the handshake goroutine needs; the Conn drops it when
// the handshake ends.
type handshakeJob struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   func(error)
}

// StartHandshake queues the TLS server handshake on the Acceptor's Limiter
// and returns at once. The handshake runs in a goroutine of the Limiter,
// reading what Feed delivers and writing through Sink.AsyncWrite; it fails
// after the Acceptor's HandshakeTimeout (counted from this call, so queueing
// counts), when ctx ends, or when the Conn is closed or aborted.
//
// done is called exactly once if StartHandshake returns nil, from the
// handshake goroutine, with nil on success or the reason of failure. It must
// not block and must not touch the Conn except through methods safe from any
// goroutine: the engine should Wake the connection and continue on its loop
// (calling Read at once; see Read). When done(nil) runs, the Conn is already
// in StateEstablished.
//
// Call it on the connection's event loop, once. It returns
// ErrHandshakeStarted on a second call, ErrClosed after Close, and ErrBusy
// when the Limiter's queue is full (done is not called then).
func (c *Conn) StartHandshake(ctx context.Context, done func(error)) error {
	if done == nil {
		return errors.New("tlsconn: StartHandshake with a nil done")
	}
	if !c.state.CompareAndSwap(uint32(StateNew), uint32(StateHandshaking)) {
		if State(c.state.Load()) == StateClosed {
			return ErrClosed
		}
		return ErrHandshakeStarted
	}
	c.t.mu.Lock()
	c.t.handshaking = true
	c.t.wake = make(chan struct{}, 1)
	c.t.mu.Unlock()

	hctx, cancel := context.WithTimeout(ctx, c.acc.timeout)
	c.job = &handshakeJob{ctx: hctx, cancel: cancel, done: done}
	if err := c.acc.limiter.submit(c); err != nil {
		c.job = nil
		cancel()
		c.endHandshake()
		c.state.CompareAndSwap(uint32(StateHandshaking), uint32(StateFailed))
		return err
	}
	return nil
}

// runHandshake runs in a Limiter goroutine.
func (c *Conn) runHandshake() {
	job := c.job
	c.job = nil
	var err error
	if cerr := context.Cause(job.ctx); cerr != nil {
		err = fmt.Errorf("tlsconn: handshake never started: %w", cerr)
	} else if hsErr := c.tc.HandshakeContext(job.ctx); hsErr != nil {
		// On timeout or cancellation crypto/tls closed the transport
		// through context.AfterFunc and reports the context's error.
		err = fmt.Errorf("tlsconn: handshake: %w", hsErr)
	}
	job.cancel()
	c.endHandshake()
	// Published to the loop by the state change below.
	c.morePlain = err == nil
	switch {
	case err == nil && c.state.CompareAndSwap(uint32(StateHandshaking), uint32(StateEstablished)):
		c.established.Store(true)
	case err == nil:
		// Closed or aborted while the last flight was being processed.
		err = fmt.Errorf("tlsconn: handshake: %w", ErrClosed)
	default:
		c.state.CompareAndSwap(uint32(StateHandshaking), uint32(StateFailed))
		if State(c.state.Load()) == StateClosed && !errors.Is(err, ErrClosed) {
			err = fmt.Errorf("%w: %w", ErrClosed, err)
		}
	}
	job.done(err)
}

// endHandshake hands reads and writes back to the loop.
func (c *Conn) endHandshake() {
	c.t.mu.Lock()
	c.t.handshaking = false
	c.t.wake = nil
	c.t.mu.Unlock()
}
