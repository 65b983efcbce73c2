// Package compose builds one backends.Store out of several storage engines, one per kind
// of data, so that a server can keep accounts and rosters in MySQL and, say, last
// activity in memory while modules keep asserting the interfaces they need on the one
// store they are given (h.Store().(backends.Rosters)).
//
// A session registry (backends.Sessions) may ride along: Backend then returns the
// composite with the registry's methods, which is how mod_sessions finds it.
//
// The composite delegates each interface wholesale to the engine chosen for its kind: it
// adds no caching, no retries and no cross-engine transactions. A write that touches two
// kinds (an account removal deleting its roster and its vCard) is as atomic as two calls
// on two engines, which is what the modules already assume.
//
// This package must not import engine or any concrete engine: it knows only the
// interfaces of package backends. Choosing and opening engines is the caller's job
// (engine/stores does it from the configuration).
package compose

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/hermod-im/hermod/backends"
)

// Kind names, as in the [backends] table of the configuration.
const (
	KindAccounts = "accounts"
	KindRosters  = "rosters"
	KindOffline  = "offline"
	KindVCard    = "vcard"
	KindPrivate  = "private"
	KindPrivacy  = "privacy"
	KindLast     = "last"
)

// Parts names the engine that keeps each kind of data. The same engine may appear
// under several kinds; every field must be set, to an engine that implements the
// interface of its kind.
type Parts struct {
	Accounts backends.Store // backends.Accounts
	Rosters  backends.Store // backends.Rosters
	Offline  backends.Store // backends.Offline
	VCard    backends.Store // backends.VCards
	Private  backends.Store // backends.PrivateXML
	Privacy  backends.Store // backends.Privacy
	Last     backends.Store // backends.LastActivity

	// Sessions is the session registry, or nil for none. With one, Backend returns a
	// store that implements backends.Sessions too.
	Sessions backends.Sessions
}

// The interfaces under unexported names, so that embedding them promotes their
// methods without exported fields (and without the PrivateXML field shadowing the
// PrivateXML method).
type (
	accounts     = backends.Accounts
	rosters      = backends.Rosters
	offline      = backends.Offline
	vcards       = backends.VCards
	privateXML   = backends.PrivateXML
	privacy      = backends.Privacy
	lastActivity = backends.LastActivity
)

// Store is a backends.Store whose every interface is served by the engine its Parts
// chose. Its methods are those of the engines: safe for concurrent use from any
// goroutine, blocking on I/O, never to be called on an event loop.
type Store struct {
	accounts
	rosters
	offline
	vcards
	privateXML
	privacy
	lastActivity

	// engines are the distinct engines in the order of their first kind: Close
	// closes each once, in reverse.
	engines []backends.Store
	parts   Parts
}

var (
	_ backends.Store        = (*Store)(nil)
	_ backends.Rosters      = (*Store)(nil)
	_ backends.Offline      = (*Store)(nil)
	_ backends.VCards       = (*Store)(nil)
	_ backends.PrivateXML   = (*Store)(nil)
	_ backends.Privacy      = (*Store)(nil)
	_ backends.LastActivity = (*Store)(nil)
)

// New builds the composite. It fails, naming the kind, when a part is nil or does
// not implement its kind's interface; it closes nothing in that case (the caller
// still owns the engines). It may be called from any goroutine.
func New(p Parts) (*Store, error) {
	s := &Store{parts: p}
	var err error
	s.accounts, err = part[backends.Accounts](KindAccounts, p.Accounts)
	if err != nil {
		return nil, err
	}
	if s.rosters, err = part[backends.Rosters](KindRosters, p.Rosters); err != nil {
		return nil, err
	}
	if s.offline, err = part[backends.Offline](KindOffline, p.Offline); err != nil {
		return nil, err
	}
	if s.vcards, err = part[backends.VCards](KindVCard, p.VCard); err != nil {
		return nil, err
	}
	if s.privateXML, err = part[backends.PrivateXML](KindPrivate, p.Private); err != nil {
		return nil, err
	}
	if s.privacy, err = part[backends.Privacy](KindPrivacy, p.Privacy); err != nil {
		return nil, err
	}
	if s.lastActivity, err = part[backends.LastActivity](KindLast, p.Last); err != nil {
		return nil, err
	}
	for _, e := range []backends.Store{p.Accounts, p.Rosters, p.Offline, p.VCard, p.Private, p.Privacy, p.Last} {
		if !containsEngine(s.engines, e) {
			s.engines = append(s.engines, e)
		}
	}
	return s, nil
}

// part checks that engine, chosen for kind, implements I.
func part[I any](kind string, engine backends.Store) (I, error) {
	var zero I
	if engine == nil {
		return zero, fmt.Errorf("compose: no engine for %s", kind)
	}
	v, ok := engine.(I)
	if !ok {
		return zero, fmt.Errorf("compose: the engine chosen for %s (%T) cannot keep that kind of data", kind, engine)
	}
	return v, nil
}

// containsEngine reports whether list holds e, by identity. Engines are pointers in
// practice; an engine of an incomparable type is never taken for another (and is then
// closed once per kind it keeps) rather than making the comparison panic.
func containsEngine(list []backends.Store, e backends.Store) bool {
	if !reflect.TypeOf(e).Comparable() {
		return false
	}
	for _, x := range list {
		if reflect.TypeOf(x) == reflect.TypeOf(e) && x == e {
			return true
		}
	}
	return false
}

// Parts returns the engines the store was built from. The engines stay owned by the
// Store: close them with Close, not one by one. Any goroutine may call it.
func (s *Store) Parts() Parts { return s.parts }

// Engines returns each distinct engine once, in the order of the first kind it
// keeps. Any goroutine may call it.
func (s *Store) Engines() []backends.Store {
	return append([]backends.Store(nil), s.engines...)
}

// PrivateNamespaces forwards to the private XML engine when it can list an account's
// namespaces (the embedded and MySQL stores can), and otherwise returns an error wrapping
// errors.ErrUnsupported: what transfer.PrivateNamespaceLister asks of a composite. Any
// goroutine may call it.
func (s *Store) PrivateNamespaces(ctx context.Context, domain, user string) ([]string, error) {
	l, ok := s.parts.Private.(interface {
		PrivateNamespaces(ctx context.Context, domain, user string) ([]string, error)
	})
	if !ok {
		return nil, fmt.Errorf("compose: the private XML engine %T cannot list namespaces: %w", s.parts.Private, errors.ErrUnsupported)
	}
	return l.PrivateNamespaces(ctx, domain, user)
}

// RaiseRosterVersions forwards to the roster engine when it can move its versions
// forward, and otherwise returns an error wrapping errors.ErrUnsupported: what
// transfer.RosterVersionRaiser asks of a composite. Any goroutine may call it.
func (s *Store) RaiseRosterVersions(ctx context.Context, above uint64) error {
	r, ok := s.parts.Rosters.(interface {
		RaiseRosterVersions(ctx context.Context, above uint64) error
	})
	if !ok {
		return fmt.Errorf("compose: the roster engine %T cannot raise its versions: %w", s.parts.Rosters, errors.ErrUnsupported)
	}
	return r.RaiseRosterVersions(ctx, above)
}

// SetLastLogouts forwards to the last-activity engine when it is a
// backends.LastLogoutBatcher, and otherwise returns an error wrapping
// errors.ErrUnsupported, on which backends.SetLastLogouts writes one entry at a time.
// Any goroutine may call it.
func (s *Store) SetLastLogouts(ctx context.Context, entries []backends.LastLogoutEntry) error {
	b, ok := s.parts.Last.(backends.LastLogoutBatcher)
	if !ok {
		return fmt.Errorf("compose: the last-activity engine %T takes no batches: %w", s.parts.Last, errors.ErrUnsupported)
	}
	return b.SetLastLogouts(ctx, entries)
}

// Backend returns the store to hand to the server: s itself, or, when Parts.Sessions
// was set, s with the registry's methods added, so that modules find the registry by
// asserting backends.Sessions (and find none when there is none). Closing it closes
// s. Any goroutine may call it.
func (s *Store) Backend() backends.Store {
	if s.parts.Sessions == nil {
		return s
	}
	return withSessions{s, s.parts.Sessions}
}

// sessions is backends.Sessions under an unexported name, for embedding.
type sessions = backends.Sessions

// withSessions is a Store that also serves the session registry.
type withSessions struct {
	*Store
	sessions
}

var _ backends.Sessions = withSessions{}

// Close closes the store, registry included (both embedded types have a Close).
func (w withSessions) Close() error { return w.Store.Close() }

// Close closes the session registry, then every distinct engine once, the last-named
// first, and returns their errors joined. Calls made afterwards fail as each engine
// fails after its Close (with an error wrapping backends.ErrClosed). Any goroutine may
// call it.
func (s *Store) Close() error {
	var errs []error
	if s.parts.Sessions != nil {
		if err := s.parts.Sessions.Close(); err != nil {
			errs = append(errs, fmt.Errorf("compose: close the session registry %T: %w", s.parts.Sessions, err))
		}
	}
	for i := len(s.engines) - 1; i >= 0; i-- {
		if err := s.engines[i].Close(); err != nil {
			errs = append(errs, fmt.Errorf("compose: close %T: %w", s.engines[i], err))
		}
	}
	return errors.Join(errs...)
}
