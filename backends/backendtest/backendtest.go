// Package backendtest is the conformance suite of backends.Store: every storage engine
// (embedded, memory, MySQL, Redis) runs the same cases from its own tests, so that the
// behaviour documented in package backends holds whichever engine a server is configured
// with.
//
// It is imported only by tests. It must not depend on any particular engine, and its
// cases must not depend on the store being empty: each case works in domains of its own,
// so a factory may hand out handles on one shared database server without wiping it.
// Cases leave their random domains behind; such a factory may drop them in a cleanup.
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backends.Store { return openTemp(t) },
//			backendtest.Reopen(reopen))
//	}
package backendtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Option configures Run.
type Option func(*config)

type config struct {
	reopen func(t *testing.T, s backends.Store) backends.Store
}

// Reopen enables the persistence cases. fn must close s and return a new store over the
// same durable data, as a restarted server would see it. Engines without durability
// (memory) do not pass it, and those cases are skipped.
func Reopen(fn func(t *testing.T, s backends.Store) backends.Store) Option {
	return func(c *config) { c.reopen = fn }
}

// Run runs the whole suite as subtests of t. newStore must return a working store; it is
// called once per case, possibly from parallel subtests. The suite closes what it gets.
func Run(t *testing.T, newStore func(t *testing.T) backends.Store, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{newStore: newStore, cfg: cfg}
	cases := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"CreateAndRead", s.testCreateAndRead},
		{"CreateExisting", s.testCreateExisting},
		{"CreatedDefaultsToNow", s.testCreatedDefault},
		{"CredentialSets", s.testCredentialSets},
		{"Invalid", s.testInvalid},
		{"Delete", s.testDelete},
		{"SetCredentials", s.testSetCredentials},
		{"PutAccounts", s.testPutAccounts},
		{"PutAccountsAllOrNothing", s.testPutAllOrNothing},
		{"NoSharedMemory", s.testNoSharedMemory},
		{"KeysAreOpaque", s.testKeysAreOpaque},
		{"KeysAreBytes", s.testKeysAreBytes},
		{"ListOrder", s.testListOrder},
		{"ListPaging", s.testListPaging},
		{"ListLargeDomain", s.testListLarge},
		{"Count", s.testCount},
		{"ConcurrentDistinctCreates", s.testConcurrentDistinct},
		{"ConcurrentSameCreate", s.testConcurrentSame},
		{"ConcurrentMixed", s.testConcurrentMixed},
		{"CancelledContext", s.testCancelledContext},
		{"Close", s.testClose},
		{"Persistence", s.testPersistence},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t)
		})
	}
	s.runRosters(t)
	s.runPrivacy(t)
	s.runUserData(t)
}

type suite struct {
	newStore func(t *testing.T) backends.Store
	cfg      config
}

// open returns a fresh store that is closed when the case ends. A second Close (after a
// case closed it itself) may fail; only the case that tests Close judges its result.
func (s *suite) open(t *testing.T) backends.Store {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("newStore returned nil")
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// domain returns a domain no other case and no earlier run uses.
func domain(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b[:]) + ".example"
}

// keys returns SCRAM keys of the right sizes filled with random bytes: stores treat them
// as opaque, so they need not come from a password.
func keys(t *testing.T, size int) *backends.ScramKeys {
	t.Helper()
	buf := make([]byte, 16+2*size)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	return &backends.ScramKeys{
		Salt:       buf[:16:16],
		Iterations: 4096,
		StoredKey:  buf[16 : 16+size : 16+size],
		ServerKey:  buf[16+size:],
	}
}

func fullCredentials(t *testing.T) backends.Credentials {
	return backends.Credentials{SHA1: keys(t, 20), SHA256: keys(t, 32), SHA512: keys(t, 64)}
}

// account returns a valid account with all three credential sets and a creation time in
// whole seconds, the precision every store keeps.
func account(t *testing.T, dom, user string) backends.Account {
	return backends.Account{
		Domain:      dom,
		User:        user,
		Credentials: fullCredentials(t),
		Created:     time.Unix(1_700_000_000+int64(len(user)), 0),
	}
}

func sameKeys(a, b *backends.ScramKeys) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Iterations == b.Iterations && bytes.Equal(a.Salt, b.Salt) &&
		bytes.Equal(a.StoredKey, b.StoredKey) && bytes.Equal(a.ServerKey, b.ServerKey)
}

func sameCredentials(a, b backends.Credentials) bool {
	return sameKeys(a.SHA1, b.SHA1) && sameKeys(a.SHA256, b.SHA256) && sameKeys(a.SHA512, b.SHA512)
}

func describe(a backends.Account) string {
	k := func(k *backends.ScramKeys) string {
		if k == nil {
			return "nil"
		}
		return fmt.Sprintf("{salt %x, %d, %x, %x}", k.Salt, k.Iterations, k.StoredKey, k.ServerKey)
	}
	return fmt.Sprintf("%q@%q created %s SHA1 %s SHA256 %s SHA512 %s", a.User, a.Domain,
		a.Created.UTC().Format(time.RFC3339Nano), k(a.Credentials.SHA1), k(a.Credentials.SHA256),
		k(a.Credentials.SHA512))
}

// wantAccount fails t unless the store holds exactly want.
func wantAccount(t *testing.T, st backends.Store, want backends.Account) {
	t.Helper()
	got, err := st.Account(t.Context(), want.Domain, want.User)
	if err != nil {
		t.Fatalf("Account(%q, %q): %v", want.Domain, want.User, err)
	}
	if got.Domain != want.Domain || got.User != want.User || !got.Created.Equal(want.Created) ||
		!sameCredentials(got.Credentials, want.Credentials) {
		t.Fatalf("Account(%q, %q):\n got  %s\n want %s", want.Domain, want.User, describe(got), describe(want))
	}
}

// wantCount fails t unless CountAccounts(dom) is n.
func wantCount(t *testing.T, st backends.Store, dom string, n int) {
	t.Helper()
	got, err := st.CountAccounts(t.Context(), dom)
	if err != nil {
		t.Fatalf("CountAccounts(%q): %v", dom, err)
	}
	if got != n {
		t.Fatalf("CountAccounts(%q) = %d, want %d", dom, got, n)
	}
}

// wantAbsent fails t unless the account is absent.
func wantAbsent(t *testing.T, st backends.Store, dom, user string) {
	t.Helper()
	wantErr(t, "Account", errorOf(st.Account(t.Context(), dom, user)), backends.ErrNotFound)
}

func errorOf[T any](_ T, err error) error { return err }

// wantErr fails t unless err wraps target and says something beyond it (the context
// every store must add).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want one wrapping %q", what, err, target)
	}
	if err.Error() == target.Error() {
		t.Errorf("%s: error %q carries no context", what, err)
	}
}
