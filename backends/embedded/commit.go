package embedded

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// Group commit.
//
// A bbolt commit costs two fsyncs (pages, then meta page): about 1 ms on this kind of
// disk, and only one write transaction runs at a time. One transaction per write would cap
// a registration storm at about 1000 accounts/s whatever the number of callers. So writes
// go through one goroutine, the committer, which takes every write waiting in the queue
// (up to MaxBatch) and applies them in one transaction and one commit: while a commit is
// syncing, the next group forms on its own.
//
// bbolt's DB.Batch does the same, but it holds every group open for MaxBatchDelay (10 ms
// by default) even when a write arrives alone, which makes a lone write ten times slower
// than an fsync; this committer never waits for company. The benchmarks compare the two.

// An applyFunc makes one caller's change inside a transaction shared with others. It may
// run more than once (when another operation of its group fails, the group is retried
// without it), so it must not keep state between runs. It reports an outcome for its
// caller, such as ErrExists, through result, and must then have written nothing; it
// returns err only for a failure that must roll back the whole transaction.
type applyFunc func(tx *bbolt.Tx) (result, err error)

// A writeOp is one caller's write waiting for the committer.
type writeOp struct {
	apply applyFunc
	done  chan error
}

// commitStats count commits for tests and benchmarks.
type commitStats struct {
	commits atomic.Int64 // transactions committed or rolled back
	ops     atomic.Int64 // operations that went through them
}

// write hands apply to the committer and waits for the commit, which makes the write
// durable before write returns. A context done before the hand-over cancels the write;
// after it, the write completes regardless, so an error never hides a write.
func (s *Store) write(ctx context.Context, what string, apply applyFunc) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: %s: %w", what, err)
	}
	op := &writeOp{apply: apply, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("embedded: %s: %w", what, backends.ErrClosed)
	}
	s.ops <- op
	s.mu.RUnlock()
	return <-op.done
}

// commitLoop is the committer goroutine. It exits when Close has closed s.ops and every
// operation in it has been committed.
func (s *Store) commitLoop(maxBatch int) {
	defer close(s.stopped)
	group := make([]*writeOp, 0, maxBatch)
	last := 0
	for op := range s.ops {
		group = append(group[:0], op)
		if last > 1 {
			// The callers of the last group were woken together; most will write
			// again at once. Yielding lets them queue before the group is cut, which
			// took 8 writers from about 4 to about 7 writes per commit. A lone writer
			// (last == 1) never pays for it.
			runtime.Gosched()
		}
	gather:
		for len(group) < maxBatch {
			select {
			case op, ok := <-s.ops:
				if !ok {
					break gather
				}
				group = append(group, op)
			default:
				break gather
			}
		}
		s.commit(group)
		last = len(group)
		clear(group[:cap(group)]) // let the finished operations be collected
	}
}

// commit applies group in one transaction and reports to every caller. If an operation
// fails, the transaction is rolled back; that operation runs alone to get an error of its
// own, and the rest of the group is retried without it.
func (s *Store) commit(group []*writeOp) {
	results := make([]error, len(group))
	for len(group) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for i, op := range group {
				res, err := op.apply(tx)
				if err != nil {
					failed = i
					return err
				}
				results[i] = res
			}
			return nil
		})
		s.stats.commits.Add(1)
		s.stats.ops.Add(int64(len(group)))
		if failed < 0 {
			for i, op := range group {
				if err != nil {
					// The commit itself failed: nothing was written.
					op.done <- fmt.Errorf("embedded: commit: %w", err)
				} else {
					op.done <- results[i]
				}
			}
			return
		}
		op := group[failed]
		group = slices.Delete(group, failed, failed+1)
		results = results[:len(group)]
		op.done <- s.solo(op)
	}
}

// solo applies one operation in a transaction of its own.
func (s *Store) solo(op *writeOp) error {
	var result error
	err := s.db.Update(func(tx *bbolt.Tx) (err error) {
		result, err = op.apply(tx)
		return err
	})
	s.stats.commits.Add(1)
	s.stats.ops.Add(1)
	if err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	return result
}
