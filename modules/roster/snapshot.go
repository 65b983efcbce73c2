package roster

import (
	"slices"
	"strings"
	"unique"

	"github.com/hermod-im/hermod/backends"
)

// Snapshot is the part of an online account's roster that presence needs, kept in
// memory while the account has a session: each contact's bare JID and subscription
// state, ordered by JID. It is immutable: a change builds a new Snapshot and swaps it in,
// so event loops read it without locks while a worker replaces it.
//
// It is compact on purpose. Contacts are interned handles (8 bytes each, the string
// stored once per process however many rosters name it) and subscriptions one byte
// each in a parallel slice: a 100-contact roster costs about 900 bytes, shared by all
// of the account's sessions. Names, groups and the pending flags stay in storage; the
// roster get and the state machine read them there, on workers.
type Snapshot struct {
	version  uint64
	contacts []unique.Handle[string]
	subs     []backends.Subscription
}

// newSnapshot builds a snapshot from items ordered by Contact (as Rosters.Roster
// returns them).
func newSnapshot(items []backends.RosterItem, version uint64) *Snapshot {
	s := &Snapshot{
		version:  version,
		contacts: make([]unique.Handle[string], len(items)),
		subs:     make([]backends.Subscription, len(items)),
	}
	for i := range items {
		s.contacts[i] = unique.Make(items[i].Contact)
		s.subs[i] = items[i].Subscription
	}
	if !slices.IsSortedFunc(s.contacts, compareHandles) {
		// Stores return items in byte order; sort anyway rather than trust it, so
		// that a store bug cannot break lookups.
		perm := make([]int, len(items))
		for i := range perm {
			perm[i] = i
		}
		slices.SortFunc(perm, func(a, b int) int { return compareHandles(s.contacts[a], s.contacts[b]) })
		contacts, subs := slices.Clone(s.contacts), slices.Clone(s.subs)
		for i, p := range perm {
			s.contacts[i], s.subs[i] = contacts[p], subs[p]
		}
	}
	return s
}

func compareHandles(a, b unique.Handle[string]) int { return strings.Compare(a.Value(), b.Value()) }

// Version returns the roster version the snapshot reflects (0 for a nil snapshot).
func (s *Snapshot) Version() uint64 {
	if s == nil {
		return 0
	}
	return s.version
}

// Len returns the number of contacts (0 for a nil snapshot).
func (s *Snapshot) Len() int {
	if s == nil {
		return 0
	}
	return len(s.contacts)
}

func (s *Snapshot) find(contact string) (int, bool) {
	return slices.BinarySearchFunc(s.contacts, contact, func(h unique.Handle[string], c string) int {
		return strings.Compare(h.Value(), c)
	})
}

// Subscription returns the subscription state of contact (a normalised bare JID) and
// whether the contact is in the roster. Safe from any goroutine; it does not allocate.
func (s *Snapshot) Subscription(contact string) (backends.Subscription, bool) {
	if s == nil {
		return backends.SubNone, false
	}
	i, ok := s.find(contact)
	if !ok {
		return backends.SubNone, false
	}
	return s.subs[i], true
}

// Each calls fn for every contact in order until fn returns false. The contact string
// is interned: fn may keep it. Safe from any goroutine.
func (s *Snapshot) Each(fn func(contact string, sub backends.Subscription) bool) {
	if s == nil {
		return
	}
	for i, h := range s.contacts {
		if !fn(h.Value(), s.subs[i]) {
			return
		}
	}
}

// with returns a copy of s in which contact has subscription sub (present) or is
// absent (!present), at version.
func (s *Snapshot) with(contact string, sub backends.Subscription, present bool, version uint64) *Snapshot {
	i, found := s.find(contact)
	n := &Snapshot{version: version}
	switch {
	case present && found:
		n.contacts = s.contacts
		n.subs = slices.Clone(s.subs)
		n.subs[i] = sub
	case present:
		n.contacts = slices.Insert(slices.Clip(s.contacts), i, unique.Make(contact))
		n.subs = slices.Insert(slices.Clip(s.subs), i, sub)
	case found:
		n.contacts = slices.Delete(slices.Clone(s.contacts), i, i+1)
		n.subs = slices.Delete(slices.Clone(s.subs), i, i+1)
	default:
		n.contacts, n.subs = s.contacts, s.subs
	}
	return n
}
