package tlsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLimiterBounds: handshakes beyond the bound wait in the queue (no
// goroutine), beyond the queue they are refused, and aborting them all
// leaves no goroutine.
func TestLimiterBounds(t *testing.T) {
	base := numGoroutines()
	lim := NewLimiter(2, 3)
	acc, _ := newTestAcceptor(t, Options{Limiter: lim})
	var conns []*Conn
	done := make(chan error, 10)
	for range 5 {
		c := acc.Server(discardSink{})
		if err := c.StartHandshake(context.Background(), func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if st := lim.Stats(); st.Running != 2 || st.Queued != 3 || st.PeakRunning != 2 {
		t.Fatalf("stats %+v, want 2 running, 3 queued", st)
	}
	if n := numGoroutines() - base; n > 2 {
		t.Fatalf("%d new goroutines for 2 running handshakes", n)
	}
	extra := acc.Server(discardSink{})
	if err := extra.StartHandshake(context.Background(), func(error) { t.Error("done called after ErrBusy") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("6th handshake: %v, want ErrBusy", err)
	}
	if extra.State() != StateFailed {
		t.Fatalf("refused conn in state %s", extra.State())
	}
	for _, c := range conns {
		c.Abort()
	}
	for range conns {
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("aborted handshake ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("aborted handshakes did not all finish")
		}
	}
	waitFor(t, 5*time.Second, "limiter to drain", func() bool { return lim.Stats() == LimiterStats{PeakRunning: 2} })
	waitGoroutines(t, base, 5*time.Second)
}

// TestLimiterQueueCountsTowardTimeout: a handshake that waits in the queue
// longer than the timeout fails without being run.
func TestLimiterQueueCountsTowardTimeout(t *testing.T) {
	lim := NewLimiter(1, 10)
	slow, _ := newTestAcceptor(t, Options{Limiter: lim, HandshakeTimeout: 300 * time.Millisecond})
	fast, _ := newTestAcceptor(t, Options{Limiter: lim, HandshakeTimeout: 50 * time.Millisecond})
	blocker := slow.Server(discardSink{})
	blockerDone := make(chan error, 1)
	if err := blocker.StartHandshake(context.Background(), func(err error) { blockerDone <- err }); err != nil {
		t.Fatal(err)
	}
	queued := fast.Server(discardSink{})
	queuedDone := make(chan error, 1)
	if err := queued.StartHandshake(context.Background(), func(err error) { queuedDone <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-blockerDone; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocker: %v", err)
	}
	select {
	case err := <-queuedDone:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("queued: %v, want DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("queued handshake never finished")
	}
}

// TestManyConcurrentHandshakes: 64 clients against a Limiter of 4 all
// succeed, and no more than 4 handshake goroutines ever run.
func TestManyConcurrentHandshakes(t *testing.T) {
	base := numGoroutines()
	lim := NewLimiter(4, 1000)
	acc, _ := newTestAcceptor(t, Options{Limiter: lim})
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each loopback's calling goroutine plays its own loop here.
			v := uint16(tls.VersionTLS13)
			if i%2 == 0 {
				v = tls.VersionTLS12
			}
			lb := newLoopback(acc, clientConfig(v))
			defer lb.close()
			srvErr, cliErr := lb.handshake(context.Background())
			if srvErr != nil || cliErr != nil {
				errs <- errors.Join(srvErr, cliErr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A goroutine retires just after calling done.
	waitFor(t, 5*time.Second, "handshake goroutines to retire", func() bool { return lim.Stats().Running == 0 })
	if st := lim.Stats(); st.PeakRunning != 4 || st.Queued != 0 {
		t.Fatalf("stats %+v, want a peak of 4 (the bound) and an empty queue", st)
	}
	waitGoroutines(t, base, 5*time.Second)
}

// TestLimiterQueueStaysBounded: under a storm that never lets the queue
// empty, the queue's array does not grow without bound.
func TestLimiterQueueStaysBounded(t *testing.T) {
	l := NewLimiter(1, 100)
	l.running = 1 // as if a goroutine were busy: every submit queues
	for round := range 1000 {
		for range 3 {
			if err := l.submit(&Conn{}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		for range 3 {
			if l.next() == nil {
				t.Fatal("queue empty")
			}
		}
		if l.running != 1 {
			t.Fatalf("running %d", l.running)
		}
		if l.queue == nil {
			t.Fatal("queue emptied")
		}
		// Keep one waiting so the queue never drains.
		if round == 0 {
			if err := l.submit(&Conn{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if cap(l.queue) > 256 {
		t.Fatalf("queue array grew to %d for at most 4 waiting", cap(l.queue))
	}
}
