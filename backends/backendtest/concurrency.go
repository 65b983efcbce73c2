package backendtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// parallel runs fn(i) for i in [0, n) on n goroutines released together, and returns
// their errors in order.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

func (s *suite) testConcurrentDistinct(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	const workers, each = 8, 25
	accounts := make([]backends.Account, workers*each)
	for i := range accounts {
		accounts[i] = account(t, dom, fmt.Sprintf("w%d-%d", i/each, i%each))
	}
	errs := parallel(workers, func(w int) error {
		for _, a := range accounts[w*each : (w+1)*each] {
			if err := st.CreateAccount(context.Background(), a); err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("parallel CreateAccount: %v", err)
	}
	for _, a := range accounts {
		wantAccount(t, st, a)
	}
	wantCount(t, st, dom, workers*each)
}

func (s *suite) testConcurrentSame(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	const workers = 16
	candidates := make([]backends.Account, workers)
	for i := range candidates {
		candidates[i] = account(t, dom, "contested")
	}
	errs := parallel(workers, func(i int) error {
		return st.CreateAccount(context.Background(), candidates[i])
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("CreateAccount succeeded twice for the same account (workers %d and %d)", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, "losing CreateAccount", err, backends.ErrExists)
		}
	}
	if winner < 0 {
		t.Fatal("every CreateAccount of a new account failed")
	}
	wantAccount(t, st, candidates[winner])
	wantCount(t, st, dom, 1)
}

// testConcurrentMixed checks that a record is written and read whole: with writers
// replacing credentials while readers read, every read must return one of the written
// sets exactly, never a mixture of two.
func (s *suite) testConcurrentMixed(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	base := account(t, dom, "alice")
	if err := st.CreateAccount(t.Context(), base); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	const writers, readers, rounds = 4, 4, 20
	written := []backends.Credentials{base.Credentials}
	for range writers * rounds {
		written = append(written, fullCredentials(t))
	}
	known := func(c backends.Credentials) bool {
		return slices.ContainsFunc(written, func(w backends.Credentials) bool { return sameCredentials(w, c) })
	}
	errs := parallel(writers+readers+1, func(i int) error {
		ctx := context.Background()
		switch {
		case i < writers:
			for r := range rounds {
				if err := st.SetCredentials(ctx, dom, "alice", written[1+i*rounds+r]); err != nil {
					return err
				}
			}
		case i < writers+readers:
			for range rounds {
				got, err := st.Account(ctx, dom, "alice")
				if err != nil {
					return err
				}
				if !known(got.Credentials) || !got.Created.Equal(base.Created) {
					return fmt.Errorf("read a record that was never written: %s", describe(got))
				}
			}
		default: // churn on a neighbour while the others work
			for r := range rounds {
				b := account(t, dom, "bob")
				if err := st.CreateAccount(ctx, b); err != nil {
					return fmt.Errorf("round %d: %w", r, err)
				}
				if err := st.DeleteAccount(ctx, dom, "bob"); err != nil {
					return fmt.Errorf("round %d: %w", r, err)
				}
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got, err := st.Account(t.Context(), dom, "alice")
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	if !known(got.Credentials) || sameCredentials(got.Credentials, base.Credentials) {
		t.Fatalf("final record is not one of the last writes: %s", describe(got))
	}
	wantCount(t, st, dom, 1)
}

// everyMethod calls each method of st once on dom and returns the errors by method name.
func everyMethod(t *testing.T, ctx context.Context, st backends.Store, dom string) map[string]error {
	a := account(t, dom, "alice")
	return map[string]error{
		"CreateAccount":  st.CreateAccount(ctx, a),
		"PutAccounts":    st.PutAccounts(ctx, []backends.Account{account(t, dom, "bob")}),
		"DeleteAccount":  st.DeleteAccount(ctx, dom, "carol"),
		"SetCredentials": st.SetCredentials(ctx, dom, "carol", fullCredentials(t)),
		"Account":        errorOf(st.Account(ctx, dom, "carol")),
		"ListAccounts":   errorOf(st.ListAccounts(ctx, dom, "", 10)),
		"CountAccounts":  errorOf(st.CountAccounts(ctx, dom)),
	}
}

func (s *suite) testCancelledContext(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	if err := st.CreateAccount(t.Context(), account(t, dom, "carol")); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range everyMethod(t, ctx, st, dom) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error %v, want context.Canceled", name, err)
		}
	}
	wantAbsent(t, st, dom, "alice")
	wantAbsent(t, st, dom, "bob")
	wantCount(t, st, dom, 1)
}

func (s *suite) testClose(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	alice := account(t, dom, "alice")
	if err := st.CreateAccount(t.Context(), alice); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range everyMethod(t, t.Context(), st, dom) {
		if !errors.Is(err, backends.ErrClosed) {
			t.Errorf("%s after Close: error %v, want ErrClosed", name, err)
		}
	}
	_ = st.Close() // a second Close must not panic; its error is the engine's business
}

func (s *suite) testPersistence(t *testing.T) {
	if s.cfg.reopen == nil {
		t.Skip("the store is not durable (no Reopen option)")
	}
	st := s.open(t)
	ctx := t.Context()
	dom := domain(t)
	alice, bob, carol := account(t, dom, "alice"), account(t, dom, "bob"), account(t, dom, "carol")
	if err := st.CreateAccount(ctx, alice); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := st.PutAccounts(ctx, []backends.Account{bob, carol}); err != nil {
		t.Fatalf("PutAccounts: %v", err)
	}
	if err := st.DeleteAccount(ctx, dom, "bob"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	alice.Credentials = backends.Credentials{SHA256: keys(t, 32)}
	if err := st.SetCredentials(ctx, dom, "alice", alice.Credentials); err != nil {
		t.Fatalf("SetCredentials: %v", err)
	}

	for round := range 2 {
		st = s.cfg.reopen(t, st)
		if st == nil {
			t.Fatal("reopen returned nil")
		}
		reopened := st
		t.Cleanup(func() { _ = reopened.Close() })
		wantAccount(t, st, alice)
		wantAccount(t, st, carol)
		wantAbsent(t, st, dom, "bob")
		wantCount(t, st, dom, 2)
		users, err := st.ListAccounts(ctx, dom, "", 10)
		if err != nil || !slices.Equal(users, []string{"alice", "carol"}) {
			t.Fatalf("round %d: ListAccounts = %q, %v", round, users, err)
		}
		// The reopened store accepts writes that survive the next reopen.
		if round == 0 {
			d := account(t, dom, "dave")
			if err := st.CreateAccount(ctx, d); err != nil {
				t.Fatalf("CreateAccount after reopen: %v", err)
			}
			if err := st.DeleteAccount(ctx, dom, "dave"); err != nil {
				t.Fatalf("DeleteAccount after reopen: %v", err)
			}
		}
	}
}
