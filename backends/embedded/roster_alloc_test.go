//go:build !race

package embedded

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// TestDecodeRosterItemAllocs pins the roster decoder's cost: one string for the contact,
// name and groups, and the groups' slice.
func TestDecodeRosterItemAllocs(t *testing.T) {
	it := backends.RosterItem{Contact: "nurse@example.com", Name: "Nurse", Groups: []string{"Servants", "Family"}}
	rec := appendRosterItem(nil, &it)
	contact := []byte(it.Contact)
	scratch := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(1000, func() { _, _, _ = decodeRosterItem(contact, rec, scratch) }); n != 2 {
		t.Errorf("decodeRosterItem: %v allocations, want 2", n)
	}
	it.Groups = nil
	rec = appendRosterItem(nil, &it)
	if n := testing.AllocsPerRun(1000, func() { _, _, _ = decodeRosterItem(contact, rec, scratch) }); n != 1 {
		t.Errorf("decodeRosterItem without groups: %v allocations, want 1", n)
	}
}
