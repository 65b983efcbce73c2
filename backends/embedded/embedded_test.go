package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/backendtest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	backendtest.Run(t,
		func(t *testing.T) backends.Store { return openTemp(t) },
		backendtest.Reopen(func(t *testing.T, st backends.Store) backends.Store {
			path := st.(*Store).Path()
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s, err := Open(filepath.Dir(path), Options{FileName: filepath.Base(path)})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			return s
		}))
}

// TestConformanceSmallBatches runs the suite with groups of at most two writes, so that
// groups are cut and retried often.
func TestConformanceSmallBatches(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backends.Store {
		s, err := Open(t.TempDir(), Options{MaxBatch: 2})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func testAccount(domain, user string) backends.Account {
	k := func(size int) *backends.ScramKeys {
		return &backends.ScramKeys{Salt: []byte("salt-" + user), Iterations: 4096,
			StoredKey: make([]byte, size), ServerKey: make([]byte, size)}
	}
	return backends.Account{Domain: domain, User: user, Created: time.Unix(1_700_000_000, 0),
		Credentials: backends.Credentials{SHA1: k(20), SHA256: k(32), SHA512: k(64)}}
}

func TestOpenLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.Path() != filepath.Join(dir, DefaultFileName) {
		t.Errorf("Path() = %q", s.Path())
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	if s.db.NoSync {
		t.Error("bbolt NoSync is set: writes would not be durable")
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keySchema)
		if len(v) != 4 || binary.BigEndian.Uint32(v) != schemaVersion {
			return fmt.Errorf("schema version %x, want %d", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeRaw creates a bbolt file at dir/hermod.db and lets fn shape it.
func writeRaw(t *testing.T, dir string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, DefaultFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefuses(t *testing.T) {
	cases := map[string]func(tx *bbolt.Tx) error{
		"newer schema": func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket(bucketMeta)
			return b.Put(keySchema, binary.BigEndian.AppendUint32(nil, schemaVersion+1))
		},
		"older schema": func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket(bucketMeta)
			return b.Put(keySchema, binary.BigEndian.AppendUint32(nil, 0))
		},
		"garbled schema": func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket(bucketMeta)
			return b.Put(keySchema, []byte("1"))
		},
		"foreign file": func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("somebody-else"))
			return err
		},
	}
	for name, shape := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeRaw(t, dir, shape)
			s, err := Open(dir, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), "embedded: open") {
				t.Errorf("error without context: %v", err)
			}
		})
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	s2, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("a second Open of the same file succeeded")
	}
	if !errors.Is(err, bbolt.ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Fatalf("second Open: %v after %v, want a lock timeout", err, time.Since(start))
	}
}

func TestCorruptRecord(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateAccount(ctx, testAccount("example.org", "alice")); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return usersOf(tx, "example.org").Put([]byte("alice"), []byte{recordFormat, 0x80})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Account(ctx, "example.org", "alice")
	if !errors.Is(err, errCorrupt) || errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Account of a corrupt record: %v", err)
	}
	err = s.SetCredentials(ctx, "example.org", "alice", backends.Credentials{})
	if !errors.Is(err, errCorrupt) {
		t.Errorf("SetCredentials of a corrupt record: %v", err)
	}
	// The failure of one write must not fail the writes grouped with it.
	if err := s.CreateAccount(ctx, testAccount("example.org", "bob")); err != nil {
		t.Errorf("CreateAccount after a failed write: %v", err)
	}
}

// TestGroupCommit checks that concurrent writes share commits, and that a write whose
// group fails is retried alone while the rest of its group commits.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	const n = 64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateAccount(context.Background(), testAccount("example.org", fmt.Sprint("u", i)))
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	commits := s.stats.commits.Load()
	if commits > n/2 {
		t.Errorf("%d concurrent writes took %d commits: they are not grouped", n, commits)
	}
	t.Logf("%d writes in %d commits", n, commits)

	// A failing operation in the middle of a group.
	boom := errors.New("boom")
	ops := []*writeOp{
		{apply: func(tx *bbolt.Tx) (error, error) {
			return nil, usersOf(tx, "example.org").Put([]byte("x"), rec(t, "x"))
		}},
		{apply: func(*bbolt.Tx) (error, error) { return nil, boom }},
		{apply: func(tx *bbolt.Tx) (error, error) {
			return nil, usersOf(tx, "example.org").Put([]byte("y"), rec(t, "y"))
		}},
	}
	for _, op := range ops {
		op.done = make(chan error, 1)
	}
	s.commit(slices.Clone(ops)) // commit reorders its argument
	if err := <-ops[1].done; !errors.Is(err, boom) {
		t.Errorf("failing operation reported %v", err)
	}
	for _, i := range []int{0, 2} {
		if err := <-ops[i].done; err != nil {
			t.Errorf("operation %d reported %v", i, err)
		}
	}
	for _, u := range []string{"x", "y"} {
		if _, err := s.Account(t.Context(), "example.org", u); err != nil {
			t.Errorf("write %s grouped with a failure was lost: %v", u, err)
		}
	}
}

func rec(t *testing.T, user string) []byte {
	a := testAccount("example.org", user)
	r, err := prepare(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCloseWaitsForWrites checks that Close lets every handed-over write finish.
func TestCloseWaitsForWrites(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []string
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				user := fmt.Sprintf("w%d-%d", w, i)
				err := s.CreateAccount(context.Background(), testAccount("example.org", user))
				if errors.Is(err, backends.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, user)
				mu.Unlock()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range acked {
		if _, err := s.Account(t.Context(), "example.org", u); err != nil {
			t.Fatalf("acknowledged write %s lost: %v", u, err)
		}
	}
	if n, _ := s.CountAccounts(t.Context(), "example.org"); n != len(acked) {
		t.Errorf("count %d after %d acknowledged creates", n, len(acked))
	}
}
