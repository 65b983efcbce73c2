package privacy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Name is the module's configuration name.
const Name = "mod_privacy"

// Events this module answers for other modules (see the package documentation).
const (
	EventCheckIn  = "privacy-in"
	EventCheckOut = "privacy-out"
	// EventRosterChanged is the roster module's notice that Event.User's roster changed.
	EventRosterChanged = "roster-changed"
)

// Options are the keys of [modules.mod_privacy].
type Options struct {
	// Blocking serves the blocking command (XEP-0191) on the same lists; default true.
	Blocking bool `toml:"blocking"`
	// MaxLists caps the lists of one user; default 32, at most backends.MaxPrivacyLists.
	MaxLists int `toml:"max_lists"`
	// MaxItems caps the items of one list; default 1024, at most
	// backends.MaxPrivacyItems.
	MaxItems int `toml:"max_items"`
}

// Module is mod_privacy for one host.
type Module struct {
	opts    Options
	host    *engine.Host
	store   backends.Privacy
	rosters backends.Rosters // nil when the store keeps no rosters
	// users holds the state of every user who has a default list or an online session
	// that set something (an active list, a blocklist request). Hooks read it on event
	// loops; workers change it under the user's mutex.
	users  *xsync.Map[string, *user]
	pushID atomic.Uint64
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{Blocking: true, MaxLists: 32, MaxItems: 1024}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	if m.opts.MaxLists < 1 || m.opts.MaxLists > backends.MaxPrivacyLists {
		return nil, mc.Errorf("max_lists", "must be 1 to %d", backends.MaxPrivacyLists)
	}
	if m.opts.MaxItems < 1 || m.opts.MaxItems > backends.MaxPrivacyItems {
		return nil, mc.Errorf("max_items", "must be 1 to %d", backends.MaxPrivacyItems)
	}
	return m, nil
}

// Start loads every default list of the host (so that messages for users without a
// session are filtered without reading storage on an event loop) and registers the
// handlers. It runs before clients connect and may block on the store.
func (m *Module) Start(h *engine.Host) error {
	st, ok := h.Store().(backends.Privacy)
	if !ok {
		return fmt.Errorf("%s: the storage backend does not keep privacy lists", Name)
	}
	m.host, m.store = h, st
	m.rosters, _ = h.Store().(backends.Rosters)
	m.users = xsync.NewMap[string, *user]()
	ctx := context.Background()
	err := st.PrivacyDefaults(ctx, h.Domain(), func(localpart string, l backends.PrivacyList) error {
		bare, err := jid.New(localpart, h.Domain(), "")
		if err != nil {
			h.Log().Warn("privacy: stored lists of an invalid JID", "user", localpart, "err", err)
			return nil
		}
		u := &user{bare: bare}
		u.def.Store(compile(&l))
		m.users.Store(bare.String(), u)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: load default lists: %w", Name, err)
	}
	// Rosters are read after the scan: fn must not call the store.
	for _, u := range m.users.All() {
		if u.def.Load().needsRoster {
			m.loadRoster(ctx, u)
		}
	}

	h.AddFeature(NSPrivacy)
	h.HandleIQ(NSPrivacy, m.handlePrivacy)
	if m.opts.Blocking {
		h.AddFeature(NSBlocking)
		h.HandleIQ(NSBlocking, m.handleBlocking)
	}
	h.OnUserSend(engine.PriorityFirst, m.onUserSend)
	h.OnDeliver(engine.PriorityFirst, m.onDeliver)
	h.OnUndeliverable(engine.PriorityFirst, m.onUndeliverable)
	h.OnSessionOpened(engine.PriorityFirst, m.onSessionOpened)
	h.OnSessionClosed(engine.PriorityDefault, m.onSessionClosed)
	h.On(EventCheckIn, engine.PriorityDefault, m.onCheckIn)
	h.On(EventCheckOut, engine.PriorityDefault, m.onCheckOut)
	h.On(EventRosterChanged, engine.PriorityDefault, m.onRosterChanged)
	h.On(engine.EventUserRemoved, engine.PriorityDefault, m.onUserRemoved)
	return nil
}

// Stop does nothing: the state is memory only and the store is the engine's.
func (m *Module) Stop() error { return nil }

// user is the in-memory privacy state of one account.
type user struct {
	bare jid.JID
	// mu serialises the changes of this user's state and stored settings (workers
	// only). Readers on event loops use the atomics and never take it.
	mu   sync.Mutex
	dead bool // removed from Module.users: look it up again (guarded by mu)
	// def is the default list, nil when there is none.
	def atomic.Pointer[rules]
	// roster is loaded while a list in use matches on groups or subscriptions.
	roster atomic.Pointer[rosterView]
	// sessions are the sessions that set something; replaced, never modified.
	sessions atomic.Pointer[[]*session]
}

// session is what one online resource set.
type session struct {
	s *engine.Session
	// active is the session's active list; nil when it declined one (the default
	// applies).
	active atomic.Pointer[rules]
	// blocklist is set once the session retrieved the blocklist: it then gets the
	// blocking command's pushes (XEP-0191 section 3.3).
	blocklist atomic.Bool
	// privacy is set once the session used jabber:iq:privacy: it then also gets the
	// list pushes that blocking commands cause.
	privacy atomic.Bool
}

// effective returns the list that applies to stanzas of session s: its active list,
// else the default (XEP-0016 rules 1 and 2). s may be nil (no session: the default).
// Safe on any goroutine.
func (u *user) effective(s *engine.Session) *rules {
	if s != nil {
		if ss := u.find(s); ss != nil {
			if a := ss.active.Load(); a != nil {
				return a
			}
		}
	}
	return u.def.Load()
}

// find returns the state of session s, or nil. Safe on any goroutine.
func (u *user) find(s *engine.Session) *session {
	if p := u.sessions.Load(); p != nil {
		for _, ss := range *p {
			if ss.s == s {
				return ss
			}
		}
	}
	return nil
}

// ensure returns the state of s, creating it. Called with u.mu held.
func (u *user) ensure(s *engine.Session) *session {
	if ss := u.find(s); ss != nil {
		return ss
	}
	ss := &session{s: s}
	var next []*session
	if p := u.sessions.Load(); p != nil {
		next = slices.Clone(*p)
	}
	next = append(next, ss)
	u.sessions.Store(&next)
	return ss
}

// drop forgets the state of s. Called with u.mu held.
func (u *user) drop(s *engine.Session) {
	p := u.sessions.Load()
	if p == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*p), func(ss *session) bool { return ss.s == s })
	if len(next) == 0 {
		u.sessions.Store(nil)
		return
	}
	u.sessions.Store(&next)
}

// prune forgets sessions that are no longer bound (a session-closed hook may be dropped
// when the worker queue is full). Called with u.mu held.
func (u *user) prune(live []*engine.Session) {
	p := u.sessions.Load()
	if p == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*p), func(ss *session) bool { return !slices.Contains(live, ss.s) })
	if len(next) == len(*p) {
		return
	}
	if len(next) == 0 {
		u.sessions.Store(nil)
		return
	}
	u.sessions.Store(&next)
}

// inUse reports whether a list in use needs the roster.
func (u *user) needsRoster() bool {
	if d := u.def.Load(); d != nil && d.needsRoster {
		return true
	}
	if p := u.sessions.Load(); p != nil {
		for _, ss := range *p {
			if a := ss.active.Load(); a != nil && a.needsRoster {
				return true
			}
		}
	}
	return false
}

// empty reports whether u holds nothing worth keeping. Called with u.mu held.
func (u *user) empty() bool { return u.def.Load() == nil && u.sessions.Load() == nil }

// lock returns bare's state with its mutex held, creating it if needed. The caller
// calls m.unlock when done. Workers only.
func (m *Module) lock(bare jid.JID) *user {
	for {
		u, _ := m.users.LoadOrCompute(bare.String(), func() (*user, bool) { return &user{bare: bare}, false })
		u.mu.Lock()
		if !u.dead {
			return u
		}
		u.mu.Unlock()
	}
}

// unlock releases u, first removing it from the map if it holds nothing.
func (m *Module) unlock(u *user) {
	if u.empty() {
		u.dead = true
		m.users.Delete(u.bare.String())
	}
	u.mu.Unlock()
}

// lookup returns the state of bare without creating it. Safe on any goroutine.
func (m *Module) lookup(bare string) *user {
	u, _ := m.users.Load(bare)
	return u
}

// loadRoster (re)reads the user's roster into the view matching uses, or drops it when
// no list in use needs it. Workers only, with u.mu held or before serving.
func (m *Module) loadRoster(ctx context.Context, u *user) {
	if !u.needsRoster() {
		u.roster.Store(nil)
		return
	}
	if m.rosters == nil {
		u.roster.Store(&rosterView{})
		return
	}
	items, _, err := m.rosters.Roster(ctx, u.bare.Domainpart(), u.bare.Localpart())
	if err != nil {
		m.host.Log().Warn("privacy: load roster", "user", u.bare.String(), "err", err)
		return
	}
	u.roster.Store(newRosterView(items))
}

// onSessionOpened refreshes the user's default list from the store (and the roster, if
// the list matches on it) before the session's first stanza. On a worker.
func (m *Module) onSessionOpened(ctx context.Context, s *engine.Session) {
	u := m.lock(s.JID().Bare())
	defer m.unlock(u)
	set, err := m.store.PrivacySettings(ctx, u.bare.Domainpart(), u.bare.Localpart())
	if err != nil {
		m.host.Log().Warn("privacy: load lists", "user", u.bare.String(), "err", err)
		return
	}
	if l := set.DefaultList(); l != nil {
		u.def.Store(compile(l))
	} else {
		u.def.Store(nil)
	}
	m.loadRoster(ctx, u)
}

// onSessionClosed forgets what the session set (its active list ends with it). On a
// worker.
func (m *Module) onSessionClosed(ctx context.Context, s *engine.Session) {
	u := m.lookup(s.JID().Bare().String())
	if u == nil {
		return
	}
	u = m.lock(u.bare)
	defer m.unlock(u)
	u.drop(s)
	if u.roster.Load() != nil && !u.needsRoster() {
		u.roster.Store(nil)
	}
}

// onRosterChanged re-reads the roster of a user whose lists match on it (XEP-0016 rule
// 9). It runs on the firing goroutine and hands the read to a worker.
func (m *Module) onRosterChanged(ev engine.Event) engine.HookResult {
	u := m.lookup(ev.User.Bare().String())
	if u == nil || u.roster.Load() == nil {
		return engine.Continue
	}
	bare := u.bare
	if !m.host.Go(func() {
		u := m.lock(bare)
		defer m.unlock(u)
		m.loadRoster(m.host.Context(), u)
	}) {
		m.host.Log().Warn("privacy: roster reload dropped: worker queue full", "user", bare.String())
	}
	return engine.Continue
}

// onUserRemoved drops the account's lists. It runs on the firing goroutine, which may
// block (the admin API's).
func (m *Module) onUserRemoved(ev engine.Event) engine.HookResult {
	bare := ev.User.Bare()
	if err := m.store.DeletePrivacy(m.host.Context(), bare.Domainpart(), bare.Localpart()); err != nil &&
		!errors.Is(err, context.Canceled) {
		m.host.Log().Warn("privacy: delete lists of a removed user", "user", bare.String(), "err", err)
	}
	u := m.lock(bare)
	u.def.Store(nil)
	u.sessions.Store(nil)
	u.roster.Store(nil)
	m.unlock(u)
	return engine.Continue
}
