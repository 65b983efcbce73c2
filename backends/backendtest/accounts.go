package backendtest

import (
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

func (s *suite) testCreateAndRead(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	alice := account(t, dom, "alice")
	if err := st.CreateAccount(t.Context(), alice); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	wantAccount(t, st, alice)
	wantAbsent(t, st, dom, "bob")
	wantAbsent(t, st, domain(t), "alice")
	wantAbsent(t, st, dom, "alic")
	wantAbsent(t, st, dom, "alice2")
}

func (s *suite) testCreateExisting(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	first := account(t, dom, "alice")
	if err := st.CreateAccount(t.Context(), first); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	second := account(t, dom, "alice")
	second.Created = first.Created.Add(time.Hour)
	wantErr(t, "second CreateAccount", st.CreateAccount(t.Context(), second), backends.ErrExists)
	wantAccount(t, st, first)
	wantCount(t, st, dom, 1)
}

func (s *suite) testCreatedDefault(t *testing.T) {
	st := s.open(t)
	a := account(t, domain(t), "alice")
	a.Created = time.Time{}
	before := time.Now().Add(-time.Second)
	if err := st.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	b := account(t, a.Domain, "bob")
	b.Created = time.Time{}
	if err := st.PutAccounts(t.Context(), []backends.Account{b}); err != nil {
		t.Fatalf("PutAccounts: %v", err)
	}
	after := time.Now().Add(time.Second)
	for _, user := range []string{"alice", "bob"} {
		got, err := st.Account(t.Context(), a.Domain, user)
		if err != nil {
			t.Fatalf("Account(%s): %v", user, err)
		}
		if got.Created.Before(before) || got.Created.After(after) {
			t.Errorf("%s: Created = %v, want the time of the write (%v to %v)", user, got.Created, before, after)
		}
	}
}

func (s *suite) testCredentialSets(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	long := keys(t, 32)
	long.Salt = make([]byte, backends.MaxSaltLen)
	long.Iterations = backends.MaxIterations
	cases := map[string]backends.Credentials{
		"none":       {},
		"sha1":       {SHA1: keys(t, 20)},
		"sha256":     {SHA256: keys(t, 32)},
		"sha512":     {SHA512: keys(t, 64)},
		"sha256+512": {SHA256: keys(t, 32), SHA512: keys(t, 64)},
		"all":        fullCredentials(t),
		"limits":     {SHA1: &backends.ScramKeys{Salt: []byte{0}, Iterations: 1, StoredKey: make([]byte, 20), ServerKey: make([]byte, 20)}, SHA256: long},
	}
	for user, c := range cases {
		a := account(t, dom, user)
		a.Credentials = c
		if err := st.CreateAccount(t.Context(), a); err != nil {
			t.Fatalf("CreateAccount(%s): %v", user, err)
		}
		wantAccount(t, st, a)
	}
}

func (s *suite) testInvalid(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	ctx := t.Context()
	tooLong := strings.Repeat("x", backends.MaxPartLen+1)
	longest := strings.Repeat("y", backends.MaxPartLen)

	ok := account(t, dom, longest)
	if err := st.CreateAccount(ctx, ok); err != nil {
		t.Fatalf("CreateAccount with a %d-byte user: %v", len(longest), err)
	}
	wantAccount(t, st, ok)

	bad := map[string]func(a *backends.Account){
		"empty user":      func(a *backends.Account) { a.User = "" },
		"empty domain":    func(a *backends.Account) { a.Domain = "" },
		"long user":       func(a *backends.Account) { a.User = tooLong },
		"long domain":     func(a *backends.Account) { a.Domain = tooLong },
		"empty salt":      func(a *backends.Account) { a.Credentials.SHA256.Salt = nil },
		"long salt":       func(a *backends.Account) { a.Credentials.SHA256.Salt = make([]byte, backends.MaxSaltLen+1) },
		"0 iterations":    func(a *backends.Account) { a.Credentials.SHA1.Iterations = 0 },
		"-1 iterations":   func(a *backends.Account) { a.Credentials.SHA512.Iterations = -1 },
		"short StoredKey": func(a *backends.Account) { a.Credentials.SHA1.StoredKey = a.Credentials.SHA1.StoredKey[:19] },
		"SHA-256 size ServerKey in SHA-512": func(a *backends.Account) {
			a.Credentials.SHA512.ServerKey = a.Credentials.SHA512.ServerKey[:32]
		},
		"swapped sets": func(a *backends.Account) {
			a.Credentials.SHA1, a.Credentials.SHA256 = a.Credentials.SHA256, a.Credentials.SHA1
		},
	}
	for name, mutate := range bad {
		a := account(t, dom, "carol")
		mutate(&a)
		wantErr(t, "CreateAccount("+name+")", st.CreateAccount(ctx, a), backends.ErrInvalid)
		wantErr(t, "PutAccounts("+name+")", st.PutAccounts(ctx, []backends.Account{a}), backends.ErrInvalid)
		if a.User == "carol" && a.Domain == dom {
			wantErr(t, "SetCredentials("+name+")", st.SetCredentials(ctx, ok.Domain, ok.User, a.Credentials), backends.ErrInvalid)
		}
	}
	wantAbsent(t, st, dom, "carol")
	wantAccount(t, st, ok)
	wantCount(t, st, dom, 1)

	keys := [][2]string{{"", "alice"}, {dom, ""}, {tooLong, "alice"}, {dom, tooLong}}
	for _, k := range keys {
		wantErr(t, "Account", errorOf(st.Account(ctx, k[0], k[1])), backends.ErrInvalid)
		wantErr(t, "DeleteAccount", st.DeleteAccount(ctx, k[0], k[1]), backends.ErrInvalid)
		wantErr(t, "SetCredentials", st.SetCredentials(ctx, k[0], k[1], fullCredentials(t)), backends.ErrInvalid)
	}
	for _, d := range []string{"", tooLong} {
		wantErr(t, "ListAccounts", errorOf(st.ListAccounts(ctx, d, "", 10)), backends.ErrInvalid)
		wantErr(t, "CountAccounts", errorOf(st.CountAccounts(ctx, d)), backends.ErrInvalid)
	}
	for _, limit := range []int{0, -1} {
		wantErr(t, "ListAccounts(limit)", errorOf(st.ListAccounts(ctx, dom, "", limit)), backends.ErrInvalid)
	}
}

func (s *suite) testDelete(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	dom := domain(t)
	alice, bob := account(t, dom, "alice"), account(t, dom, "bob")
	for _, a := range []backends.Account{alice, bob} {
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
	}
	if err := st.DeleteAccount(ctx, dom, "alice"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	wantAbsent(t, st, dom, "alice")
	wantAccount(t, st, bob)
	wantCount(t, st, dom, 1)
	wantErr(t, "second DeleteAccount", st.DeleteAccount(ctx, dom, "alice"), backends.ErrNotFound)
	wantErr(t, "DeleteAccount of unknown domain", st.DeleteAccount(ctx, domain(t), "bob"), backends.ErrNotFound)

	// The last account of a domain: the domain must then look unknown, and come back.
	if err := st.DeleteAccount(ctx, dom, "bob"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	wantCount(t, st, dom, 0)
	if users, err := st.ListAccounts(ctx, dom, "", 10); err != nil || len(users) != 0 {
		t.Fatalf("ListAccounts of an emptied domain = %q, %v; want none", users, err)
	}
	again := account(t, dom, "alice")
	if err := st.CreateAccount(ctx, again); err != nil {
		t.Fatalf("CreateAccount after DeleteAccount: %v", err)
	}
	wantAccount(t, st, again)
	wantCount(t, st, dom, 1)
}

func (s *suite) testSetCredentials(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	dom := domain(t)
	alice := account(t, dom, "alice")
	if err := st.CreateAccount(ctx, alice); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	steps := []backends.Credentials{
		fullCredentials(t),
		{SHA256: keys(t, 32)}, // drops SHA-1 and SHA-512
		{},                    // no SCRAM at all
		{SHA1: keys(t, 20), SHA512: keys(t, 64)},
	}
	for i, c := range steps {
		if err := st.SetCredentials(ctx, dom, "alice", c); err != nil {
			t.Fatalf("step %d: SetCredentials: %v", i, err)
		}
		alice.Credentials = c
		wantAccount(t, st, alice) // Created is unchanged
	}
	wantCount(t, st, dom, 1)
	wantErr(t, "SetCredentials of an absent user", st.SetCredentials(ctx, dom, "bob", fullCredentials(t)), backends.ErrNotFound)
	wantErr(t, "SetCredentials of an unknown domain", st.SetCredentials(ctx, domain(t), "alice", fullCredentials(t)), backends.ErrNotFound)
	wantAbsent(t, st, dom, "bob")
}

func (s *suite) testPutAccounts(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	d1, d2 := domain(t), domain(t)
	existing := account(t, d1, "alice")
	if err := st.CreateAccount(ctx, existing); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := st.PutAccounts(ctx, nil); err != nil {
		t.Fatalf("PutAccounts(nil): %v", err)
	}
	overwrite := account(t, d1, "alice")
	overwrite.Created = existing.Created.Add(time.Minute)
	dupFirst, dupLast := account(t, d2, "dup"), account(t, d2, "dup")
	dupLast.Created = dupFirst.Created.Add(time.Hour)
	batch := []backends.Account{
		account(t, d1, "zed"), dupFirst, overwrite, account(t, d2, "bob"), account(t, d1, "bob"), dupLast,
	}
	if err := st.PutAccounts(ctx, batch); err != nil {
		t.Fatalf("PutAccounts: %v", err)
	}
	for i, a := range batch {
		if i == 1 {
			continue // overwritten by dupLast within the same batch
		}
		wantAccount(t, st, a)
	}
	wantCount(t, st, d1, 3)
	wantCount(t, st, d2, 2)
	// Overwriting again changes no count.
	if err := st.PutAccounts(ctx, batch[2:4]); err != nil {
		t.Fatalf("PutAccounts again: %v", err)
	}
	wantCount(t, st, d1, 3)
	wantCount(t, st, d2, 2)
}

func (s *suite) testPutAllOrNothing(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	dom := domain(t)
	kept := account(t, dom, "kept")
	if err := st.CreateAccount(ctx, kept); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	bad := account(t, dom, "bad")
	bad.Credentials.SHA256.Iterations = 0
	replaced := account(t, dom, "kept")
	batch := []backends.Account{account(t, dom, "new1"), replaced, bad, account(t, dom, "new2")}
	wantErr(t, "PutAccounts with an invalid account", st.PutAccounts(ctx, batch), backends.ErrInvalid)
	wantAbsent(t, st, dom, "new1")
	wantAbsent(t, st, dom, "new2")
	wantAbsent(t, st, dom, "bad")
	wantAccount(t, st, kept)
	wantCount(t, st, dom, 1)
}

func (s *suite) testNoSharedMemory(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	a := account(t, domain(t), "alice")
	want := a.Clone()
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	a.Credentials.SHA256.Salt[0] ^= 0xff
	a.Credentials.SHA256.StoredKey[0] ^= 0xff
	a.Credentials.SHA1.Iterations = 1
	wantAccount(t, st, want)

	got, err := st.Account(ctx, want.Domain, want.User)
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	got.Credentials.SHA512.ServerKey[0] ^= 0xff
	got.Credentials.SHA512.Salt[0] ^= 0xff
	got.Credentials.SHA256 = nil
	wantAccount(t, st, want)

	c := fullCredentials(t)
	want.Credentials = c.Clone()
	if err := st.SetCredentials(ctx, want.Domain, want.User, c); err != nil {
		t.Fatalf("SetCredentials: %v", err)
	}
	c.SHA1.ServerKey[0] ^= 0xff
	wantAccount(t, st, want)

	b := account(t, want.Domain, "bob")
	wantB := b.Clone()
	batch := []backends.Account{b}
	if err := st.PutAccounts(ctx, batch); err != nil {
		t.Fatalf("PutAccounts: %v", err)
	}
	batch[0].Credentials.SHA1.Salt[0] ^= 0xff
	batch[0].User = "mallory"
	wantAccount(t, st, wantB)
}

// testKeysAreOpaque catches stores that build keys by joining domain and user with a
// separator, or that interpret bytes: ("d", "a:b") and ("d:a", "b") must stay apart, and
// every byte a JID part may contain must round-trip.
func (s *suite) testKeysAreOpaque(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	d := domain(t)
	accounts := []backends.Account{
		account(t, d, "a:b"),
		account(t, d+":a", "b"),
		account(t, d, "a"),
		account(t, d+".a", "b"),
		account(t, d, "a@b/c"),
		account(t, d, "ñandú"),
		account(t, d, "x\x00y"),
		account(t, d, "*"),
		account(t, d, "%"),
		account(t, d, "a b"),
		account(t, "[::1]", "b"+d),
	}
	for _, a := range accounts {
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Fatalf("CreateAccount(%q@%q): %v", a.User, a.Domain, err)
		}
	}
	for _, a := range accounts {
		wantAccount(t, st, a)
	}
	wantCount(t, st, d, 8)
	wantCount(t, st, d+":a", 1)
	wantCount(t, st, d+".a", 1)
	wantAbsent(t, st, d, "x")
	wantAbsent(t, st, d, "a:b:")
	wantAbsent(t, st, d, "b")
	for _, dom := range []string{d + ":a", d + ".a"} {
		users, err := st.ListAccounts(ctx, dom, "", 100)
		if err != nil || len(users) != 1 || users[0] != "b" {
			t.Errorf("ListAccounts(%q) = %q, %v; want [b]", dom, users, err)
		}
	}
	// Clean up the shared-looking domain so that a shared server is left as found.
	if err := st.DeleteAccount(ctx, "[::1]", "b"+d); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
}
