package backends

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Limits of privacy data (XEP-0016), enforced by every store.
const (
	// MaxPrivacyLists is the most lists one user may keep.
	MaxPrivacyLists = 128
	// MaxPrivacyItems is the most items one list may hold.
	MaxPrivacyItems = 4096
	// MaxPrivacyNameLen is the longest list name in bytes.
	MaxPrivacyNameLen = 1023
	// MaxPrivacyValueLen is the longest item value in bytes: a full JID (localpart,
	// domainpart and resourcepart of MaxPartLen each, with '@' and '/').
	MaxPrivacyValueLen = 3*MaxPartLen + 2
)

// PrivacyItemType is what a privacy list item matches on (XEP-0016 section 2.1). The zero
// value is the fall-through item, which matches everything.
type PrivacyItemType uint8

// The item types.
const (
	PrivacyFallThrough PrivacyItemType = iota
	PrivacyJID
	PrivacyGroup
	PrivacySubscription
)

// String returns the value of the 'type' attribute ("" for fall-through).
func (t PrivacyItemType) String() string {
	switch t {
	case PrivacyFallThrough:
		return ""
	case PrivacyJID:
		return "jid"
	case PrivacyGroup:
		return "group"
	case PrivacySubscription:
		return "subscription"
	}
	return fmt.Sprintf("PrivacyItemType(%d)", uint8(t))
}

// PrivacyStanzas is the set of stanza kinds an item applies to, one bit per child
// element of the item. The zero value means every kind: an item without children
// "blocks all communication", in both directions.
type PrivacyStanzas uint8

// The stanza kinds.
const (
	PrivacyMessage PrivacyStanzas = 1 << iota
	PrivacyIQ
	PrivacyPresenceIn
	PrivacyPresenceOut

	// PrivacyAllKinds is the union of the kinds: what the zero value stands for.
	PrivacyAllKinds = PrivacyMessage | PrivacyIQ | PrivacyPresenceIn | PrivacyPresenceOut
)

// PrivacyItem is one rule of a privacy list.
type PrivacyItem struct {
	// Type says what Value is.
	Type PrivacyItemType
	// Value is a JID (normalised by the caller), a roster group name, or one of "none",
	// "to", "from", "both"; empty for fall-through items.
	Value string
	// Deny is the action: true for "deny", false for "allow".
	Deny bool
	// Order is the item's place in processing: lists are processed in ascending order,
	// and no two items of a list share one.
	Order uint32
	// Stanzas are the kinds the item applies to; zero means all.
	Stanzas PrivacyStanzas
}

// PrivacyList is a named, ordered set of rules.
type PrivacyList struct {
	// Name is non-empty and at most MaxPrivacyNameLen bytes.
	Name string
	// Items are sorted by Order (stores return them so; UpdatePrivacy sorts them).
	Items []PrivacyItem
}

// PrivacySettings are everything a user keeps for XEP-0016: the lists and which one is
// the default. The zero value (no lists, no default) is what a user has never written.
type PrivacySettings struct {
	// Default names the default list; "" when there is none.
	Default string
	// Lists are ordered by Name, byte-wise.
	Lists []PrivacyList
}

// List returns the list named name, or nil.
func (s *PrivacySettings) List(name string) *PrivacyList {
	i, ok := slices.BinarySearchFunc(s.Lists, name, func(l PrivacyList, n string) int { return cmp.Compare(l.Name, n) })
	if !ok {
		return nil
	}
	return &s.Lists[i]
}

// DefaultList returns the default list, or nil when there is none.
func (s *PrivacySettings) DefaultList() *PrivacyList {
	if s.Default == "" {
		return nil
	}
	return s.List(s.Default)
}

// Put adds list, or replaces the list of the same name, keeping Lists ordered.
func (s *PrivacySettings) Put(list PrivacyList) {
	i, ok := slices.BinarySearchFunc(s.Lists, list.Name, func(l PrivacyList, n string) int { return cmp.Compare(l.Name, n) })
	if ok {
		s.Lists[i] = list
		return
	}
	s.Lists = slices.Insert(s.Lists, i, list)
}

// Remove deletes the list named name, and the default if it named that list. It
// reports whether there was such a list.
func (s *PrivacySettings) Remove(name string) bool {
	i, ok := slices.BinarySearchFunc(s.Lists, name, func(l PrivacyList, n string) int { return cmp.Compare(l.Name, n) })
	if !ok {
		return false
	}
	s.Lists = slices.Delete(s.Lists, i, i+1)
	if s.Default == name {
		s.Default = ""
	}
	return true
}

// Clone returns a deep copy sharing no slice with s.
func (s PrivacySettings) Clone() PrivacySettings {
	s.Lists = slices.Clone(s.Lists)
	for i := range s.Lists {
		s.Lists[i].Items = slices.Clone(s.Lists[i].Items)
	}
	return s
}

// Normalize sorts the lists by name and each list's items by order, the form stores keep.
func (s *PrivacySettings) Normalize() {
	slices.SortFunc(s.Lists, func(a, b PrivacyList) int { return cmp.Compare(a.Name, b.Name) })
	for i := range s.Lists {
		slices.SortFunc(s.Lists[i].Items, func(a, b PrivacyItem) int { return cmp.Compare(a.Order, b.Order) })
	}
}

// Validate checks settings in normal form (Normalize) against the limits and the rules
// of XEP-0016 that storage can check: unique list names, unique orders within a list,
// known types and kinds, subscription values, and a default that names an existing list.
// It does not check that a JID value is a valid JID (the caller normalises it). The
// error wraps ErrInvalid.
func (s *PrivacySettings) Validate() error {
	if len(s.Lists) > MaxPrivacyLists {
		return fmt.Errorf("%d privacy lists exceed %d: %w", len(s.Lists), MaxPrivacyLists, ErrInvalid)
	}
	for i := range s.Lists {
		l := &s.Lists[i]
		if i > 0 && s.Lists[i-1].Name >= l.Name {
			return fmt.Errorf("privacy lists not ordered by unique name at %q: %w", l.Name, ErrInvalid)
		}
		if err := l.Validate(); err != nil {
			return err
		}
	}
	if s.Default != "" && s.List(s.Default) == nil {
		return fmt.Errorf("default privacy list %q does not exist: %w", s.Default, ErrInvalid)
	}
	return nil
}

// Validate checks one list whose items are sorted by Order. The error wraps ErrInvalid.
func (l *PrivacyList) Validate() error {
	switch {
	case l.Name == "" || len(l.Name) > MaxPrivacyNameLen:
		return fmt.Errorf("privacy list name of %d bytes, want 1 to %d: %w", len(l.Name), MaxPrivacyNameLen, ErrInvalid)
	case len(l.Items) > MaxPrivacyItems:
		return fmt.Errorf("privacy list %q: %d items exceed %d: %w", l.Name, len(l.Items), MaxPrivacyItems, ErrInvalid)
	}
	for i := range l.Items {
		it := &l.Items[i]
		if i > 0 && l.Items[i-1].Order >= it.Order {
			return fmt.Errorf("privacy list %q: items not ordered by unique order at %d: %w", l.Name, it.Order, ErrInvalid)
		}
		if err := it.Validate(); err != nil {
			return fmt.Errorf("privacy list %q: %w", l.Name, err)
		}
	}
	return nil
}

// Validate checks one item. The error wraps ErrInvalid.
func (it *PrivacyItem) Validate() error {
	if it.Stanzas&^PrivacyAllKinds != 0 {
		return fmt.Errorf("item %d: unknown stanza kinds %#x: %w", it.Order, uint8(it.Stanzas), ErrInvalid)
	}
	switch it.Type {
	case PrivacyFallThrough:
		if it.Value != "" {
			return fmt.Errorf("item %d: fall-through item with a value: %w", it.Order, ErrInvalid)
		}
	case PrivacyJID:
		if it.Value == "" || len(it.Value) > MaxPrivacyValueLen {
			return fmt.Errorf("item %d: JID of %d bytes, want 1 to %d: %w", it.Order, len(it.Value), MaxPrivacyValueLen, ErrInvalid)
		}
	case PrivacyGroup:
		if it.Value == "" || len(it.Value) > MaxGroupLen {
			return fmt.Errorf("item %d: group of %d bytes, want 1 to %d: %w", it.Order, len(it.Value), MaxGroupLen, ErrInvalid)
		}
	case PrivacySubscription:
		if _, ok := ParseSubscription(it.Value); !ok {
			return fmt.Errorf("item %d: subscription %q: %w", it.Order, it.Value, ErrInvalid)
		}
	default:
		return fmt.Errorf("item %d: unknown type %d: %w", it.Order, it.Type, ErrInvalid)
	}
	return nil
}

// PrivacyUpdateFunc changes a user's settings in place. A store may call it more than
// once (it retries a transaction that another write cut short), each time with a fresh
// copy of the stored settings, so it must be free of side effects, must not block and
// must not call the store. An error it returns is returned by UpdatePrivacy (wrapped or
// not, so that errors.Is finds it) and nothing is written.
type PrivacyUpdateFunc func(s *PrivacySettings) error

// Privacy is the storage of privacy lists (XEP-0016), which the blocking command
// (XEP-0191) also uses: its block list is a list like the others.
//
// Settings are keyed by the owner's (domain, user), which need not be an existing
// account: stores do not check. The calling rules of Accounts apply: every method may
// block, none may be called on an event loop, all are safe for concurrent use, writes
// are durable when they return nil. Settings returned share no memory with the store.
type Privacy interface {
	// PrivacySettings returns the user's lists and default, in normal form. A user who
	// never wrote any gets the zero value, not an error.
	PrivacySettings(ctx context.Context, domain, user string) (PrivacySettings, error)

	// UpdatePrivacy reads the user's settings, lets fn change them, normalises and
	// validates the result and stores it, atomically with respect to every other write
	// of the same user's settings, and returns what it stored. Settings left with no
	// list are deleted. Invalid results fail with ErrInvalid and write nothing.
	UpdatePrivacy(ctx context.Context, domain, user string, fn PrivacyUpdateFunc) (PrivacySettings, error)

	// DeletePrivacy removes all of the user's settings (the account was removed).
	// Deleting absent settings is not an error.
	DeletePrivacy(ctx context.Context, domain, user string) error

	// PrivacyDefaults calls fn with every user of domain that has a default list, and
	// that list, in no particular order; it stops at fn's first error and returns it. The
	// server keeps these lists in memory from start-up, so that a message for a user
	// without a session is filtered on the event loop, where storage cannot be read.
	// fn must not call the store.
	PrivacyDefaults(ctx context.Context, domain string, fn func(user string, list PrivacyList) error) error
}
