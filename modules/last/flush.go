package last

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// DefaultFlushInterval is how long logouts gather before they are written together.
//
// Writing every logout on its own cost a commit of the embedded store each (two
// fsyncs), shared only by the few logouts that happened to wait at the same moment:
// about 15% of the server's CPU in a login storm. Gathered for a second, a storm's
// logouts take one commit. A crash may lose the last second of logout times, as it
// loses those of every session it cuts short; queries never see the delay, because
// they read the gathered logouts first.
const DefaultFlushInterval = time.Second

// removedKept is how long a removed account is remembered: its sessions are closed
// when it is removed, so their session-closed hooks come well within it.
const removedKept = 10 * time.Minute

// account names one account in the gathered logouts.
type account struct{ domain, user string }

// logouts gathers the logouts waiting to be written.
type logouts struct {
	interval time.Duration
	store    backends.LastActivity
	onError  func(n int, err error)

	mu      sync.Mutex
	pending map[account]backends.LastLogout
	// removed holds the accounts removed in the last removedKept, with when: the
	// logouts of their last sessions, which close after the removal, are not kept.
	// It stands in for asking the store whether each account still exists at every
	// logout, a read that cost a login storm about 3% of the server's CPU.
	removed     map[account]time.Time
	lastPruning time.Time

	// writing is held while a batch is written, so that a removed account's record
	// is deleted after, not before, a write that carried it.
	writing sync.Mutex

	kick chan struct{} // capacity 1: something is pending
	stop chan struct{}
	done chan struct{}
}

func newLogouts(interval time.Duration, st backends.LastActivity, onError func(int, error)) *logouts {
	return &logouts{
		interval: interval, store: st, onError: onError,
		pending: make(map[account]backends.LastLogout),
		removed: make(map[account]time.Time),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// put records a logout; a later one for the same account replaces it. It refuses the
// logout of an account removed lately, and reports whether it took it.
func (l *logouts) put(a account, rec backends.LastLogout) bool {
	l.mu.Lock()
	if _, gone := l.removed[a]; gone {
		l.mu.Unlock()
		return false
	}
	l.pending[a] = rec
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return true
}

// revive forgets that the account was removed: it exists again.
func (l *logouts) revive(a account) {
	l.mu.Lock()
	delete(l.removed, a)
	l.mu.Unlock()
}

// get returns the account's logout that is still waiting to be written.
func (l *logouts) get(a account) (backends.LastLogout, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, ok := l.pending[a]
	return rec, ok
}

// forget drops the account's waiting logout, refuses its next ones for removedKept,
// and waits for a write in progress, so that deleting the stored record after it
// leaves nothing behind.
func (l *logouts) forget(a account, now time.Time) {
	l.writing.Lock()
	defer l.writing.Unlock()
	l.mu.Lock()
	delete(l.pending, a)
	l.removed[a] = now
	if now.Sub(l.lastPruning) > removedKept/2 {
		l.lastPruning = now
		for r, at := range l.removed {
			if now.Sub(at) > removedKept {
				delete(l.removed, r)
			}
		}
	}
	l.mu.Unlock()
}

// run writes what gathered, an interval after the first logout of each round, until
// close; then it writes what is left.
func (l *logouts) run() {
	defer close(l.done)
	t := time.NewTimer(l.interval)
	t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush()
			return
		case <-l.kick:
		}
		t.Reset(l.interval)
		select {
		case <-l.stop:
			t.Stop()
			l.flush()
			return
		case <-t.C:
		}
		l.flush()
	}
}

// close stops run after a last write.
func (l *logouts) close() {
	close(l.stop)
	<-l.done
}

// flush writes the gathered logouts in one batch. When the store fails (it is down),
// they go back, unless a newer logout of the account came meanwhile, for the next
// round.
func (l *logouts) flush() {
	l.writing.Lock()
	defer l.writing.Unlock()
	l.mu.Lock()
	batch := l.pending
	if len(batch) == 0 {
		l.mu.Unlock()
		return
	}
	l.pending = make(map[account]backends.LastLogout, len(batch))
	l.mu.Unlock()
	entries := make([]backends.LastLogoutEntry, 0, len(batch))
	for a, rec := range batch {
		entries = append(entries, backends.LastLogoutEntry{Domain: a.domain, User: a.user, Last: rec})
	}
	ctx, cancel := context.WithTimeout(context.Background(), removalTimeout)
	err := backends.SetLastLogouts(ctx, l.store, entries)
	cancel()
	if err == nil {
		return
	}
	l.onError(len(entries), err)
	if errors.Is(err, backends.ErrInvalid) {
		return // it would fail again
	}
	l.mu.Lock()
	for a, rec := range batch {
		if _, newer := l.pending[a]; !newer {
			l.pending[a] = rec
		}
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}
