package backends

import (
	"context"
	"fmt"
	"slices"
)

// Limits of roster data, enforced by every store so that an item accepted by one is
// accepted by all.
const (
	// MaxJIDLen is the longest bare JID in bytes: a localpart and a domainpart of
	// MaxPartLen each and the '@' between them.
	MaxJIDLen = 2*MaxPartLen + 1
	// MaxRosterNameLen is the longest handle (the item's 'name') in bytes.
	MaxRosterNameLen = 1023
	// MaxGroupLen is the longest group name in bytes (RFC 6121 section 2.1.2.5 lets the
	// server choose; 1023 matches the other parts).
	MaxGroupLen = 1023
	// MaxGroups is the most groups one item may belong to.
	MaxGroups = 64
	// MaxPendingStanza is the largest stored inbound subscription request, in bytes.
	MaxPendingStanza = 8 << 10
)

// Subscription is the subscription state of a roster item as RFC 6121 section 2.1.2.5
// names it, seen from the roster's owner: "to" means the owner receives the contact's
// presence, "from" that the contact receives the owner's.
type Subscription uint8

// The four subscription states. The zero value is SubNone.
const (
	SubNone Subscription = iota
	SubTo
	SubFrom
	SubBoth
)

// String returns the value of the 'subscription' attribute.
func (s Subscription) String() string {
	switch s {
	case SubNone:
		return "none"
	case SubTo:
		return "to"
	case SubFrom:
		return "from"
	case SubBoth:
		return "both"
	}
	return fmt.Sprintf("Subscription(%d)", uint8(s))
}

// ParseSubscription reads a 'subscription' value: "none", "to", "from" or "both" (the
// inverse of String).
func ParseSubscription(s string) (Subscription, bool) {
	switch s {
	case "none":
		return SubNone, true
	case "to":
		return SubTo, true
	case "from":
		return SubFrom, true
	case "both":
		return SubBoth, true
	}
	return SubNone, false
}

// HasTo reports whether the owner is subscribed to the contact's presence (to, both).
func (s Subscription) HasTo() bool { return s == SubTo || s == SubBoth }

// HasFrom reports whether the contact is subscribed to the owner's presence (from, both).
func (s Subscription) HasFrom() bool { return s == SubFrom || s == SubBoth }

// RosterItem is one contact in a user's roster (RFC 6121 section 2.1.2).
//
// Pending inbound subscription requests are not part of the item: a request may come
// from a JID that is not in the roster at all, and RFC 6121 keeps it out of the roster
// the client sees. They are stored as PendingIn records.
type RosterItem struct {
	// Contact is the contact's bare JID, already normalised (stanza/jid); stores treat
	// it as an opaque key. Non-empty, at most MaxJIDLen bytes.
	Contact string
	// Name is the user-assigned handle; "" when none.
	Name string
	// Groups are the item's groups, without duplicates, each non-empty and at most
	// MaxGroupLen bytes; at most MaxGroups of them. Stores keep the order given.
	Groups []string
	// Subscription is the presence subscription state.
	Subscription Subscription
	// Ask is the "Pending Out" flag: the user asked for a subscription to the contact's
	// presence and has no answer yet (ask='subscribe' in the roster).
	Ask bool
	// Approved is a subscription pre-approval (RFC 6121 section 3.4): the user approved
	// the contact's subscription before the contact asked for it.
	Approved bool
}

// ValidateContact checks a contact key: non-empty and at most MaxJIDLen bytes. The
// error wraps ErrInvalid.
func ValidateContact(contact string) error {
	switch {
	case contact == "":
		return fmt.Errorf("empty contact: %w", ErrInvalid)
	case len(contact) > MaxJIDLen:
		return fmt.Errorf("contact of %d bytes exceeds %d: %w", len(contact), MaxJIDLen, ErrInvalid)
	}
	return nil
}

// Validate checks the item against the limits above. The error wraps ErrInvalid.
func (it *RosterItem) Validate() error {
	if err := ValidateContact(it.Contact); err != nil {
		return err
	}
	switch {
	case len(it.Name) > MaxRosterNameLen:
		return fmt.Errorf("name of %d bytes exceeds %d: %w", len(it.Name), MaxRosterNameLen, ErrInvalid)
	case len(it.Groups) > MaxGroups:
		return fmt.Errorf("%d groups exceed %d: %w", len(it.Groups), MaxGroups, ErrInvalid)
	case it.Subscription > SubBoth:
		return fmt.Errorf("unknown subscription %d: %w", it.Subscription, ErrInvalid)
	}
	for i, g := range it.Groups {
		if g == "" || len(g) > MaxGroupLen {
			return fmt.Errorf("group of %d bytes, want 1 to %d: %w", len(g), MaxGroupLen, ErrInvalid)
		}
		if slices.Contains(it.Groups[:i], g) {
			return fmt.Errorf("group %q given twice: %w", g, ErrInvalid)
		}
	}
	return nil
}

// Clone returns a copy sharing no slice with it (strings are immutable and shared).
func (it RosterItem) Clone() RosterItem {
	it.Groups = slices.Clone(it.Groups)
	return it
}

// PendingIn is an inbound subscription request the user has not answered yet ("Pending
// In", RFC 6121 section 3.1.3): kept so that it can be delivered again at each login
// until the user approves or denies it.
type PendingIn struct {
	// Contact is the requester's bare JID, as RosterItem.Contact.
	Contact string
	// Stanza is the presence stanza to deliver again, as the user should see it (its
	// status and extensions such as a nickname kept). At most MaxPendingStanza bytes;
	// may be empty, when the caller rebuilds the stanza itself.
	Stanza []byte
}

// Validate checks the record against the limits above. The error wraps ErrInvalid.
func (p *PendingIn) Validate() error {
	if err := ValidateContact(p.Contact); err != nil {
		return err
	}
	if len(p.Stanza) > MaxPendingStanza {
		return fmt.Errorf("stanza of %d bytes exceeds %d: %w", len(p.Stanza), MaxPendingStanza, ErrInvalid)
	}
	return nil
}

// RosterAction says what UpdateRosterItem does with the item its function returns.
type RosterAction uint8

const (
	// RosterKeep writes nothing: the roster and its version stay as they are.
	RosterKeep RosterAction = iota
	// RosterPut creates or replaces the item with the one returned.
	RosterPut
	// RosterDelete removes the item (nothing happens if it did not exist).
	RosterDelete
)

// RosterUpdateFunc decides the new state of one item from its current state. cur is a
// copy the function may modify and return; found is false when the item does not exist
// (cur is then the zero item with Contact set). A store may call the function more than
// once (an optimistic store retries on conflict), so it must be free of side effects,
// must not block and must not call the store. The returned item's Contact must be the
// one being updated.
type RosterUpdateFunc func(cur RosterItem, found bool) (next RosterItem, action RosterAction)

// RosterUpdate is the outcome of UpdateRosterItem.
type RosterUpdate struct {
	// Item is the item after the update (the zero item with Contact set if it does not
	// exist), and Exists whether it exists.
	Item   RosterItem
	Exists bool
	// Changed reports whether anything was written. A RosterPut of an item equal to the
	// stored one still counts as a change (and bumps the version).
	Changed bool
	// Version is the roster's version after the update.
	Version uint64
}

// Rosters is the storage of rosters (RFC 6121 section 2) and of pending inbound
// subscription requests (section 3.1.3).
//
// A roster is keyed by its owner's (domain, user), which need not be an existing
// account: stores do not check. Every roster has a version, an opaque number for roster
// versioning (XEP-0237): every write that changes an item changes it, and a roster that
// was deleted and created again never repeats a version a client may have cached from
// the old one. Pending requests do not affect the version. A roster that has never been
// written has version 0 and no items.
//
// The calling rules of Accounts apply: every method may block, none may be called on an
// event loop, all are safe for concurrent use, writes are durable when they return nil.
// Items returned share no memory with the store.
type Rosters interface {
	// Roster returns every item of the user's roster, ordered by Contact (byte-wise
	// ascending), and the roster's version. An absent roster gives no items, version 0.
	Roster(ctx context.Context, domain, user string) ([]RosterItem, uint64, error)

	// RosterVersion returns the roster's version without reading its items: the cheap
	// check of a roster get that carries a version.
	RosterVersion(ctx context.Context, domain, user string) (uint64, error)

	// RosterItem returns one item, or an error wrapping ErrNotFound.
	RosterItem(ctx context.Context, domain, user, contact string) (RosterItem, error)

	// PutRosterItem creates or replaces the item keyed by item.Contact and returns the
	// new version. An invalid item fails with ErrInvalid and writes nothing.
	PutRosterItem(ctx context.Context, domain, user string, item RosterItem) (uint64, error)

	// DeleteRosterItem removes an item and returns the new version, or an error
	// wrapping ErrNotFound if there was no such item. It leaves pending requests alone.
	DeleteRosterItem(ctx context.Context, domain, user, contact string) (uint64, error)

	// UpdateRosterItem reads the item keyed by contact, calls fn with it and applies
	// fn's decision, all atomically with respect to every other write of the same
	// roster: the read-modify-write of the subscription state machine, which must not
	// lose a concurrent roster set. An invalid returned item (or one whose Contact
	// differs) fails with ErrInvalid and writes nothing.
	UpdateRosterItem(ctx context.Context, domain, user, contact string, fn RosterUpdateFunc) (RosterUpdate, error)

	// PutPendingIn stores an inbound subscription request, replacing an earlier one from
	// the same contact. An invalid record fails with ErrInvalid.
	PutPendingIn(ctx context.Context, domain, user string, p PendingIn) error

	// DeletePendingIn removes the request from contact and reports whether there was
	// one. An absent request is not an error.
	DeletePendingIn(ctx context.Context, domain, user, contact string) (bool, error)

	// PendingIn returns the request from contact, or an error wrapping ErrNotFound.
	PendingIn(ctx context.Context, domain, user, contact string) (PendingIn, error)

	// PendingIns returns the user's pending requests ordered by Contact.
	PendingIns(ctx context.Context, domain, user string) ([]PendingIn, error)

	// DeleteRoster removes the user's roster and pending requests (the account was
	// removed). Deleting an absent roster is not an error.
	DeleteRoster(ctx context.Context, domain, user string) error
}

// RosterEntry is one roster item with its roster's owner: the unit of bulk roster
// writes.
type RosterEntry struct {
	// Domain and User name the roster's owner, as in the methods of Rosters.
	Domain, User string
	// Item is the item to create or replace.
	Item RosterItem
}

// RosterBulkWriter is implemented by roster stores that can write many items in one
// durable batch (the embedded store): the provisioning path of `hermod roster import`,
// which falls back to one PutRosterItem per item on a store without it. It is not
// part of Rosters: the server never needs it.
//
// The calling rules of Rosters apply.
type RosterBulkWriter interface {
	// PutRosterItems creates or replaces the items of entries, which may belong to any
	// number of rosters, and leaves every roster as PutRosterItem called for each entry
	// in order would: when two entries name the same item the later wins, and every
	// roster written gets a version above every version it had (pending requests are
	// not touched). Either every entry is written or none is; an invalid entry fails
	// the whole call with ErrInvalid.
	PutRosterItems(ctx context.Context, entries []RosterEntry) error
}
