package mysql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// testDomain returns a domain no other test or run uses.
func testDomain(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "p" + hex.EncodeToString(b[:]) + ".example"
}

func offlineMsg(dom, user string, writer, n int) backends.OfflineMessage {
	return backends.OfflineMessage{Domain: dom, User: user, Stamp: time.UnixMilli(1_700_000_000_000 + int64(n)),
		Raw: fmt.Appendf(nil, "<message id='w%d-%d'/>", writer, n)}
}

// TestPipelineGroups checks that concurrent writes share transactions and multi-row
// statements: 64 callers released together need far fewer than 64 transactions.
func TestPipelineGroups(t *testing.T) {
	for _, kind := range []string{"offline", "last"} {
		t.Run(kind, func(t *testing.T) {
			s := openTest(t, Options{})
			dom := testDomain(t)
			const n = 64
			txs0 := s.stats.txs.Load()
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					<-start
					if kind == "offline" {
						_, errs[i] = s.AppendOffline(context.Background(), []backends.OfflineMessage{offlineMsg(dom, fmt.Sprint("u", i%8), i, 0)}, 0)
					} else {
						errs[i] = s.SetLastLogout(context.Background(), dom, fmt.Sprint("u", i), backends.LastLogout{At: time.Unix(int64(i), 0)})
					}
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			txs, batches := s.stats.txs.Load()-txs0, s.stats.batches.Load()
			t.Logf("%d concurrent %s writes: %d transactions, %d batches", n, kind, txs, batches)
			if txs >= n/2 || batches >= n/2 {
				t.Errorf("%d concurrent writes took %d transactions (%d batches): they are not grouped", n, txs, batches)
			}
			if got := s.stats.batchedCalls.Load(); got != n {
				t.Errorf("batches carried %d calls, want %d", got, n)
			}
			// Every write is there.
			for i := range n {
				if kind == "offline" {
					continue
				}
				l, err := s.LastLogout(t.Context(), dom, fmt.Sprint("u", i))
				if err != nil || l.At.Unix() != int64(i) {
					t.Fatalf("LastLogout(u%d) = %v, %v", i, l, err)
				}
			}
			if kind == "offline" {
				total := 0
				for u := range 8 {
					c, err := s.CountOffline(t.Context(), dom, fmt.Sprint("u", u))
					if err != nil {
						t.Fatal(err)
					}
					total += c
				}
				if total != n {
					t.Errorf("%d messages stored, want %d", total, n)
				}
			}
		})
	}
}

// TestPipelineSeqAndLimit has 50 writers append to 5 shared accounts with a limit:
// each account ends with exactly limit messages, Seqs 1..limit each given once, every
// writer's accepted messages in its own order, and the refused ones absent.
func TestPipelineSeqAndLimit(t *testing.T) {
	for name, p := range map[string]PipelineOptions{"pipelined": {}, "small batches": {MaxBatchRows: 3}, "disabled": {Disabled: true}} {
		t.Run(name, func(t *testing.T) {
			s := openTest(t, Options{Pipeline: p, MaxOpenConns: 16})
			dom := testDomain(t)
			const writers, each, accounts, limit = 50, 12, 5, 70 // 120 attempts per account
			type accepted struct {
				seq    uint64
				writer int
				n      int
			}
			var mu sync.Mutex
			got := map[string][]accepted{}
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for w := range writers {
				wg.Go(func() {
					for i := 0; i < each; i += 2 {
						// Two messages per call, to two accounts (or one, twice).
						u1, u2 := fmt.Sprint("u", (w+i)%accounts), fmt.Sprint("u", (w*i)%accounts)
						msgs := []backends.OfflineMessage{offlineMsg(dom, u1, w, i), offlineMsg(dom, u2, w, i+1)}
						seqs, err := s.AppendOffline(context.Background(), msgs, limit)
						if err != nil {
							errs[w] = err
							return
						}
						mu.Lock()
						for j, seq := range seqs {
							if seq != 0 {
								got[msgs[j].User] = append(got[msgs[j].User], accepted{seq, w, i + j})
							}
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for u := range accounts {
				user := fmt.Sprint("u", u)
				acc := got[user]
				if len(acc) != limit {
					t.Fatalf("%s: %d messages accepted, want the limit %d", user, len(acc), limit)
				}
				slices.SortFunc(acc, func(a, b accepted) int { return int(a.seq) - int(b.seq) })
				for i, a := range acc {
					if a.seq != uint64(i+1) {
						t.Fatalf("%s: Seqs %v are not 1..%d each once", user, acc, limit)
					}
				}
				// Each writer's messages keep its order.
				last := map[int]int{}
				for _, a := range acc {
					if prev, ok := last[a.writer]; ok && a.n <= prev {
						t.Fatalf("%s: writer %d's message %d got a Seq after its message %d", user, a.writer, prev, a.n)
					}
					last[a.writer] = a.n
				}
				stored, err := s.OfflineMessages(t.Context(), dom, user, 1000)
				if err != nil || len(stored) != limit {
					t.Fatalf("%s: %d stored, %v; want %d", user, len(stored), err, limit)
				}
				for i, m := range stored {
					want := offlineMsg(dom, user, acc[i].writer, acc[i].n)
					if m.Seq != acc[i].seq || string(m.Raw) != string(want.Raw) {
						t.Fatalf("%s: stored #%d is seq %d %q, want seq %d %q", user, i, m.Seq, m.Raw, acc[i].seq, want.Raw)
					}
				}
			}
		})
	}
}

// blockAccount holds the lock of an offline head of dom's user "blocked" until the
// returned function is called: a pipelined batch that writes to that account waits.
func blockAccount(t *testing.T, s *Store, dom string) (release func()) {
	t.Helper()
	tx, err := s.db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO offline_heads (domain, user, last_seq, queued) VALUES (?, 'blocked', 0, 0)", dom); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPipelineBackPressure fills the queue behind a blocked batch: the next caller
// blocks until its context ends, is not written, and the queued ones commit once the
// batch goes through.
func TestPipelineBackPressure(t *testing.T) {
	const queue = 4
	s := openTest(t, Options{Pipeline: PipelineOptions{QueueSize: queue, MaxBatchRows: 1}, QueryTimeout: 20 * time.Second})
	dom := testDomain(t)
	release := blockAccount(t, s, dom)

	var wg sync.WaitGroup
	var started atomic.Int32
	errs := make([]error, queue+1)
	append1 := func(i int, user string) {
		started.Add(1)
		_, errs[i] = s.AppendOffline(context.Background(), []backends.OfflineMessage{offlineMsg(dom, user, i, 0)}, 0)
	}
	wg.Go(func() { append1(0, "blocked") })
	// The writer takes the blocked write off the queue and waits on the lock.
	waitFor(t, "the writer to take the first write", func() bool { return started.Load() == 1 && len(s.pipe.queue) == 0 })
	time.Sleep(50 * time.Millisecond)
	for i := 1; i <= queue; i++ {
		wg.Go(func() { append1(i, fmt.Sprint("q", i)) })
	}
	waitFor(t, "the queue to fill", func() bool { return len(s.pipe.queue) == queue })

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := s.AppendOffline(ctx, []backends.OfflineMessage{offlineMsg(dom, "late", 9, 0)}, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AppendOffline on a full queue: %v, want a deadline error", err)
	}
	if took := time.Since(begin); took < 150*time.Millisecond || took > 2*time.Second {
		t.Errorf("AppendOffline on a full queue returned after %v, want about 200ms of blocking", took)
	}
	release()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("queued writes: %v", err)
	}
	for i := 1; i <= queue; i++ {
		if n, _ := s.CountOffline(t.Context(), dom, fmt.Sprint("q", i)); n != 1 {
			t.Errorf("queued write %d: %d messages stored", i, n)
		}
	}
	if n, _ := s.CountOffline(t.Context(), dom, "late"); n != 0 {
		t.Errorf("the write refused by back-pressure was stored (%d messages)", n)
	}
}

// TestPipelineCancelQueued cancels a caller whose write waits in the queue: it returns
// at once with its context's error, and the write is never made.
func TestPipelineCancelQueued(t *testing.T) {
	s := openTest(t, Options{Pipeline: PipelineOptions{MaxBatchRows: 1}, QueryTimeout: 20 * time.Second})
	dom := testDomain(t)
	release := blockAccount(t, s, dom)
	done := make(chan error, 1)
	go func() {
		_, err := s.AppendOffline(context.Background(), []backends.OfflineMessage{offlineMsg(dom, "blocked", 0, 0)}, 0)
		done <- err
	}()
	waitFor(t, "the writer to take the first write", func() bool { return len(s.pipe.queue) == 0 })
	time.Sleep(50 * time.Millisecond)

	ctx, cancel := context.WithCancel(t.Context())
	res := make(chan error, 1)
	go func() {
		_, err := s.AppendOffline(ctx, []backends.OfflineMessage{offlineMsg(dom, "cancelled", 1, 0)}, 0)
		res <- err
	}()
	waitFor(t, "the second write to be queued", func() bool { return len(s.pipe.queue) == 1 })
	cancel()
	select {
	case err := <-res:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled queued write: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a cancelled queued write did not return")
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The writer skips the abandoned request: a later write commits, the cancelled one
	// is absent.
	if _, err := s.AppendOffline(t.Context(), []backends.OfflineMessage{offlineMsg(dom, "after", 2, 0)}, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountOffline(t.Context(), dom, "cancelled"); n != 0 {
		t.Errorf("the cancelled write was stored (%d messages)", n)
	}
}

// TestPipelineCloseDrains closes the store under concurrent writers: every write that
// returned nil is stored, the others fail with ErrClosed.
func TestPipelineCloseDrains(t *testing.T) {
	dsn := testDSN(t, testDatabase)
	s, err := Open(t.Context(), Options{DSN: dsn, Migrate: true, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	dom := testDomain(t)
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				_, err := s.AppendOffline(context.Background(), []backends.OfflineMessage{offlineMsg(dom, "x", w, i)}, 0)
				if errors.Is(err, backends.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				acked.Add(1)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2 := openTest(t, Options{})
	n, err := s2.CountOffline(t.Context(), dom, "x")
	if err != nil || int64(n) != acked.Load() {
		t.Fatalf("%d messages stored, %v; %d appends acknowledged", n, err, acked.Load())
	}
}

// TestPipelineMaxDelay checks that the writer waits MaxDelay for more writes: two calls
// 20ms apart share one batch when MaxDelay is 300ms.
func TestPipelineMaxDelay(t *testing.T) {
	s := openTest(t, Options{Pipeline: PipelineOptions{MaxDelay: 300 * time.Millisecond}})
	dom := testDomain(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	begin := time.Now()
	for i := range 2 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			errs[i] = s.SetLastLogout(context.Background(), dom, fmt.Sprint("u", i), backends.LastLogout{At: time.Unix(1, 0)})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if b := s.stats.batches.Load(); b != 1 {
		t.Errorf("two writes 20ms apart took %d batches with MaxDelay 300ms, want 1", b)
	}
	if took := time.Since(begin); took < 250*time.Millisecond {
		t.Errorf("the batch committed after %v, before MaxDelay", took)
	}
}

// TestPipelineQueueTimeout blocks the writer on a row lock with two writes to the
// locked account: both fail with ErrUnavailable within about QueryTimeout of their
// call (the second does not get a QueryTimeout of its own after waiting behind the
// first), and neither is written.
func TestPipelineQueueTimeout(t *testing.T) {
	const timeout = time.Second
	s := openTest(t, Options{Pipeline: PipelineOptions{MaxBatchRows: 1}, QueryTimeout: timeout})
	dom := testDomain(t)
	release := blockAccount(t, s, dom)
	defer release()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	took := make([]time.Duration, 2)
	for i := range 2 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 100 * time.Millisecond)
			begin := time.Now()
			_, errs[i] = s.AppendOffline(context.Background(), []backends.OfflineMessage{offlineMsg(dom, "blocked", i, 0)}, 0)
			took[i] = time.Since(begin)
		})
	}
	wg.Wait()
	for i := range errs {
		if !errors.Is(errs[i], backends.ErrUnavailable) {
			t.Errorf("write %d: %v, want ErrUnavailable", i, errs[i])
		}
		if took[i] > timeout*3/2 {
			t.Errorf("write %d failed after %v, QueryTimeout is %v", i, took[i], timeout)
		}
	}
	release()
	if n, _ := s.CountOffline(t.Context(), dom, "blocked"); n != 0 {
		t.Errorf("%d failed writes were stored", n)
	}
}
