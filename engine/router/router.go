// Package router holds the table of bound sessions: who is online, under which bare
// JID and resource. It is the lookup the engine does for every routed stanza, so reads
// are lock-free and allocation-free (a sharded concurrent map of immutable per-user
// resource lists, replaced copy-on-write on bind and unbind).
//
// The router does not deliver anything, parse stanzas or know about connections: the
// engine decides what to do with the sessions it returns.
package router

import (
	"unsafe"

	"github.com/puzpuzpuz/xsync/v4"
)

// Session is a bound resource as the table sees it. The engine's session type
// implements it; it must be comparable (a pointer) so Unbind can find it.
type Session interface {
	comparable
	// Resource returns the resourcepart the session is bound to. It must not change
	// while the session is in the table.
	Resource() string
}

// Table maps bare JIDs to their bound sessions. All methods are safe for concurrent
// use from any goroutine; Lookup and LookupResource never block and never allocate.
type Table[S Session] struct {
	users *xsync.Map[string, *user[S]]
}

// user is the immutable list of one account's bound sessions. A bind or unbind
// replaces the whole value, so a reader holding the old one keeps a consistent view.
type user[S Session] struct {
	sessions []S
}

// New returns an empty table.
func New[S Session]() *Table[S] {
	return &Table[S]{users: xsync.NewMap[string, *user[S]]()}
}

// BindResult says what Bind did.
type BindResult int

const (
	// Bound means the session was added and no other session had its resource.
	Bound BindResult = iota
	// Replaced means another session held the resource and was removed; Bind returns it
	// so the engine can close it with a conflict stream error.
	Replaced
	// Refused means another session held the resource and replace was false: the new
	// session was not added.
	Refused
)

// Bind adds s under bare. If a session already holds s.Resource(), it is replaced
// (replace true) or s is refused (replace false). The returned session is the one
// replaced, if any.
func (t *Table[S]) Bind(bare string, s S, replace bool) (BindResult, S) {
	var old S
	result := Bound
	res := s.Resource()
	t.users.Compute(bare, func(cur *user[S], loaded bool) (*user[S], xsync.ComputeOp) {
		result, old = Bound, *new(S)
		var list []S
		if loaded {
			list = cur.sessions
		}
		next := make([]S, 0, len(list)+1)
		for _, other := range list {
			if other.Resource() == res {
				if !replace {
					result = Refused
					return cur, xsync.CancelOp
				}
				result, old = Replaced, other
				continue
			}
			next = append(next, other)
		}
		next = append(next, s)
		return &user[S]{sessions: next}, xsync.UpdateOp
	})
	return result, old
}

// Unbind removes s from bare's sessions. It reports whether s was there (a session
// replaced by a newer one is no longer there).
func (t *Table[S]) Unbind(bare string, s S) bool {
	found := false
	t.users.Compute(bare, func(cur *user[S], loaded bool) (*user[S], xsync.ComputeOp) {
		found = false
		if !loaded {
			return cur, xsync.CancelOp
		}
		next := make([]S, 0, len(cur.sessions))
		for _, other := range cur.sessions {
			if other == s {
				found = true
				continue
			}
			next = append(next, other)
		}
		if !found {
			return cur, xsync.CancelOp
		}
		if len(next) == 0 {
			return nil, xsync.DeleteOp
		}
		return &user[S]{sessions: next}, xsync.UpdateOp
	})
	return found
}

// Lookup returns bare's bound sessions. The slice is shared and immutable: callers
// must not modify it. It is empty when the user has no session.
func (t *Table[S]) Lookup(bare string) []S {
	u, ok := t.users.Load(bare)
	if !ok {
		return nil
	}
	return u.sessions
}

// LookupBytes is Lookup for a key held in a byte slice, without converting it to a
// string on the heap.
func (t *Table[S]) LookupBytes(bare []byte) []S {
	if len(bare) == 0 {
		return t.Lookup("")
	}
	// The map only compares and hashes the key during Load and keeps no reference, so
	// a string viewing the caller's bytes is safe for the duration of the call.
	return t.Lookup(unsafe.String(&bare[0], len(bare)))
}

// LookupResource returns the session bound to bare/resource.
func (t *Table[S]) LookupResource(bare, resource string) (S, bool) {
	for _, s := range t.Lookup(bare) {
		if s.Resource() == resource {
			return s, true
		}
	}
	var zero S
	return zero, false
}

// Users returns the number of accounts with at least one bound session.
func (t *Table[S]) Users() int { return t.users.Size() }

// Range calls fn for every account and its sessions until fn returns false. It sees a
// weakly consistent snapshot (binds during the walk may or may not be seen).
func (t *Table[S]) Range(fn func(bare string, sessions []S) bool) {
	t.users.Range(func(k string, u *user[S]) bool { return fn(k, u.sessions) })
}
