package embedded

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// bulkEntries returns entries for owners rosters of per items each, shuffled, with
// some items given twice (the later entry must win).
func bulkEntries(owners, per int) []backends.RosterEntry {
	var es []backends.RosterEntry
	for o := range owners {
		dom := "a.example"
		if o%3 == 0 {
			dom = "b.example"
		}
		for c := range per {
			it := backends.RosterItem{Contact: fmt.Sprintf("user%d@a.example", c), Subscription: backends.Subscription(c % 4)}
			if c%5 == 0 {
				it.Name, it.Groups = "Friend", []string{"Friends", "Ring"}
			}
			es = append(es, backends.RosterEntry{Domain: dom, User: fmt.Sprintf("user%d", o), Item: it})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
	for i := 0; i < len(es); i += 7 {
		again := es[i]
		again.Item.Name = "second"
		es = append(es, again)
	}
	return es
}

// rosterState is every roster of es's owners with its version, and the version the
// next write gets.
func rosterState(t *testing.T, s *Store, es []backends.RosterEntry) string {
	t.Helper()
	ctx := t.Context()
	type owner struct{ d, u string }
	var owners []owner
	for _, e := range es {
		if o := (owner{e.Domain, e.User}); !slices.Contains(owners, o) {
			owners = append(owners, o)
		}
	}
	out := ""
	for _, o := range owners {
		items, ver, err := s.Roster(ctx, o.d, o.u)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s@%s v%d %+v\n", o.u, o.d, ver, items)
	}
	next, err := s.PutRosterItem(ctx, "z.example", "probe", backends.RosterItem{Contact: "x@y"})
	if err != nil {
		t.Fatal(err)
	}
	return out + fmt.Sprintf("next version %d\n", next)
}

// TestPutRosterItemsAsSingleWrites checks the promise of PutRosterItems' doc: the
// same items and the same versions as PutRosterItem for each entry in order, however
// the entries are cut into batches.
func TestPutRosterItemsAsSingleWrites(t *testing.T) {
	ctx := t.Context()
	es := bulkEntries(30, 40)
	open := func() *Store {
		s, err := Open(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		// Earlier writes: the batch must continue the sequence, not restart it.
		if _, err := s.PutRosterItem(ctx, "a.example", "user1", backends.RosterItem{Contact: "old@a.example"}); err != nil {
			t.Fatal(err)
		}
		return s
	}

	single := open()
	for _, e := range es {
		if _, err := single.PutRosterItem(ctx, e.Domain, e.User, e.Item); err != nil {
			t.Fatal(err)
		}
	}
	want := rosterState(t, single, es)

	for _, size := range []int{len(es), 1, 97, 500} {
		t.Run(fmt.Sprintf("batches of %d", size), func(t *testing.T) {
			bulk := open()
			for start := 0; start < len(es); start += size {
				if err := bulk.PutRosterItems(ctx, es[start:min(start+size, len(es))]); err != nil {
					t.Fatal(err)
				}
			}
			if got := rosterState(t, bulk, es); got != want {
				t.Errorf("after PutRosterItems:\n%s\nafter PutRosterItem:\n%s", got, want)
			}
		})
	}
}

// TestPutRosterItemsOneCommit checks that a batch is one transaction, whatever its size.
func TestPutRosterItemsOneCommit(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es := bulkEntries(50, 100)
	before := s.stats.commits.Load()
	if err := s.PutRosterItems(t.Context(), es); err != nil {
		t.Fatal(err)
	}
	if n := s.stats.commits.Load() - before; n != 1 {
		t.Errorf("%d entries took %d commits, want 1", len(es), n)
	}
}
