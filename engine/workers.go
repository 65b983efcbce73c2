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

	mu     sync.RWMutex // held for reading while submitting, for writing to close
	closed bool
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
// caller answers the client with a `wait`-type error rather than stall its loop. After
// close it returns false too. Safe from any goroutine.
func (w *workers) submit(fn func()) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return false
	}
	select {
	case w.jobs <- fn:
		return true
	default:
		return false
	}
}

// close stops accepting work and waits for queued jobs to finish. Calls after the
// first only wait.
func (w *workers) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.jobs)
	}
	w.mu.Unlock()
	w.wg.Wait()
}
