package backendtest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// createUsers creates the named users in dom with one PutAccounts call.
func createUsers(t *testing.T, st backends.Store, dom string, users []string) {
	t.Helper()
	as := make([]backends.Account, len(users))
	for i, u := range users {
		as[i] = account(t, dom, u)
	}
	if err := st.PutAccounts(t.Context(), as); err != nil {
		t.Fatalf("PutAccounts: %v", err)
	}
}

// walk lists the whole domain page by page and fails t if a page is longer than limit.
func walk(t *testing.T, st backends.Store, dom string, limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for {
		page, err := st.ListAccounts(t.Context(), dom, after, limit)
		if err != nil {
			t.Fatalf("ListAccounts(%q, %q, %d): %v", dom, after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ListAccounts(%q, %q, %d) returned %d users", dom, after, limit, len(page))
		}
		if len(page) == 0 {
			return all
		}
		for i, u := range page {
			if u <= after || (i > 0 && u <= page[i-1]) {
				t.Fatalf("ListAccounts(%q, %q, %d) = %q: not ascending after %q", dom, after, limit, page, after)
			}
		}
		all = append(all, page...)
		after = page[len(page)-1]
	}
}

func (s *suite) testListOrder(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	// Byte-wise order: digits < upper case < lower case < multi-byte UTF-8, and a
	// prefix sorts before its extensions.
	users := []string{"é", "bob", "Zed", "alice", "al", "alice0", "9", "alice-", "a\x00", "ñ", "\x7f", "z"}
	createUsers(t, st, dom, users)
	want := slices.Clone(users)
	slices.Sort(want) // Go compares strings byte-wise
	got, err := st.ListAccounts(t.Context(), dom, "", 100)
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListAccounts = %q\nwant %q", got, want)
	}
}

func (s *suite) testListPaging(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	users := []string{"b", "d", "f", "h", "j"}
	createUsers(t, st, dom, users)
	// Another domain whose name extends dom's must not bleed into it.
	createUsers(t, st, dom+"x", []string{"a", "c", "k"})
	cases := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 1, []string{"b"}},
		{"", 2, []string{"b", "d"}},
		{"", 5, users},
		{"", 1000, users},
		{"a", 2, []string{"b", "d"}}, // after sorts before every user
		{"b", 2, []string{"d", "f"}}, // after exists: excluded
		{"c", 2, []string{"d", "f"}}, // after does not exist: starts at the next one
		{"b\x00", 1, []string{"d"}},  // just above an existing user
		{"h", 10, []string{"j"}},     // a short last page
		{"i", 10, []string{"j"}},     //
		{"j", 10, nil},               // after is the last user
		{"k", 10, nil},               // after sorts after every user
		{"\xff\xff", 10, nil},        // after is beyond any UTF-8 string
		{"B", 1, []string{"b"}},      // upper case sorts first
		{"d", 3, []string{"f", "h", "j"}},
	}
	for _, c := range cases {
		got, err := st.ListAccounts(t.Context(), dom, c.after, c.limit)
		if err != nil {
			t.Fatalf("ListAccounts(%q, %d): %v", c.after, c.limit, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ListAccounts(after %q, limit %d) = %q, want %q", c.after, c.limit, got, c.want)
		}
	}
	for limit := 1; limit <= 6; limit++ {
		if got := walk(t, st, dom, limit); !slices.Equal(got, users) {
			t.Errorf("walking with limit %d = %q, want %q", limit, got, users)
		}
	}
	got, err := st.ListAccounts(t.Context(), domain(t), "", 10)
	if err != nil || len(got) != 0 {
		t.Errorf("ListAccounts of an unknown domain = %q, %v; want none and no error", got, err)
	}
}

func (s *suite) testListLarge(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	const n = 2500
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i) // not created in sorted order
	}
	createUsers(t, st, dom, users)
	wantCount(t, st, dom, n)
	want := slices.Clone(users)
	slices.Sort(want)
	for _, limit := range []int{1000, 999, 2500, 5000} {
		if got := walk(t, st, dom, limit); !slices.Equal(got, want) {
			t.Fatalf("walking with limit %d: got %d users, not the %d sorted ones", limit, len(got), len(want))
		}
	}
}

func (s *suite) testCount(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	d1, d2 := domain(t), domain(t)
	wantCount(t, st, d1, 0)
	createUsers(t, st, d1, []string{"a", "b", "c"})
	createUsers(t, st, d2, []string{"a"})
	wantCount(t, st, d1, 3)
	wantCount(t, st, d2, 1)
	if err := st.CreateAccount(ctx, account(t, d1, "d")); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	wantCount(t, st, d1, 4)
	_ = st.CreateAccount(ctx, account(t, d1, "d")) // ErrExists: no change
	wantCount(t, st, d1, 4)
	if err := st.DeleteAccount(ctx, d1, "a"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	_ = st.DeleteAccount(ctx, d1, "a") // ErrNotFound: no change
	wantCount(t, st, d1, 3)
	if err := st.SetCredentials(ctx, d1, "b", fullCredentials(t)); err != nil {
		t.Fatalf("SetCredentials: %v", err)
	}
	wantCount(t, st, d1, 3)
	wantCount(t, st, d2, 1)
}
