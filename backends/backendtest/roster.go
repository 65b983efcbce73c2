package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// runRosters runs the backends.Rosters cases as subtests of t. A store that does not
// implement Rosters skips them.
func (s *suite) runRosters(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Empty", s.testRosterEmpty},
		{"PutAndRead", s.testRosterPutAndRead},
		{"Isolation", s.testRosterIsolation},
		{"DeleteItem", s.testRosterDeleteItem},
		{"Update", s.testRosterUpdate},
		{"UpdateConcurrent", s.testRosterUpdateConcurrent},
		{"Invalid", s.testRosterInvalid},
		{"Pending", s.testRosterPending},
		{"NoSharedMemory", s.testRosterNoSharedMemory},
		{"DeleteRoster", s.testRosterDelete},
		{"CancelledContext", s.testRosterCancelled},
		{"Close", s.testRosterClose},
		{"Persistence", s.testRosterPersistence},
		{"BulkPut", s.testRosterBulk},
	}
	t.Run("Rosters", func(t *testing.T) {
		t.Parallel()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t)
			})
		}
	})
}

// rosters opens a store and returns it as Rosters, skipping the case when the store
// does not implement it.
func (s *suite) rosters(t *testing.T) (backends.Store, backends.Rosters) {
	t.Helper()
	st := s.open(t)
	r, ok := st.(backends.Rosters)
	if !ok {
		t.Skip("the store does not implement backends.Rosters")
	}
	return st, r
}

// sampleItems are valid items covering every field, ordered by Contact.
func sampleItems() []backends.RosterItem {
	return []backends.RosterItem{
		{Contact: "benvolio@example.org", Subscription: backends.SubNone, Ask: true},
		{Contact: "mercutio@example.net", Name: "Mercutio", Subscription: backends.SubFrom, Approved: true},
		{Contact: "nurse@example.com", Name: "Nurse", Groups: []string{"Servants"}, Subscription: backends.SubTo},
		{Contact: "romeo@example.net", Name: "Romeo ❤ Ünïcødé", Groups: []string{"Friends", "Lovers", "Ünïcødé <&>"},
			Subscription: backends.SubBoth, Ask: false, Approved: false},
	}
}

func describeItem(it backends.RosterItem) string {
	return fmt.Sprintf("{%q name=%q groups=%q sub=%s ask=%v approved=%v}", it.Contact, it.Name, it.Groups,
		it.Subscription, it.Ask, it.Approved)
}

func sameItem(a, b backends.RosterItem) bool {
	return a.Contact == b.Contact && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.Ask == b.Ask && a.Approved == b.Approved
}

// wantRoster fails t unless the roster holds exactly want (in Contact order) at a
// version other than 0, and returns the version.
func wantRoster(t *testing.T, r backends.Rosters, dom, user string, want []backends.RosterItem) uint64 {
	t.Helper()
	got, ver, err := r.Roster(t.Context(), dom, user)
	if err != nil {
		t.Fatalf("Roster(%s@%s): %v", user, dom, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Roster(%s@%s): %d items, want %d: %v", user, dom, len(got), len(want), got)
	}
	for i := range want {
		if !sameItem(got[i], want[i]) {
			t.Fatalf("Roster(%s@%s) item %d:\n got  %s\n want %s", user, dom, i, describeItem(got[i]), describeItem(want[i]))
		}
	}
	v2, err := r.RosterVersion(t.Context(), dom, user)
	if err != nil || v2 != ver {
		t.Fatalf("RosterVersion = %d, %v; Roster said %d", v2, err, ver)
	}
	return ver
}

func (s *suite) testRosterEmpty(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	items, ver, err := r.Roster(ctx, dom, "alice")
	if err != nil || len(items) != 0 || ver != 0 {
		t.Fatalf("Roster of an unknown user = %v, %d, %v; want nothing, 0, nil", items, ver, err)
	}
	if v, err := r.RosterVersion(ctx, dom, "alice"); err != nil || v != 0 {
		t.Fatalf("RosterVersion = %d, %v; want 0, nil", v, err)
	}
	wantErr(t, "RosterItem", errorOf(r.RosterItem(ctx, dom, "alice", "bob@example.com")), backends.ErrNotFound)
	wantErr(t, "DeleteRosterItem", errorOf(r.DeleteRosterItem(ctx, dom, "alice", "bob@example.com")), backends.ErrNotFound)
	wantErr(t, "PendingIn", errorOf(r.PendingIn(ctx, dom, "alice", "bob@example.com")), backends.ErrNotFound)
	if ps, err := r.PendingIns(ctx, dom, "alice"); err != nil || len(ps) != 0 {
		t.Fatalf("PendingIns = %v, %v; want none", ps, err)
	}
	if ok, err := r.DeletePendingIn(ctx, dom, "alice", "bob@example.com"); err != nil || ok {
		t.Fatalf("DeletePendingIn of nothing = %v, %v; want false, nil", ok, err)
	}
	if err := r.DeleteRoster(ctx, dom, "alice"); err != nil {
		t.Fatalf("DeleteRoster of nothing: %v", err)
	}
	if v, _ := r.RosterVersion(ctx, dom, "alice"); v != 0 {
		t.Fatalf("a failed delete changed the version to %d", v)
	}
}

func (s *suite) testRosterPutAndRead(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	items := sampleItems()
	seen := map[uint64]bool{0: true}
	// Put in reverse order: Roster must sort.
	for i := len(items) - 1; i >= 0; i-- {
		v, err := r.PutRosterItem(ctx, dom, "juliet", items[i])
		if err != nil {
			t.Fatalf("PutRosterItem(%s): %v", items[i].Contact, err)
		}
		if seen[v] {
			t.Fatalf("PutRosterItem returned version %d, already seen", v)
		}
		seen[v] = true
	}
	ver := wantRoster(t, r, dom, "juliet", items)
	if !seen[ver] || ver == 0 {
		t.Fatalf("roster version %d is not the last write's", ver)
	}
	for _, want := range items {
		got, err := r.RosterItem(ctx, dom, "juliet", want.Contact)
		if err != nil || !sameItem(got, want) {
			t.Fatalf("RosterItem(%s) = %s, %v; want %s", want.Contact, describeItem(got), err, describeItem(want))
		}
	}
	// A put replaces the whole item (RFC 6121 2.4: a roster item is atomic).
	replaced := backends.RosterItem{Contact: "romeo@example.net", Subscription: backends.SubTo}
	v, err := r.PutRosterItem(ctx, dom, "juliet", replaced)
	if err != nil {
		t.Fatalf("PutRosterItem (replace): %v", err)
	}
	if seen[v] {
		t.Fatalf("replacing put returned version %d, already seen", v)
	}
	items[3] = replaced
	if got := wantRoster(t, r, dom, "juliet", items); got != v {
		t.Fatalf("version %d after a put that returned %d", got, v)
	}
}

func (s *suite) testRosterIsolation(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom, dom2 := t.Context(), domain(t), domain(t)
	a := backends.RosterItem{Contact: "x@example.com", Name: "for alice"}
	b := backends.RosterItem{Contact: "x@example.com", Name: "for bob"}
	c := backends.RosterItem{Contact: "x@example.com", Name: "for alice elsewhere"}
	for _, w := range []struct {
		dom, user string
		it        backends.RosterItem
	}{{dom, "alice", a}, {dom, "bob", b}, {dom2, "alice", c}} {
		if _, err := r.PutRosterItem(ctx, w.dom, w.user, w.it); err != nil {
			t.Fatalf("PutRosterItem: %v", err)
		}
	}
	wantRoster(t, r, dom, "alice", []backends.RosterItem{a})
	wantRoster(t, r, dom, "bob", []backends.RosterItem{b})
	wantRoster(t, r, dom2, "alice", []backends.RosterItem{c})
	// Prefixes of a key are other keys.
	if items, _, _ := r.Roster(ctx, dom, "alic"); len(items) != 0 {
		t.Fatalf("roster of alic has %v", items)
	}
	// Contacts are opaque: case and bytes matter.
	odd := []backends.RosterItem{
		{Contact: "X@example.com"}, {Contact: "x@example.com/res"}, {Contact: "x@exämple.com"}, {Contact: "x@example.co"},
	}
	for _, it := range odd {
		if _, err := r.PutRosterItem(ctx, dom, "carol", it); err != nil {
			t.Fatalf("PutRosterItem(%q): %v", it.Contact, err)
		}
	}
	slices.SortFunc(odd, func(x, y backends.RosterItem) int { return strings.Compare(x.Contact, y.Contact) })
	wantRoster(t, r, dom, "carol", odd)
	if err := r.DeleteRoster(ctx, dom, "bob"); err != nil {
		t.Fatalf("DeleteRoster(bob): %v", err)
	}
	wantRoster(t, r, dom, "alice", []backends.RosterItem{a})
	wantRoster(t, r, dom2, "alice", []backends.RosterItem{c})
}

func (s *suite) testRosterDeleteItem(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	items := sampleItems()
	var last uint64
	for _, it := range items {
		var err error
		if last, err = r.PutRosterItem(ctx, dom, "juliet", it); err != nil {
			t.Fatalf("PutRosterItem: %v", err)
		}
	}
	if err := r.PutPendingIn(ctx, dom, "juliet", backends.PendingIn{Contact: items[1].Contact}); err != nil {
		t.Fatalf("PutPendingIn: %v", err)
	}
	v, err := r.DeleteRosterItem(ctx, dom, "juliet", items[1].Contact)
	if err != nil {
		t.Fatalf("DeleteRosterItem: %v", err)
	}
	if v == last || v == 0 {
		t.Fatalf("DeleteRosterItem returned version %d (before: %d)", v, last)
	}
	items = slices.Delete(items, 1, 2)
	if got := wantRoster(t, r, dom, "juliet", items); got != v {
		t.Fatalf("version %d after a delete that returned %d", got, v)
	}
	wantErr(t, "RosterItem of a deleted item", errorOf(r.RosterItem(ctx, dom, "juliet", "mercutio@example.net")), backends.ErrNotFound)
	wantErr(t, "second DeleteRosterItem", errorOf(r.DeleteRosterItem(ctx, dom, "juliet", "mercutio@example.net")), backends.ErrNotFound)
	if got, _ := r.RosterVersion(ctx, dom, "juliet"); got != v {
		t.Fatalf("a failed delete changed the version from %d to %d", v, got)
	}
	if _, err := r.PendingIn(ctx, dom, "juliet", "mercutio@example.net"); err != nil {
		t.Fatalf("deleting an item dropped the pending request: %v", err)
	}
}

func (s *suite) testRosterUpdate(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	const who = "romeo@example.net"
	calls := 0
	up, err := r.UpdateRosterItem(ctx, dom, "juliet", who, func(cur backends.RosterItem, found bool) (backends.RosterItem, backends.RosterAction) {
		calls++
		if found || cur.Contact != who || cur.Name != "" || len(cur.Groups) != 0 || cur.Subscription != backends.SubNone {
			t.Errorf("fn got %s, found=%v; want the zero item with Contact set, not found", describeItem(cur), found)
		}
		cur.Ask = true
		cur.Groups = []string{"Friends"}
		return cur, backends.RosterPut
	})
	if err != nil || calls == 0 {
		t.Fatalf("UpdateRosterItem (create): %v after %d calls", err, calls)
	}
	want := backends.RosterItem{Contact: who, Groups: []string{"Friends"}, Ask: true}
	if !up.Exists || !up.Changed || up.Version == 0 || !sameItem(up.Item, want) {
		t.Fatalf("create: %+v", up)
	}
	if got := wantRoster(t, r, dom, "juliet", []backends.RosterItem{want}); got != up.Version {
		t.Fatalf("version %d, update said %d", got, up.Version)
	}
	v1 := up.Version

	// Keep writes nothing.
	up, err = r.UpdateRosterItem(ctx, dom, "juliet", who, func(cur backends.RosterItem, found bool) (backends.RosterItem, backends.RosterAction) {
		if !found || !sameItem(cur, want) {
			t.Errorf("fn got %s, found=%v; want %s", describeItem(cur), found, describeItem(want))
		}
		cur.Name = "not written"
		return cur, backends.RosterKeep
	})
	if err != nil || up.Changed || !up.Exists || up.Version != v1 || !sameItem(up.Item, want) {
		t.Fatalf("keep: %+v, %v", up, err)
	}
	wantRoster(t, r, dom, "juliet", []backends.RosterItem{want})

	// A modification of cur, put back.
	up, err = r.UpdateRosterItem(ctx, dom, "juliet", who, func(cur backends.RosterItem, found bool) (backends.RosterItem, backends.RosterAction) {
		cur.Ask, cur.Subscription = false, backends.SubTo
		return cur, backends.RosterPut
	})
	want = backends.RosterItem{Contact: who, Groups: []string{"Friends"}, Subscription: backends.SubTo}
	if err != nil || !up.Changed || up.Version == v1 || !sameItem(up.Item, want) {
		t.Fatalf("modify: %+v, %v", up, err)
	}
	wantRoster(t, r, dom, "juliet", []backends.RosterItem{want})
	v2 := up.Version

	// A returned item that is invalid, or names another contact, writes nothing.
	for name, bad := range map[string]backends.RosterItem{
		"other contact": {Contact: "mallory@example.com"},
		"empty group":   {Contact: who, Groups: []string{""}},
	} {
		_, err := r.UpdateRosterItem(ctx, dom, "juliet", who, func(backends.RosterItem, bool) (backends.RosterItem, backends.RosterAction) {
			return bad, backends.RosterPut
		})
		wantErr(t, "UpdateRosterItem returning "+name, err, backends.ErrInvalid)
	}
	if got := wantRoster(t, r, dom, "juliet", []backends.RosterItem{want}); got != v2 {
		t.Fatalf("failed updates changed the version from %d to %d", v2, got)
	}

	// Delete, then delete of nothing.
	up, err = r.UpdateRosterItem(ctx, dom, "juliet", who, func(cur backends.RosterItem, found bool) (backends.RosterItem, backends.RosterAction) {
		return cur, backends.RosterDelete
	})
	if err != nil || !up.Changed || up.Exists || up.Version == v2 || up.Version == 0 {
		t.Fatalf("delete: %+v, %v", up, err)
	}
	v3 := wantRoster(t, r, dom, "juliet", nil)
	if v3 != up.Version {
		t.Fatalf("version %d after a delete that said %d", v3, up.Version)
	}
	up, err = r.UpdateRosterItem(ctx, dom, "juliet", who, func(cur backends.RosterItem, found bool) (backends.RosterItem, backends.RosterAction) {
		if found {
			t.Errorf("fn found a deleted item")
		}
		return cur, backends.RosterDelete
	})
	if err != nil || up.Changed || up.Exists || up.Version != v3 {
		t.Fatalf("delete of nothing: %+v, %v", up, err)
	}
}

// testRosterUpdateConcurrent checks that UpdateRosterItem is an atomic
// read-modify-write: concurrent increments of a counter kept in the item's name are
// all counted.
func (s *suite) testRosterUpdateConcurrent(t *testing.T) {
	_, r := s.rosters(t)
	dom := domain(t)
	const workers, each = 8, 10
	contacts := []string{"a@example.com", "b@example.com"}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for range each {
				_, err := r.UpdateRosterItem(t.Context(), dom, "counter", contacts[w%2], func(cur backends.RosterItem, found bool) (backends.RosterItem, backends.RosterAction) {
					n, _ := strconv.Atoi(cur.Name)
					cur.Name = strconv.Itoa(n + 1)
					return cur, backends.RosterPut
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdateRosterItem: %v", err)
	}
	want := strconv.Itoa(workers / 2 * each)
	wantRoster(t, r, dom, "counter", []backends.RosterItem{{Contact: contacts[0], Name: want}, {Contact: contacts[1], Name: want}})
}

func (s *suite) testRosterInvalid(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	groups := make([]string, backends.MaxGroups+1)
	for i := range groups {
		groups[i] = "g" + strconv.Itoa(i)
	}
	long := strings.Repeat("x", backends.MaxJIDLen+1)
	bad := map[string]backends.RosterItem{
		"empty contact":    {},
		"long contact":     {Contact: long},
		"long name":        {Contact: "a@b", Name: strings.Repeat("n", backends.MaxRosterNameLen+1)},
		"too many groups":  {Contact: "a@b", Groups: groups},
		"empty group":      {Contact: "a@b", Groups: []string{"ok", ""}},
		"long group":       {Contact: "a@b", Groups: []string{strings.Repeat("g", backends.MaxGroupLen+1)}},
		"duplicate group":  {Contact: "a@b", Groups: []string{"Friends", "Family", "Friends"}},
		"bad subscription": {Contact: "a@b", Subscription: backends.SubBoth + 1},
	}
	for name, it := range bad {
		wantErr(t, "PutRosterItem with "+name, errorOf(r.PutRosterItem(ctx, dom, "alice", it)), backends.ErrInvalid)
	}
	good := backends.RosterItem{Contact: "a@b"}
	wantErr(t, "PutRosterItem with no user", errorOf(r.PutRosterItem(ctx, dom, "", good)), backends.ErrInvalid)
	wantErr(t, "PutRosterItem with no domain", errorOf(r.PutRosterItem(ctx, "", "alice", good)), backends.ErrInvalid)
	wantErr(t, "Roster with no user", errorOf2(r.Roster(ctx, dom, "")), backends.ErrInvalid)
	wantErr(t, "RosterItem with a long contact", errorOf(r.RosterItem(ctx, dom, "alice", long)), backends.ErrInvalid)
	wantErr(t, "DeleteRosterItem with no contact", errorOf(r.DeleteRosterItem(ctx, dom, "alice", "")), backends.ErrInvalid)
	wantErr(t, "PutPendingIn with no contact", r.PutPendingIn(ctx, dom, "alice", backends.PendingIn{}), backends.ErrInvalid)
	wantErr(t, "PutPendingIn with a huge stanza", r.PutPendingIn(ctx, dom, "alice",
		backends.PendingIn{Contact: "a@b", Stanza: make([]byte, backends.MaxPendingStanza+1)}), backends.ErrInvalid)
	// Limits themselves are accepted.
	edge := backends.RosterItem{Contact: strings.Repeat("c", backends.MaxJIDLen), Name: strings.Repeat("n", backends.MaxRosterNameLen),
		Groups: append(groups[:backends.MaxGroups-1:backends.MaxGroups-1], strings.Repeat("g", backends.MaxGroupLen))}
	if _, err := r.PutRosterItem(ctx, dom, "bob", edge); err != nil {
		t.Fatalf("PutRosterItem at the limits: %v", err)
	}
	if err := r.PutPendingIn(ctx, dom, "bob", backends.PendingIn{Contact: "a@b", Stanza: make([]byte, backends.MaxPendingStanza)}); err != nil {
		t.Fatalf("PutPendingIn at the limit: %v", err)
	}
	wantRoster(t, r, dom, "bob", []backends.RosterItem{edge})
	if items, v, _ := r.Roster(ctx, dom, "alice"); len(items) != 0 || v != 0 {
		t.Fatalf("invalid writes left %v at version %d", items, v)
	}
}

func errorOf2[A, B any](_ A, _ B, err error) error { return err }

func (s *suite) testRosterPending(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	if _, err := r.PutRosterItem(ctx, dom, "juliet", backends.RosterItem{Contact: "nurse@example.com"}); err != nil {
		t.Fatalf("PutRosterItem: %v", err)
	}
	v0, _ := r.RosterVersion(ctx, dom, "juliet")
	stanza := []byte("<presence from='romeo@example.net' type='subscribe'><status>\x00binary\xff</status></presence>")
	ps := []backends.PendingIn{
		{Contact: "romeo@example.net", Stanza: stanza},
		{Contact: "benvolio@example.org"},
		{Contact: "mercutio@example.net", Stanza: []byte("<presence/>")},
	}
	for _, p := range ps {
		if err := r.PutPendingIn(ctx, dom, "juliet", p); err != nil {
			t.Fatalf("PutPendingIn(%s): %v", p.Contact, err)
		}
	}
	wantPending := func(want []backends.PendingIn) {
		t.Helper()
		got, err := r.PendingIns(ctx, dom, "juliet")
		if err != nil {
			t.Fatalf("PendingIns: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("PendingIns: %d requests, want %d: %v", len(got), len(want), got)
		}
		for i := range want {
			if got[i].Contact != want[i].Contact || !bytes.Equal(got[i].Stanza, want[i].Stanza) {
				t.Fatalf("PendingIns[%d] = %q %q, want %q %q", i, got[i].Contact, got[i].Stanza, want[i].Contact, want[i].Stanza)
			}
			one, err := r.PendingIn(ctx, dom, "juliet", want[i].Contact)
			if err != nil || one.Contact != want[i].Contact || !bytes.Equal(one.Stanza, want[i].Stanza) {
				t.Fatalf("PendingIn(%s) = %q %q, %v", want[i].Contact, one.Contact, one.Stanza, err)
			}
		}
	}
	wantPending([]backends.PendingIn{ps[1], ps[2], ps[0]})
	// Replace.
	ps[0].Stanza = []byte("<presence type='subscribe'><status>again</status></presence>")
	if err := r.PutPendingIn(ctx, dom, "juliet", ps[0]); err != nil {
		t.Fatalf("PutPendingIn (replace): %v", err)
	}
	wantPending([]backends.PendingIn{ps[1], ps[2], ps[0]})
	if ok, err := r.DeletePendingIn(ctx, dom, "juliet", "mercutio@example.net"); err != nil || !ok {
		t.Fatalf("DeletePendingIn = %v, %v; want true", ok, err)
	}
	if ok, err := r.DeletePendingIn(ctx, dom, "juliet", "mercutio@example.net"); err != nil || ok {
		t.Fatalf("second DeletePendingIn = %v, %v; want false", ok, err)
	}
	wantErr(t, "PendingIn after delete", errorOf(r.PendingIn(ctx, dom, "juliet", "mercutio@example.net")), backends.ErrNotFound)
	wantPending([]backends.PendingIn{ps[1], ps[0]})
	if v, _ := r.RosterVersion(ctx, dom, "juliet"); v != v0 {
		t.Fatalf("pending requests changed the roster version from %d to %d", v0, v)
	}
	wantRoster(t, r, dom, "juliet", []backends.RosterItem{{Contact: "nurse@example.com"}})
	// Requests of another user are separate.
	if got, _ := r.PendingIns(ctx, dom, "romeo"); len(got) != 0 {
		t.Fatalf("romeo sees juliet's requests: %v", got)
	}
}

func (s *suite) testRosterNoSharedMemory(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	it := backends.RosterItem{Contact: "romeo@example.net", Groups: []string{"Friends", "Lovers"}}
	want := it.Clone()
	if _, err := r.PutRosterItem(ctx, dom, "juliet", it); err != nil {
		t.Fatalf("PutRosterItem: %v", err)
	}
	it.Groups[0] = "Enemies"
	got, _ := r.RosterItem(ctx, dom, "juliet", it.Contact)
	if !sameItem(got, want) {
		t.Fatalf("the store kept the caller's slice: %s", describeItem(got))
	}
	got.Groups[0] = "Enemies"
	items, _, _ := r.Roster(ctx, dom, "juliet")
	items[0].Groups[1] = "Enemies"
	wantRoster(t, r, dom, "juliet", []backends.RosterItem{want})
	up, err := r.UpdateRosterItem(ctx, dom, "juliet", it.Contact, func(cur backends.RosterItem, _ bool) (backends.RosterItem, backends.RosterAction) {
		cur.Groups[0] = "Enemies" // modifying cur must not reach the store
		return cur, backends.RosterKeep
	})
	if err != nil {
		t.Fatalf("UpdateRosterItem: %v", err)
	}
	up.Item.Groups[1] = "Enemies"
	wantRoster(t, r, dom, "juliet", []backends.RosterItem{want})

	stanza := []byte("<presence type='subscribe'/>")
	if err := r.PutPendingIn(ctx, dom, "juliet", backends.PendingIn{Contact: "romeo@example.net", Stanza: stanza}); err != nil {
		t.Fatalf("PutPendingIn: %v", err)
	}
	stanza[1] = 'X'
	p, _ := r.PendingIn(ctx, dom, "juliet", "romeo@example.net")
	if string(p.Stanza) != "<presence type='subscribe'/>" {
		t.Fatalf("the store kept the caller's stanza: %q", p.Stanza)
	}
	p.Stanza[1] = 'X'
	ps, _ := r.PendingIns(ctx, dom, "juliet")
	if string(ps[0].Stanza) != "<presence type='subscribe'/>" {
		t.Fatalf("PendingIn shares memory with the store: %q", ps[0].Stanza)
	}
}

func (s *suite) testRosterDelete(t *testing.T) {
	_, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	seen := map[uint64]bool{}
	for _, it := range sampleItems() {
		v, err := r.PutRosterItem(ctx, dom, "juliet", it)
		if err != nil {
			t.Fatalf("PutRosterItem: %v", err)
		}
		seen[v] = true
	}
	if err := r.PutPendingIn(ctx, dom, "juliet", backends.PendingIn{Contact: "tybalt@example.org"}); err != nil {
		t.Fatalf("PutPendingIn: %v", err)
	}
	if err := r.DeleteRoster(ctx, dom, "juliet"); err != nil {
		t.Fatalf("DeleteRoster: %v", err)
	}
	if items, v, err := r.Roster(ctx, dom, "juliet"); err != nil || len(items) != 0 || v != 0 {
		t.Fatalf("after DeleteRoster: %v, %d, %v", items, v, err)
	}
	if ps, err := r.PendingIns(ctx, dom, "juliet"); err != nil || len(ps) != 0 {
		t.Fatalf("after DeleteRoster, pending requests %v, %v", ps, err)
	}
	// A new roster never repeats a version of the old one, which a client may cache.
	for _, it := range sampleItems() {
		v, err := r.PutRosterItem(ctx, dom, "juliet", it)
		if err != nil {
			t.Fatalf("PutRosterItem: %v", err)
		}
		if seen[v] {
			t.Fatalf("the re-created roster repeats version %d of the deleted one", v)
		}
	}
}

// everyRosterMethod calls every Rosters method once and returns its error by name.
func everyRosterMethod(ctx context.Context, r backends.Rosters, dom string) map[string]error {
	fn := func(cur backends.RosterItem, _ bool) (backends.RosterItem, backends.RosterAction) {
		return cur, backends.RosterPut
	}
	return map[string]error{
		"Roster":           errorOf2(r.Roster(ctx, dom, "alice")),
		"RosterVersion":    errorOf(r.RosterVersion(ctx, dom, "alice")),
		"RosterItem":       errorOf(r.RosterItem(ctx, dom, "alice", "bob@example.com")),
		"PutRosterItem":    errorOf(r.PutRosterItem(ctx, dom, "alice", backends.RosterItem{Contact: "carol@example.com"})),
		"DeleteRosterItem": errorOf(r.DeleteRosterItem(ctx, dom, "alice", "bob@example.com")),
		"UpdateRosterItem": errorOf(r.UpdateRosterItem(ctx, dom, "alice", "carol@example.com", fn)),
		"PutPendingIn":     r.PutPendingIn(ctx, dom, "alice", backends.PendingIn{Contact: "carol@example.com"}),
		"DeletePendingIn":  errorOf(r.DeletePendingIn(ctx, dom, "alice", "bob@example.com")),
		"PendingIn":        errorOf(r.PendingIn(ctx, dom, "alice", "bob@example.com")),
		"PendingIns":       errorOf(r.PendingIns(ctx, dom, "alice")),
		"DeleteRoster":     r.DeleteRoster(ctx, dom, "alice"),
	}
}

func (s *suite) testRosterCancelled(t *testing.T) {
	_, r := s.rosters(t)
	dom := domain(t)
	if _, err := r.PutRosterItem(t.Context(), dom, "alice", backends.RosterItem{Contact: "bob@example.com"}); err != nil {
		t.Fatalf("PutRosterItem: %v", err)
	}
	if err := r.PutPendingIn(t.Context(), dom, "alice", backends.PendingIn{Contact: "bob@example.com"}); err != nil {
		t.Fatalf("PutPendingIn: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range everyRosterMethod(ctx, r, dom) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error %v, want context.Canceled", name, err)
		}
	}
	wantRoster(t, r, dom, "alice", []backends.RosterItem{{Contact: "bob@example.com"}})
	if ps, _ := r.PendingIns(t.Context(), dom, "alice"); len(ps) != 1 {
		t.Fatalf("pending requests after cancelled calls: %v", ps)
	}
}

func (s *suite) testRosterClose(t *testing.T) {
	st, r := s.rosters(t)
	dom := domain(t)
	if _, err := r.PutRosterItem(t.Context(), dom, "alice", backends.RosterItem{Contact: "bob@example.com"}); err != nil {
		t.Fatalf("PutRosterItem: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range everyRosterMethod(t.Context(), r, dom) {
		if !errors.Is(err, backends.ErrClosed) {
			t.Errorf("%s after Close: error %v, want ErrClosed", name, err)
		}
	}
}

func (s *suite) testRosterPersistence(t *testing.T) {
	if s.cfg.reopen == nil {
		t.Skip("the store is not durable (no Reopen option)")
	}
	st, r := s.rosters(t)
	ctx, dom := t.Context(), domain(t)
	items := sampleItems()
	for _, it := range items {
		if _, err := r.PutRosterItem(ctx, dom, "juliet", it); err != nil {
			t.Fatalf("PutRosterItem: %v", err)
		}
	}
	if _, err := r.DeleteRosterItem(ctx, dom, "juliet", items[0].Contact); err != nil {
		t.Fatalf("DeleteRosterItem: %v", err)
	}
	items = items[1:]
	stanza := []byte("<presence type='subscribe'><status>let me in</status></presence>")
	if err := r.PutPendingIn(ctx, dom, "juliet", backends.PendingIn{Contact: "tybalt@example.org", Stanza: stanza}); err != nil {
		t.Fatalf("PutPendingIn: %v", err)
	}
	if _, err := r.PutRosterItem(ctx, dom, "gone", items[0]); err != nil {
		t.Fatalf("PutRosterItem: %v", err)
	}
	if err := r.DeleteRoster(ctx, dom, "gone"); err != nil {
		t.Fatalf("DeleteRoster: %v", err)
	}
	ver, _ := r.RosterVersion(ctx, dom, "juliet")

	st = s.cfg.reopen(t, st)
	t.Cleanup(func() { _ = st.Close() })
	r, ok := st.(backends.Rosters)
	if !ok {
		t.Fatal("the reopened store does not implement Rosters")
	}
	if got := wantRoster(t, r, dom, "juliet", items); got != ver {
		t.Fatalf("version %d after reopening, %d before", got, ver)
	}
	p, err := r.PendingIn(ctx, dom, "juliet", "tybalt@example.org")
	if err != nil || !bytes.Equal(p.Stanza, stanza) {
		t.Fatalf("pending request after reopening: %q, %v", p.Stanza, err)
	}
	if got, v, _ := r.Roster(ctx, dom, "gone"); len(got) != 0 || v != 0 {
		t.Fatalf("a deleted roster came back: %v at %d", got, v)
	}
	// Versions keep moving forward after a restart.
	v, err := r.PutRosterItem(ctx, dom, "juliet", backends.RosterItem{Contact: "new@example.com"})
	if err != nil || v == ver || v == 0 {
		t.Fatalf("PutRosterItem after reopening: version %d (before %d), %v", v, ver, err)
	}
}
