package roster

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/hermod-im/hermod/backends"
)

func items(contacts ...string) []backends.RosterItem {
	out := make([]backends.RosterItem, len(contacts))
	for i, c := range contacts {
		out[i] = backends.RosterItem{Contact: c, Subscription: backends.Subscription(i % 4)}
	}
	return out
}

func contents(s *Snapshot) string {
	var b strings.Builder
	s.Each(func(c string, sub backends.Subscription) bool {
		fmt.Fprintf(&b, "%s=%s ", c, sub)
		return true
	})
	return b.String()
}

func TestSnapshot(t *testing.T) {
	s := newSnapshot(items("a@x", "b@x", "d@x"), 7)
	if s.Version() != 7 || s.Len() != 3 {
		t.Fatalf("version %d, len %d", s.Version(), s.Len())
	}
	if got := contents(s); got != "a@x=none b@x=to d@x=from " {
		t.Fatalf("contents %q", got)
	}
	for c, want := range map[string]backends.Subscription{"a@x": backends.SubNone, "b@x": backends.SubTo, "d@x": backends.SubFrom} {
		if got, ok := s.Subscription(c); !ok || got != want {
			t.Errorf("Subscription(%s) = %v, %v; want %v", c, got, ok, want)
		}
	}
	if _, ok := s.Subscription("c@x"); ok {
		t.Error("Subscription of an absent contact reports it present")
	}
	var nilSnap *Snapshot
	if _, ok := nilSnap.Subscription("a@x"); ok || nilSnap.Len() != 0 {
		t.Error("a nil snapshot is not empty")
	}

	cases := []struct {
		name    string
		contact string
		sub     backends.Subscription
		present bool
		want    string
	}{
		{"insert middle", "c@x", backends.SubBoth, true, "a@x=none b@x=to c@x=both d@x=from "},
		{"insert first", "0@x", backends.SubTo, true, "0@x=to a@x=none b@x=to d@x=from "},
		{"insert last", "z@x", backends.SubTo, true, "a@x=none b@x=to d@x=from z@x=to "},
		{"update", "b@x", backends.SubBoth, true, "a@x=none b@x=both d@x=from "},
		{"delete", "b@x", 0, false, "a@x=none d@x=from "},
		{"delete absent", "q@x", 0, false, "a@x=none b@x=to d@x=from "},
	}
	for _, c := range cases {
		n := s.with(c.contact, c.sub, c.present, 8)
		if got := contents(n); got != c.want || n.Version() != 8 {
			t.Errorf("%s: %q at %d, want %q", c.name, got, n.Version(), c.want)
		}
		// The original is immutable.
		if got := contents(s); got != "a@x=none b@x=to d@x=from " {
			t.Fatalf("%s changed the original: %q", c.name, got)
		}
	}
	// Stores return items sorted, but a snapshot does not rely on it.
	u := newSnapshot(items("d@x", "a@x", "b@x"), 1)
	if got := contents(u); got != "a@x=to b@x=from d@x=none " {
		t.Fatalf("unsorted input: %q", got)
	}
}

// TestSnapshotInterned checks that two rosters naming a contact share its string.
func TestSnapshotInterned(t *testing.T) {
	mk := func() []backends.RosterItem {
		// Strings built at run time, as a store's decoder returns them.
		return items(strings.Repeat("x", 3) + "@example.com")
	}
	a, b := newSnapshot(mk(), 1), newSnapshot(mk(), 1)
	var pa, pb string
	a.Each(func(c string, _ backends.Subscription) bool { pa = c; return false })
	b.Each(func(c string, _ backends.Subscription) bool { pb = c; return false })
	if pa != pb {
		t.Fatalf("contents differ: %q, %q", pa, pb)
	}
	if unsafe.StringData(pa) != unsafe.StringData(pb) {
		t.Fatal("the contact's bytes are stored twice")
	}
	if a.contacts[0] != b.contacts[0] {
		t.Fatal("the same contact is not one interned handle in two snapshots")
	}
}

// BenchmarkSnapshotLoad builds the snapshot of a 100-contact roster, as a login does
// after reading the roster.
func BenchmarkSnapshotLoad(b *testing.B) {
	its := make([]backends.RosterItem, 100)
	for i := range its {
		its[i] = backends.RosterItem{Contact: fmt.Sprintf("contact%03d@example.com", i), Subscription: backends.SubBoth}
	}
	b.ReportAllocs()
	for b.Loop() {
		newSnapshot(its, 1)
	}
}

// BenchmarkSnapshotLookup looks a contact up in a 100-contact snapshot, as a probe
// answer does on an event loop.
func BenchmarkSnapshotLookup(b *testing.B) {
	its := make([]backends.RosterItem, 100)
	for i := range its {
		its[i] = backends.RosterItem{Contact: fmt.Sprintf("contact%03d@example.com", i), Subscription: backends.SubBoth}
	}
	s := newSnapshot(its, 1)
	b.ReportAllocs()
	for b.Loop() {
		s.Subscription("contact057@example.com")
	}
}

// BenchmarkSnapshotMemory keeps the snapshots of 10,000 online users with 100
// contacts each, drawn from a population of accounts (the online users themselves, or
// ten times as many), and reports the heap each costs: what the roster service holds
// per online user besides its session, interned contact strings included.
func BenchmarkSnapshotMemory(b *testing.B) {
	for _, population := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("population=%d", population), func(b *testing.B) { snapshotMemory(b, population) })
	}
}

func snapshotMemory(b *testing.B, population int) {
	const users, per = 10_000, 100
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		snaps := make([]*Snapshot, users)
		its := make([]backends.RosterItem, per)
		for u := range snaps {
			for i := range its {
				// A fresh string per item, as loading from storage gives.
				its[i] = backends.RosterItem{Contact: fmt.Sprintf("user%06d@example.com", (u*7919+i*104729)%population), Subscription: backends.SubBoth}
			}
			slices.SortFunc(its, func(x, y backends.RosterItem) int { return strings.Compare(x.Contact, y.Contact) })
			snaps[u] = newSnapshot(its, 1)
		}
		its = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "heap-B/user")
		runtime.KeepAlive(snaps)
	}
}
