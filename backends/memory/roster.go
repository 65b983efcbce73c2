package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hermod-im/hermod/backends"
)

// rosterKey names the owner of a roster.
type rosterKey struct{ domain, user string }

// memRoster is one user's roster and pending requests.
type memRoster struct {
	ver     uint64
	items   map[string]backends.RosterItem
	pending map[string]backends.PendingIn
}

// rosterData holds every roster. Its zero value is ready; the map is made on first
// write. Guarded by Store.mu.
type rosterData struct {
	rosters map[rosterKey]*memRoster
	// clock is the last version handed out. One counter for the whole store makes a
	// version unique across rosters, so a roster deleted and created again never
	// repeats one.
	clock uint64
}

var _ backends.Rosters = (*Store)(nil)

// roster returns the user's roster, creating it when create is set (nil otherwise).
// Callers hold s.mu, for writing when create is set.
func (s *Store) roster(domain, user string, create bool) *memRoster {
	r := s.rosters.rosters[rosterKey{domain, user}]
	if r == nil && create {
		if s.rosters.rosters == nil {
			s.rosters.rosters = make(map[rosterKey]*memRoster)
		}
		r = &memRoster{items: map[string]backends.RosterItem{}, pending: map[string]backends.PendingIn{}}
		s.rosters.rosters[rosterKey{strings.Clone(domain), strings.Clone(user)}] = r
	}
	return r
}

// bump gives r a new version. Callers hold s.mu for writing.
func (s *Store) bump(r *memRoster) uint64 {
	s.rosters.clock++
	r.ver = s.rosters.clock
	return r.ver
}

// checkRoster validates the keys of a roster call and checks the store's state.
// Callers hold s.mu.
func (s *Store) checkRoster(ctx context.Context, op, domain, user string, contacts ...string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	for _, c := range contacts {
		if err := backends.ValidateContact(c); err != nil {
			return fmt.Errorf("memory: %s: %w", op, err)
		}
	}
	return s.check(ctx, op)
}

func storedItem(it backends.RosterItem) backends.RosterItem {
	it = it.Clone()
	it.Contact = strings.Clone(it.Contact)
	return it
}

// Roster implements backends.Rosters.
func (s *Store) Roster(ctx context.Context, domain, user string) ([]backends.RosterItem, uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkRoster(ctx, "roster", domain, user); err != nil {
		return nil, 0, err
	}
	r := s.roster(domain, user, false)
	if r == nil {
		return nil, 0, nil
	}
	items := make([]backends.RosterItem, 0, len(r.items))
	for _, it := range r.items {
		items = append(items, it.Clone())
	}
	slices.SortFunc(items, func(a, b backends.RosterItem) int { return strings.Compare(a.Contact, b.Contact) })
	return items, r.ver, nil
}

// RosterVersion implements backends.Rosters.
func (s *Store) RosterVersion(ctx context.Context, domain, user string) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkRoster(ctx, "roster version", domain, user); err != nil {
		return 0, err
	}
	if r := s.roster(domain, user, false); r != nil {
		return r.ver, nil
	}
	return 0, nil
}

// RosterItem implements backends.Rosters.
func (s *Store) RosterItem(ctx context.Context, domain, user, contact string) (backends.RosterItem, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkRoster(ctx, "roster item", domain, user, contact); err != nil {
		return backends.RosterItem{}, err
	}
	if r := s.roster(domain, user, false); r != nil {
		if it, ok := r.items[contact]; ok {
			return it.Clone(), nil
		}
	}
	return backends.RosterItem{}, fmt.Errorf("memory: roster item %s of %s@%s: %w", contact, user, domain, backends.ErrNotFound)
}

// PutRosterItem implements backends.Rosters.
func (s *Store) PutRosterItem(ctx context.Context, domain, user string, item backends.RosterItem) (uint64, error) {
	if err := item.Validate(); err != nil {
		return 0, fmt.Errorf("memory: put roster item: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkRoster(ctx, "put roster item", domain, user); err != nil {
		return 0, err
	}
	r := s.roster(domain, user, true)
	r.items[strings.Clone(item.Contact)] = storedItem(item)
	return s.bump(r), nil
}

// DeleteRosterItem implements backends.Rosters.
func (s *Store) DeleteRosterItem(ctx context.Context, domain, user, contact string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkRoster(ctx, "delete roster item", domain, user, contact); err != nil {
		return 0, err
	}
	r := s.roster(domain, user, false)
	if r == nil {
		return 0, fmt.Errorf("memory: delete roster item %s of %s@%s: %w", contact, user, domain, backends.ErrNotFound)
	}
	if _, ok := r.items[contact]; !ok {
		return 0, fmt.Errorf("memory: delete roster item %s of %s@%s: %w", contact, user, domain, backends.ErrNotFound)
	}
	delete(r.items, contact)
	return s.bump(r), nil
}

// UpdateRosterItem implements backends.Rosters. fn runs with the store locked.
func (s *Store) UpdateRosterItem(ctx context.Context, domain, user, contact string, fn backends.RosterUpdateFunc) (backends.RosterUpdate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkRoster(ctx, "update roster item", domain, user, contact); err != nil {
		return backends.RosterUpdate{}, err
	}
	r := s.roster(domain, user, false)
	cur, found := backends.RosterItem{Contact: contact}, false
	var ver uint64
	if r != nil {
		ver = r.ver
		if it, ok := r.items[contact]; ok {
			cur, found = it.Clone(), true
		}
	}
	next, action := fn(cur.Clone(), found)
	switch action {
	case backends.RosterKeep:
		return backends.RosterUpdate{Item: cur, Exists: found, Version: ver}, nil
	case backends.RosterPut:
		if next.Contact != contact {
			return backends.RosterUpdate{}, fmt.Errorf("memory: update roster item %s: function returned contact %q: %w", contact, next.Contact, backends.ErrInvalid)
		}
		if err := next.Validate(); err != nil {
			return backends.RosterUpdate{}, fmt.Errorf("memory: update roster item: %w", err)
		}
		r = s.roster(domain, user, true)
		r.items[strings.Clone(contact)] = storedItem(next)
		return backends.RosterUpdate{Item: next.Clone(), Exists: true, Changed: true, Version: s.bump(r)}, nil
	case backends.RosterDelete:
		if !found {
			return backends.RosterUpdate{Item: backends.RosterItem{Contact: contact}, Version: ver}, nil
		}
		delete(r.items, contact)
		return backends.RosterUpdate{Item: backends.RosterItem{Contact: contact}, Changed: true, Version: s.bump(r)}, nil
	}
	return backends.RosterUpdate{}, fmt.Errorf("memory: update roster item: unknown action %d: %w", action, backends.ErrInvalid)
}

// PutPendingIn implements backends.Rosters.
func (s *Store) PutPendingIn(ctx context.Context, domain, user string, p backends.PendingIn) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("memory: put pending request: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkRoster(ctx, "put pending request", domain, user); err != nil {
		return err
	}
	r := s.roster(domain, user, true)
	r.pending[strings.Clone(p.Contact)] = backends.PendingIn{Contact: strings.Clone(p.Contact), Stanza: slices.Clone(p.Stanza)}
	return nil
}

// DeletePendingIn implements backends.Rosters.
func (s *Store) DeletePendingIn(ctx context.Context, domain, user, contact string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkRoster(ctx, "delete pending request", domain, user, contact); err != nil {
		return false, err
	}
	r := s.roster(domain, user, false)
	if r == nil {
		return false, nil
	}
	_, ok := r.pending[contact]
	delete(r.pending, contact)
	return ok, nil
}

// PendingIn implements backends.Rosters.
func (s *Store) PendingIn(ctx context.Context, domain, user, contact string) (backends.PendingIn, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkRoster(ctx, "pending request", domain, user, contact); err != nil {
		return backends.PendingIn{}, err
	}
	if r := s.roster(domain, user, false); r != nil {
		if p, ok := r.pending[contact]; ok {
			return backends.PendingIn{Contact: p.Contact, Stanza: slices.Clone(p.Stanza)}, nil
		}
	}
	return backends.PendingIn{}, fmt.Errorf("memory: pending request from %s to %s@%s: %w", contact, user, domain, backends.ErrNotFound)
}

// PendingIns implements backends.Rosters.
func (s *Store) PendingIns(ctx context.Context, domain, user string) ([]backends.PendingIn, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkRoster(ctx, "pending requests", domain, user); err != nil {
		return nil, err
	}
	r := s.roster(domain, user, false)
	if r == nil || len(r.pending) == 0 {
		return nil, nil
	}
	out := make([]backends.PendingIn, 0, len(r.pending))
	for _, p := range r.pending {
		out = append(out, backends.PendingIn{Contact: p.Contact, Stanza: slices.Clone(p.Stanza)})
	}
	slices.SortFunc(out, func(a, b backends.PendingIn) int { return strings.Compare(a.Contact, b.Contact) })
	return out, nil
}

// DeleteRoster implements backends.Rosters.
func (s *Store) DeleteRoster(ctx context.Context, domain, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkRoster(ctx, "delete roster", domain, user); err != nil {
		return err
	}
	delete(s.rosters.rosters, rosterKey{domain, user})
	return nil
}
