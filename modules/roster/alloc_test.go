//go:build !race

package roster

import (
	"fmt"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// TestSnapshotReadsDoNotAllocate pins what event loops do with snapshots: lookups and
// walks allocate nothing.
func TestSnapshotReadsDoNotAllocate(t *testing.T) {
	its := make([]backends.RosterItem, 100)
	for i := range its {
		its[i] = backends.RosterItem{Contact: fmt.Sprintf("contact%03d@example.com", i), Subscription: backends.Subscription(i % 4)}
	}
	s := newSnapshot(its, 1)
	n := 0
	count := func(_ string, sub backends.Subscription) bool {
		if sub.HasFrom() {
			n++
		}
		return true
	}
	if a := testing.AllocsPerRun(1000, func() { s.Subscription("contact057@example.com") }); a != 0 {
		t.Errorf("Subscription: %v allocations", a)
	}
	if a := testing.AllocsPerRun(1000, func() { s.Each(count) }); a != 0 {
		t.Errorf("Each: %v allocations", a)
	}
}
