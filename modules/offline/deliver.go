package offline

import (
	"context"
	"sync"

	"github.com/hermod-im/hermod/engine"
)

// deliveryPage is how many messages one read takes.
const deliveryPage = 100

// deliver hands the account's stored messages to s, oldest first, and deletes each
// page once it was queued on a session that is still connected: a session that goes
// away mid-delivery leaves the rest, and possibly what it was being sent, for the next
// login (delivered twice rather than lost). It runs on a worker, one delivery at a
// time per account.
func (m *Module) deliver(s *engine.Session) {
	own := s.JID().Bare()
	bare := own.String()
	unlock := m.locks.lock(bare)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	domain, user := own.Domainpart(), own.Localpart()
	delivered := 0
	for m.connected(bare, s) {
		msgs, err := m.store.OfflineMessages(ctx, domain, user, deliveryPage)
		if err != nil {
			m.host.Log().Error("offline: read messages", "user", bare, "err", err)
			break
		}
		if len(msgs) == 0 {
			break
		}
		for _, msg := range msgs {
			s.Send(msg.Raw)
		}
		if !m.connected(bare, s) {
			break
		}
		if _, err := m.store.DeleteOffline(ctx, domain, user, msgs[len(msgs)-1].Seq); err != nil {
			m.host.Log().Error("offline: delete delivered messages", "user", bare, "err", err)
			break
		}
		delivered += len(msgs)
		if len(msgs) < deliveryPage {
			break
		}
	}
	if delivered > 0 {
		m.host.Fire(engine.Event{Name: EventDelivered, User: own, Data: delivered})
	}
}

// connected reports whether s is still one of the account's sessions.
func (m *Module) connected(bare string, s *engine.Session) bool {
	for _, x := range m.host.Sessions(bare) {
		if x == s {
			return true
		}
	}
	return false
}

// bestSession returns the account's available session of highest non-negative
// priority, or nil.
func (m *Module) bestSession(bare string) *engine.Session {
	var best *engine.Session
	bestPrio := int8(-1)
	for _, s := range m.host.Sessions(bare) {
		if avail, prio := s.Available(); avail && prio > bestPrio {
			best, bestPrio = s, prio
		}
	}
	return best
}

// userLocks serialises deliveries per account, so that two resources becoming
// available at once, or a login racing a flush, never hand out the same messages
// twice. Entries exist only while a delivery runs or waits.
type userLocks struct {
	mu sync.Mutex
	m  map[string]*userLock
}

type userLock struct {
	sync.Mutex
	refs int
}

// lock locks bare's entry and returns its unlock.
func (l *userLocks) lock(bare string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*userLock)
	}
	u := l.m[bare]
	if u == nil {
		u = &userLock{}
		l.m[bare] = u
	}
	u.refs++
	l.mu.Unlock()
	u.Lock()
	return func() {
		u.Unlock()
		l.mu.Lock()
		if u.refs--; u.refs == 0 {
			delete(l.m, bare)
		}
		l.mu.Unlock()
	}
}
