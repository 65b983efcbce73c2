package backendtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// testRosterBulk checks backends.RosterBulkWriter; a store without it skips.
func (s *suite) testRosterBulk(t *testing.T) {
	_, r := s.rosters(t)
	bw, ok := r.(backends.RosterBulkWriter)
	if !ok {
		t.Skip("the store does not implement backends.RosterBulkWriter")
	}
	ctx, dom, dom2 := t.Context(), domain(t), domain(t)

	// juliet has an item and a pending request before the batch: the batch adds to
	// her roster and leaves the request alone.
	before := backends.RosterItem{Contact: "friar@example.org", Name: "Laurence"}
	v0, err := r.PutRosterItem(ctx, dom, "juliet", before)
	if err != nil {
		t.Fatalf("PutRosterItem: %v", err)
	}
	if err := r.PutPendingIn(ctx, dom, "juliet", backends.PendingIn{Contact: "paris@example.com"}); err != nil {
		t.Fatalf("PutPendingIn: %v", err)
	}

	items := sampleItems()
	first := backends.RosterItem{Contact: items[3].Contact, Name: "replaced by a later entry", Subscription: backends.SubNone}
	entries := []backends.RosterEntry{
		{Domain: dom, User: "juliet", Item: first},
		{Domain: dom2, User: "juliet", Item: items[0]}, // same user, other domain: another roster
		{Domain: dom, User: "romeo", Item: items[2]},
	}
	for i := len(items) - 1; i >= 0; i-- { // out of order: Roster must still sort
		entries = append(entries, backends.RosterEntry{Domain: dom, User: "juliet", Item: items[i]})
	}
	entries = append(entries, backends.RosterEntry{Domain: dom, User: "romeo", Item: items[1]})
	if err := bw.PutRosterItems(ctx, entries); err != nil {
		t.Fatalf("PutRosterItems: %v", err)
	}
	vj := wantRoster(t, r, dom, "juliet", []backends.RosterItem{items[0], before, items[1], items[2], items[3]})
	vr := wantRoster(t, r, dom, "romeo", []backends.RosterItem{items[1], items[2]})
	wantRoster(t, r, dom2, "juliet", items[:1])
	if vj <= v0 {
		t.Errorf("juliet's roster went from version %d to %d: want above", v0, vj)
	}
	if ps, err := r.PendingIns(ctx, dom, "juliet"); err != nil || len(ps) != 1 {
		t.Errorf("pending requests after the batch: %v, %v; want the one", ps, err)
	}

	// A later single write changes the version again.
	if v, err := r.PutRosterItem(ctx, dom, "romeo", items[0]); err != nil || v == vr {
		t.Errorf("PutRosterItem after the batch = %d, %v; want a new version (the batch gave %d)", v, err, vr)
	}

	// All or nothing: one invalid entry, and no roster changes.
	vj, _ = r.RosterVersion(ctx, dom, "juliet")
	bad := []backends.RosterEntry{
		{Domain: dom, User: "juliet", Item: backends.RosterItem{Contact: "tybalt@example.org"}},
		{Domain: dom, User: "mercutio", Item: backends.RosterItem{Contact: "a@b", Groups: []string{"ok", ""}}},
		{Domain: dom, User: "nurse", Item: backends.RosterItem{Contact: "a@b"}},
	}
	wantErr(t, "PutRosterItems with an empty group", bw.PutRosterItems(ctx, bad), backends.ErrInvalid)
	bad[1] = backends.RosterEntry{Domain: dom, User: "", Item: backends.RosterItem{Contact: "a@b"}}
	wantErr(t, "PutRosterItems with no user", bw.PutRosterItems(ctx, bad), backends.ErrInvalid)
	if v, _ := r.RosterVersion(ctx, dom, "juliet"); v != vj {
		t.Errorf("a refused batch moved juliet's version from %d to %d", vj, v)
	}
	for _, u := range []string{"mercutio", "nurse"} {
		if got, v, _ := r.Roster(ctx, dom, u); len(got) != 0 || v != 0 {
			t.Errorf("a refused batch left %s with %v at version %d", u, got, v)
		}
	}

	if err := bw.PutRosterItems(ctx, nil); err != nil {
		t.Errorf("PutRosterItems of nothing: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := bw.PutRosterItems(cancelled, bad[:1]); !errors.Is(err, context.Canceled) {
		t.Errorf("PutRosterItems with a cancelled context: %v, want context.Canceled", err)
	}

	// A larger batch in random order, over many rosters: each ends up complete and sorted.
	const owners, per = 20, 60
	var big []backends.RosterEntry
	want := map[string][]backends.RosterItem{}
	for o := range owners {
		u := fmt.Sprintf("u%d", o)
		for c := range per {
			it := backends.RosterItem{Contact: fmt.Sprintf("c%03d@example.net", c), Subscription: backends.SubBoth, Groups: []string{"Ring"}}
			big = append(big, backends.RosterEntry{Domain: dom2, User: u, Item: it})
			want[u] = append(want[u], it)
		}
	}
	rand.Shuffle(len(big), func(i, j int) { big[i], big[j] = big[j], big[i] })
	if err := bw.PutRosterItems(ctx, big); err != nil {
		t.Fatalf("PutRosterItems of %d entries: %v", len(big), err)
	}
	for u, items := range want {
		slices.SortFunc(items, func(a, b backends.RosterItem) int { return strings.Compare(a.Contact, b.Contact) })
		wantRoster(t, r, dom2, u, items)
	}
}
