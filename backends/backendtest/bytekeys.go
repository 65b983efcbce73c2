package backendtest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// byteKeys are keys that a store comparing text rather than bytes would confuse: case,
// trailing and leading spaces (which SQL's PAD SPACE collations ignore), bytes that
// are not UTF-8, and a NUL. Each is distinct from all the others.
var byteKeys = []string{"k", "K", "k ", " k", "k\t", "k\xff", "k\xfe\xff", "\xc3\xa9", "e\xcc\x81", "k\x00"}

// testKeysAreBytes checks that accounts, roster contacts and offline queues are keyed
// by the exact bytes: every key of byteKeys is a key of its own, and listing is in
// byte-wise order.
func (s *suite) testKeysAreBytes(t *testing.T) {
	st := s.open(t)
	ctx, dom := t.Context(), domain(t)
	for _, u := range byteKeys {
		if err := st.CreateAccount(ctx, account(t, dom, u)); err != nil {
			t.Fatalf("CreateAccount(%q): %v", u, err)
		}
	}
	wantCount(t, st, dom, len(byteKeys))
	got, err := st.ListAccounts(ctx, dom, "", 100)
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	want := slices.Clone(byteKeys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ListAccounts = %q, want %q (byte-wise order)", got, want)
	}
	for _, u := range byteKeys {
		a, err := st.Account(ctx, dom, u)
		if err != nil || a.User != u || !a.Created.Equal(time.Unix(1_700_000_000+int64(len(u)), 0)) {
			t.Fatalf("Account(%q) = %q, %v", u, a.User, err)
		}
	}

	if r, ok := st.(backends.Rosters); ok {
		var items []backends.RosterItem
		for i, k := range byteKeys {
			it := backends.RosterItem{Contact: "c" + k + "@example.org", Name: strings.Repeat("n", i+1)}
			if _, err := r.PutRosterItem(ctx, dom, "owner", it); err != nil {
				t.Fatalf("PutRosterItem(%q): %v", it.Contact, err)
			}
			items = append(items, it)
		}
		slices.SortFunc(items, func(a, b backends.RosterItem) int { return strings.Compare(a.Contact, b.Contact) })
		wantRoster(t, r, dom, "owner", items)
	}

	if o, ok := st.(backends.Offline); ok {
		var batch []backends.OfflineMessage
		for i, k := range byteKeys {
			batch = append(batch, msg(dom, k, i))
		}
		stored, _ := appendOK(t, o, 1, batch...)
		if len(stored) != len(batch) {
			t.Fatalf("AppendOffline(limit 1) to %d distinct accounts stored %d", len(batch), len(stored))
		}
		for i, k := range byteKeys {
			wantOffline(t, o, dom, k, stored[i:i+1])
		}
	}
}
