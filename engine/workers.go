package engine

import (
	"sync"
)

// workers is a bounded pool for work that may block: password hashing and storage.
// Event loops hand work to it with submit and never wait for it; results come back to
// the connection's own loop through its mailbox (conn.post).
type workers struct {
	jobs chan func()
	wg   sync.WaitGroup
}

// newWorkers starts n goroutines reading from a queue of the given depth.
func newWorkers(n, queue int) *workers {
	if n < 1 {
		n = 1
	}
	w := &workers{jobs: make(chan func(), queue)}
	w.wg.Add(n)
	for range n {
		go func() {
			defer w.wg.Done()
			for job := range w.jobs {
				job()
			}
		}()
	}
	return w
}

// submit queues fn without blocking. It returns false when the queue is full: the
// caller answers the client with a `wait`-type error rather than stall its loop.
// Safe from any goroutine, but not after close.
func (w *workers) submit(fn func()) bool {
	select {
	case w.jobs <- fn:
		return true
	default:
		return false
	}
}

// close stops accepting work and waits for queued jobs to finish.
func (w *workers) close() {
	close(w.jobs)
	w.wg.Wait()
}
