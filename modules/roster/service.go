package roster

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza/jid"
)

// serviceEvent is how the two modules of a host find their Service: the first module
// to start creates it and answers this event with it (see Shared).
const serviceEvent = "hermod.roster.service"

// EventChanged is fired (engine.Host.Fire) on a worker after an item of a roster
// changed; Event.User is the owner's bare JID and Event.Data a Change. Privacy lists
// and other readers of roster groups and subscriptions listen to it.
const EventChanged = "roster-changed"

// Change is the Data of an EventChanged event.
type Change struct {
	// Item is the item after the change; Removed says it was deleted.
	Item    backends.RosterItem
	Removed bool
	// Version is the roster's version after the change.
	Version uint64
}

// stripes is the number of per-account locks. An account's stripe serialises every
// read-modify-write of its roster and pending requests with the loading of its
// snapshot, so that storage and memory never disagree; 256 keeps unrelated accounts
// from waiting on each other at any realistic rate of subscription changes.
const stripes = 256

// maxQueued bounds the subscription stanzas one account may have waiting.
const maxQueued = 256

// Service is a host's roster state shared by mod_roster and mod_presence: the online
// accounts with their snapshots and sessions, and the subscription machinery. Its
// methods are safe from any goroutine; those documented as blocking must run on a
// worker.
type Service struct {
	h     *engine.Host
	store backends.Rosters

	// Set by mod_roster's Start, before any session exists.
	versioning  bool
	preApproval bool
	maxItems    int

	seed  maphash.Seed
	locks [stripes]sync.Mutex

	mu       sync.Mutex // guards accounts and queues; never held across I/O or a send
	accounts map[string]*account
	queues   map[string]*queue

	pushID atomic.Uint64

	// empty is the snapshot of every never-used roster (no items, version 0), shared:
	// most idle users of a large deployment have one, and snapshots are immutable.
	empty *Snapshot

	// replaced is told of sessions found stale at a bind (see sessionOpened); set by
	// mod_presence's Start.
	replaced func(ctx context.Context, old *SessionState)
}

type serviceRequest struct{ svc *Service }

// Shared returns the host's Service, creating it (and registering its session hooks)
// if no module of the host has yet. It must be called from Module.Start, like every
// registration.
func Shared(h *engine.Host) (*Service, error) {
	var req serviceRequest
	h.Fire(engine.Event{Name: serviceEvent, Data: &req})
	if req.svc != nil {
		return req.svc, nil
	}
	st, ok := h.Store().(backends.Rosters)
	if !ok {
		return nil, fmt.Errorf("roster: the storage backend %T does not store rosters", h.Store())
	}
	s := &Service{
		h:        h,
		store:    st,
		seed:     maphash.MakeSeed(),
		accounts: map[string]*account{},
		queues:   map[string]*queue{},
		empty:    newSnapshot(nil, 0),
	}
	h.On(serviceEvent, engine.PriorityFirst, func(ev engine.Event) engine.HookResult {
		if r, ok := ev.Data.(*serviceRequest); ok {
			r.svc = s
			return engine.Stop
		}
		return engine.Continue
	})
	h.OnSessionOpened(engine.PriorityFirst, s.sessionOpened)
	h.OnSessionClosed(engine.PriorityLast, s.sessionClosed)
	h.On(engine.EventUserRemoved, engine.PriorityDefault, s.userRemoved)
	return s, nil
}

// Host returns the host the service belongs to.
func (s *Service) Host() *engine.Host { return s.h }

// account is an online account: its snapshot and its bound sessions.
type account struct {
	bare jid.JID
	refs int // sessions holding it; guarded by Service.mu

	snap atomic.Pointer[Snapshot] // nil until loaded

	mu       sync.Mutex // guards sessions and their state; never held across I/O or a send
	sessions []*SessionState
}

// SessionState is what the roster and presence modules remember about one session:
// whether it asked for the roster (RFC 6121 2.1.6, "interested resource"), whether it
// is available as far as presence broadcast goes, and the entities it sent directed
// presence to (4.6). Its fields are guarded by the account's lock; use the Service's
// methods.
type SessionState struct {
	Session    *engine.Session
	interested bool
	available  bool
	directed   []string
}

func (s *Service) lockFor(bare string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, bare)%stripes]
}

// online returns the account if it has a session, or nil.
func (s *Service) online(bare string) *account {
	s.mu.Lock()
	a := s.accounts[bare]
	s.mu.Unlock()
	return a
}

// Snapshot returns the roster snapshot of an account that has a session (bare is its
// normalised bare JID), or nil. Safe from event loops: it takes a short lock and does
// not allocate.
func (s *Service) Snapshot(bare string) *Snapshot {
	if a := s.online(bare); a != nil {
		return a.snap.Load()
	}
	return nil
}

// sessionOpened loads the account's snapshot when its first session opens. Worker.
func (s *Service) sessionOpened(ctx context.Context, sess *engine.Session) {
	bare := sess.JID().Bare()
	key := bare.String()
	s.mu.Lock()
	a := s.accounts[key]
	if a == nil {
		a = &account{bare: bare}
		s.accounts[key] = a
	}
	a.refs++
	s.mu.Unlock()

	// A session with the same full JID is one this bind replaced (the engine's
	// conflict policy "replace"). The engine ends it without running the
	// session-closed hooks, so it is retired here: its state would otherwise stay
	// forever, and its subscribers would never hear that it went.
	a.mu.Lock()
	var stale []*SessionState
	a.sessions = slices.DeleteFunc(a.sessions, func(st *SessionState) bool {
		if st.Session.JID() == sess.JID() {
			stale = append(stale, st)
			return true
		}
		return false
	})
	a.sessions = append(a.sessions, &SessionState{Session: sess})
	a.mu.Unlock()
	if len(stale) > 0 {
		s.mu.Lock()
		a.refs -= len(stale)
		s.mu.Unlock()
		for _, st := range stale {
			if s.replaced != nil {
				s.replaced(ctx, st)
			}
		}
	}

	if a.snap.Load() != nil {
		return
	}
	lk := s.lockFor(key)
	lk.Lock()
	defer lk.Unlock()
	if a.snap.Load() != nil {
		return
	}
	items, ver, err := s.store.Roster(ctx, bare.Domainpart(), bare.Localpart())
	if err != nil {
		// Presence then sees an empty roster until the next session; the roster get
		// reports the error to the client.
		s.h.Log().Error("roster: load at login", "jid", key, "err", err)
		return
	}
	if len(items) == 0 && ver == 0 {
		a.snap.Store(s.empty)
		return
	}
	a.snap.Store(newSnapshot(items, ver))
}

// sessionClosed forgets the session and, with the account's last session, the
// account. It runs last among the closed hooks, after mod_presence used the state.
func (s *Service) sessionClosed(_ context.Context, sess *engine.Session) {
	key := sess.JID().Bare().String()
	a := s.online(key)
	if a == nil {
		return
	}
	a.mu.Lock()
	n := len(a.sessions)
	a.sessions = slices.DeleteFunc(a.sessions, func(st *SessionState) bool { return st.Session == sess })
	removed := n - len(a.sessions)
	a.mu.Unlock()
	if removed == 0 {
		return // already retired as replaced
	}
	s.mu.Lock()
	a.refs -= removed
	if a.refs <= 0 && s.accounts[key] == a {
		delete(s.accounts, key)
	}
	s.mu.Unlock()
}

// OnReplaced registers fn, run on a worker for each session that a new bind of the
// same full JID replaced, with the old session's state (which nothing else uses any
// more). Call it from Module.Start.
func (s *Service) OnReplaced(fn func(ctx context.Context, old *SessionState)) { s.replaced = fn }

// WasAvailable reports whether a retired session (see OnReplaced) was available.
func (st *SessionState) WasAvailable() bool { return st.available }

// Directed returns a retired session's directed-presence addressees (see OnReplaced).
func (st *SessionState) Directed() []string { return st.directed }

// withSession runs fn with the session's state under its account's lock and reports
// whether the session is known. fn must not block or send.
func (s *Service) withSession(sess *engine.Session, fn func(st *SessionState)) bool {
	a := s.online(sess.JID().Bare().String())
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range a.sessions {
		if st.Session == sess {
			fn(st)
			return true
		}
	}
	return false
}

// SetAvailable records whether the session is available for presence broadcast and
// returns what it was before. Safe from event loops.
func (s *Service) SetAvailable(sess *engine.Session, available bool) (was bool) {
	s.withSession(sess, func(st *SessionState) {
		was, st.available = st.available, available
		if !available {
			st.directed = nil
		}
	})
	return was
}

// Available reports whether the session was last recorded available. Unlike
// Session.Available it still answers in the session-closed hooks.
func (s *Service) Available(sess *engine.Session) bool {
	var avail bool
	s.withSession(sess, func(st *SessionState) { avail = st.available })
	return avail
}

// AddDirected remembers that the session sent available presence to to (RFC 6121
// 4.6.3). Safe from event loops.
func (s *Service) AddDirected(sess *engine.Session, to string) {
	s.withSession(sess, func(st *SessionState) {
		if !slices.Contains(st.directed, to) {
			st.directed = append(st.directed, to)
		}
	})
}

// RemoveDirected forgets to (the session sent it unavailable presence). Safe from
// event loops.
func (s *Service) RemoveDirected(sess *engine.Session, to string) {
	s.withSession(sess, func(st *SessionState) {
		st.directed = slices.DeleteFunc(st.directed, func(d string) bool { return d == to })
	})
}

// TakeDirected returns the session's directed-presence addressees and forgets them.
func (s *Service) TakeDirected(sess *engine.Session) []string {
	var d []string
	s.withSession(sess, func(st *SessionState) { d, st.directed = st.directed, nil })
	return d
}

// AppendSessions appends the bound sessions of bare (an online account) to dst and
// returns it: the allocation-free form of engine.Host.Sessions for accounts this
// service tracks. Safe from event loops.
func (s *Service) AppendSessions(dst []*engine.Session, bare string) []*engine.Session {
	a := s.online(bare)
	if a == nil {
		return dst
	}
	a.mu.Lock()
	for _, st := range a.sessions {
		dst = append(dst, st.Session)
	}
	a.mu.Unlock()
	return dst
}

// setInterested marks the session as one that requested the roster.
func (s *Service) setInterested(sess *engine.Session) {
	s.withSession(sess, func(st *SessionState) { st.interested = true })
}

// interested returns the sessions of bare that requested the roster.
func (s *Service) interested(bare string) []*engine.Session {
	a := s.online(bare)
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*engine.Session
	for _, st := range a.sessions {
		if st.interested {
			out = append(out, st.Session)
		}
	}
	return out
}

// updateSnapshot applies a stored change to the account's snapshot if it is online and
// loaded. Callers hold the account's stripe lock, so the load cannot interleave.
func (s *Service) updateSnapshot(bare string, item backends.RosterItem, present bool, version uint64) {
	a := s.online(bare)
	if a == nil {
		return
	}
	if old := a.snap.Load(); old != nil {
		a.snap.Store(old.with(item.Contact, item.Subscription, present, version))
	}
}

// userRemoved drops a deleted account's roster after cancelling its subscriptions
// with local contacts, so that their rosters do not keep a ghost subscription. It
// runs on the goroutine that fired the event and blocks on storage.
func (s *Service) userRemoved(ev engine.Event) engine.HookResult {
	bare := ev.User.Bare()
	ctx := s.h.Context()
	items, _, err := s.store.Roster(ctx, bare.Domainpart(), bare.Localpart())
	if err != nil {
		s.h.Log().Error("roster: read the roster of a removed account", "jid", bare.String(), "err", err)
	}
	pending, err := s.store.PendingIns(ctx, bare.Domainpart(), bare.Localpart())
	if err != nil {
		s.h.Log().Error("roster: read the requests of a removed account", "jid", bare.String(), "err", err)
	}
	in := map[string]bool{}
	for _, p := range pending {
		in[p.Contact] = true
	}
	for _, it := range items {
		if c, err := jid.Parse(it.Contact); err == nil {
			s.cancelAll(ctx, bare, c, stateOf(it, true, in[it.Contact]))
		}
		delete(in, it.Contact)
	}
	for c := range in {
		// Requests from contacts not in the roster are denied.
		if j, err := jid.Parse(c); err == nil {
			s.cancelAll(ctx, bare, j, State{In: true})
		}
	}
	if err := s.store.DeleteRoster(ctx, bare.Domainpart(), bare.Localpart()); err != nil && !errors.Is(err, backends.ErrClosed) {
		s.h.Log().Error("roster: delete the roster of a removed account", "jid", bare.String(), "err", err)
	}
	return engine.Continue
}

// The events of mod_privacy (modules/privacy) that a module generating presence on a
// user's behalf fires to respect privacy lists and blocking: named here rather than
// imported, so that neither module depends on the other's package.
const (
	privacyCheckOut = "privacy-out"
	privacyCheckIn  = "privacy-in"
)

// PresenceAllowed reports whether the privacy lists let presence whose header is
// st.Header go from `from` (sent by session fromSess, nil for none) to `to` (for
// session toSess, nil for the account's default list): the sender's outbound rules,
// then the recipient's inbound ones. st is scratch the caller reuses across calls
// (its other fields are overwritten); without mod_privacy the answer is always yes.
// Any goroutine; it does not block.
func (s *Service) PresenceAllowed(st *engine.Stanza, from jid.JID, fromSess *engine.Session, to jid.JID, toSess *engine.Session) bool {
	st.From, st.To, st.Session = jid.JID{}, to, fromSess
	if s.h.Fire(engine.Event{Name: privacyCheckOut, User: from.Bare(), Data: st}) {
		return false
	}
	st.From, st.To, st.Session = from, jid.JID{}, toSess
	return !s.h.Fire(engine.Event{Name: privacyCheckIn, User: to.Bare(), Data: st})
}
