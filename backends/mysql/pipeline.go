package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// The write pipeline gathers the high-volume writes of concurrent callers into one
// transaction of multi-row statements: group commit. Callers hand a request to a
// bounded queue (blocking while it is full, until their context ends) and wait until
// the transaction that carries it committed; one writer goroutine takes what is queued
// (up to MaxBatchRows rows), runs every kind's statements in one transaction, commits,
// and answers each request. A kind of write (offline messages, last logouts, later the
// archive) implements writeKind. See docs/design/08-mysql-pipeline.md.

// writeKind is one kind of pipelined write.
type writeKind interface {
	// name says what is written, for errors and logs.
	name() string
	// write applies reqs, all of this kind and in queue order, inside tx, and sets
	// each request's results. It may run more than once for the same requests (the
	// transaction is retried after a deadlock, or each request alone after a failed
	// batch), so it must derive its results afresh each time.
	write(ctx context.Context, tx *sql.Tx, reqs []*request) error
}

// request is one call's write in the pipeline.
type request struct {
	ctx  context.Context
	kind writeKind
	// data is the kind's input and output (*offlineRequest, *lastRequest).
	data any
	// rows and bytes are the request's share of a batch.
	rows, bytes int
	// deadline is QueryTimeout after the call began: the call fails then, however
	// long it waited in the queue, and the batch that carries it ends by then.
	deadline time.Time
	// state moves once from queued to taken (the writer includes the request in a
	// transaction) or to abandoned (the caller's context ended first: it is never
	// written).
	state atomic.Int32
	err   error
	done  chan struct{}
}

const (
	queued int32 = iota
	taken
	abandoned
)

// pipeline is the queue and its writer goroutine.
type pipeline struct {
	s     *Store
	opts  PipelineOptions
	queue chan *request

	// mu guards closed; submitters hold it for reading while they enqueue, so that
	// close never closes the queue under a sender.
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
}

func newPipeline(s *Store) *pipeline {
	p := &pipeline{s: s, opts: s.opts.Pipeline, stopped: make(chan struct{})}
	if p.opts.Disabled {
		close(p.stopped)
		return p
	}
	p.queue = make(chan *request, p.opts.QueueSize)
	go p.run()
	return p
}

// submit hands data to the pipeline (or, when it is disabled, writes it in a
// transaction of its own) and returns once it is committed or failed. When ctx ends
// before the writer took the request into a transaction, submit returns ctx's error at
// once and the request is never written; once taken, the call waits for the commit, so
// that an error never hides a write. Any goroutine may call it.
func (s *Store) submit(ctx context.Context, k writeKind, data any, rows, bytes int) error {
	r := &request{ctx: ctx, kind: k, data: data, rows: rows, bytes: bytes}
	if s.opts.Pipeline.Disabled {
		wctx, cancel := s.writeCtx(ctx)
		defer cancel()
		return s.inTx(wctx, func(tx *sql.Tx) error { return k.write(wctx, tx, []*request{r}) })
	}
	return s.pipe.submit(ctx, r)
}

// errQueueTimeout reports a call that spent QueryTimeout waiting for the writer: the
// database is too slow or unreachable. It wraps context.DeadlineExceeded, which the
// store reports as ErrUnavailable.
var errQueueTimeout = fmt.Errorf("waited QueryTimeout in the write queue: %w", context.DeadlineExceeded)

func (p *pipeline) submit(ctx context.Context, r *request) error {
	r.done = make(chan struct{})
	r.deadline = time.Now().Add(p.s.opts.QueryTimeout)
	timer := time.NewTimer(p.s.opts.QueryTimeout)
	defer timer.Stop()
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return backends.ErrClosed
	}
	select {
	case p.queue <- r:
		p.mu.RUnlock()
	case <-ctx.Done():
		p.mu.RUnlock()
		return ctx.Err()
	case <-timer.C:
		p.mu.RUnlock()
		return errQueueTimeout
	}
	var err error
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errQueueTimeout
	}
	if r.state.CompareAndSwap(queued, abandoned) {
		return err
	}
	<-r.done // taken: the transaction answers, by r.deadline
	return r.err
}

// close stops taking requests and returns once the writer has answered every queued
// one. Any goroutine may call it, once.
func (p *pipeline) close() {
	if p.opts.Disabled {
		return
	}
	p.mu.Lock()
	p.closed = true
	close(p.queue)
	p.mu.Unlock()
	<-p.stopped
}

// run is the writer goroutine: it takes batches off the queue until it is closed and
// drained.
func (p *pipeline) run() {
	defer close(p.stopped)
	var carry *request
	var timer *time.Timer
	for {
		first := carry
		carry = nil
		if first == nil {
			var ok bool
			if first, ok = <-p.queue; !ok {
				return
			}
		}
		batch, rows := []*request{first}, first.rows
		var deadline <-chan time.Time
		if p.opts.MaxDelay > 0 {
			if timer == nil {
				timer = time.NewTimer(p.opts.MaxDelay)
			} else {
				timer.Reset(p.opts.MaxDelay)
			}
			deadline = timer.C
		}
	gather:
		for rows < p.opts.MaxBatchRows {
			var r *request
			var ok bool
			select {
			case r, ok = <-p.queue:
			default:
				if deadline == nil {
					break gather
				}
				select {
				case r, ok = <-p.queue:
				case <-deadline:
					deadline = nil
					break gather
				}
			}
			if !ok {
				break gather
			}
			if rows+r.rows > p.opts.MaxBatchRows {
				carry = r
				break gather
			}
			batch = append(batch, r)
			rows += r.rows
		}
		if timer != nil {
			timer.Stop() // Go 1.23 timers: no stale tick survives Stop
		}
		p.flush(batch)
	}
}

// flush commits batch in one transaction and answers its requests. Requests whose
// caller gave up before the transaction began are not written. When the transaction
// fails for a reason other than the server's unavailability, each request is retried
// alone, so that one bad request does not fail the others.
func (p *pipeline) flush(batch []*request) {
	s := p.s
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil || !time.Now().Before(r.deadline) {
			r.state.CompareAndSwap(queued, abandoned)
		}
		if !r.state.CompareAndSwap(queued, taken) {
			r.err = cmp.Or(r.ctx.Err(), errQueueTimeout)
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := p.commit(live)
	if err == nil {
		s.stats.batches.Add(1)
		s.stats.batchedCalls.Add(int64(len(live)))
	}
	if err != nil && len(live) > 1 && !unavailable(err) {
		s.log.Warn("pipelined batch failed; retrying its writes one by one", "writes", len(live), "error", err)
		for _, r := range live {
			r.err = p.commit([]*request{r})
			close(r.done)
		}
		return
	}
	for _, r := range live {
		r.err = err
		close(r.done)
	}
}

// commit runs the requests, grouped by kind in order of first appearance, in one
// transaction that ends by the earliest of their deadlines, so that no call outlives
// its QueryTimeout.
func (p *pipeline) commit(reqs []*request) error {
	deadline := reqs[0].deadline
	for _, r := range reqs[1:] {
		if r.deadline.Before(deadline) {
			deadline = r.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	type group struct {
		kind writeKind
		reqs []*request
	}
	var groups []group
next:
	for _, r := range reqs {
		for i := range groups {
			if groups[i].kind == r.kind {
				groups[i].reqs = append(groups[i].reqs, r)
				continue next
			}
		}
		groups = append(groups, group{r.kind, []*request{r}})
	}
	return p.s.inTx(ctx, func(tx *sql.Tx) error {
		for _, g := range groups {
			if err := g.kind.write(ctx, tx, g.reqs); err != nil {
				return fmt.Errorf("%s: %w", g.kind.name(), err)
			}
		}
		return nil
	})
}

// chunked calls fn with consecutive runs of items, each small enough for one
// multi-row statement: at most maxStatementRows rows of cols placeholders (within
// MariaDB's 65535) and about maxStatementBytes of data (within max_allowed_packet).
// size gives an item's data bytes.
func chunked[T any](items []T, cols int, size func(T) int, fn func([]T) error) error {
	maxRows := min(maxStatementRows, 65535/cols)
	for start := 0; start < len(items); {
		end, bytes := start, 0
		for end < len(items) && end-start < maxRows && (end == start || bytes+size(items[end]) <= maxStatementBytes) {
			bytes += size(items[end])
			end++
		}
		if err := fn(items[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}
