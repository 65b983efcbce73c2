package memory

import (
	"context"
	"fmt"
	"strings"

	"github.com/hermod-im/hermod/backends"
)

// privacyData holds every user's privacy settings, guarded by Store.mu. Its zero value
// is ready: the map is made on first write.
type privacyData struct {
	users map[privacyKey]backends.PrivacySettings
}

type privacyKey struct{ domain, user string }

var _ backends.Privacy = (*Store)(nil)

// checkPrivacy reports why a privacy call cannot proceed. Callers hold s.mu.
func (s *Store) checkPrivacy(ctx context.Context, op, domain, user string) error {
	if err := s.check(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	return nil
}

// PrivacySettings implements backends.Privacy.
func (s *Store) PrivacySettings(ctx context.Context, domain, user string) (backends.PrivacySettings, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkPrivacy(ctx, "read privacy", domain, user); err != nil {
		return backends.PrivacySettings{}, err
	}
	return s.privacy.users[privacyKey{domain, user}].Clone(), nil
}

// UpdatePrivacy implements backends.Privacy.
func (s *Store) UpdatePrivacy(ctx context.Context, domain, user string, fn backends.PrivacyUpdateFunc) (backends.PrivacySettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkPrivacy(ctx, "update privacy", domain, user); err != nil {
		return backends.PrivacySettings{}, err
	}
	key := privacyKey{domain, user}
	next := s.privacy.users[key].Clone()
	if err := fn(&next); err != nil {
		return backends.PrivacySettings{}, err
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return backends.PrivacySettings{}, fmt.Errorf("memory: update privacy of %s@%s: %w", user, domain, err)
	}
	if len(next.Lists) == 0 {
		delete(s.privacy.users, key)
		return backends.PrivacySettings{}, nil
	}
	if s.privacy.users == nil {
		s.privacy.users = make(map[privacyKey]backends.PrivacySettings)
	}
	// The stored copy shares nothing with what the caller gets back, nor with strings
	// sliced from the caller's buffers.
	stored := next.Clone()
	stored.Default = strings.Clone(stored.Default)
	for i := range stored.Lists {
		l := &stored.Lists[i]
		l.Name = strings.Clone(l.Name)
		for j := range l.Items {
			l.Items[j].Value = strings.Clone(l.Items[j].Value)
		}
	}
	s.privacy.users[privacyKey{strings.Clone(domain), strings.Clone(user)}] = stored
	return next, nil
}

// DeletePrivacy implements backends.Privacy.
func (s *Store) DeletePrivacy(ctx context.Context, domain, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkPrivacy(ctx, "delete privacy", domain, user); err != nil {
		return err
	}
	delete(s.privacy.users, privacyKey{domain, user})
	return nil
}

// PrivacyDefaults implements backends.Privacy. It calls fn without holding the lock, on
// copies, so that fn may take its time.
func (s *Store) PrivacyDefaults(ctx context.Context, domain string, fn func(user string, list backends.PrivacyList) error) error {
	type entry struct {
		user string
		list backends.PrivacyList
	}
	if err := backends.ValidateDomain(domain); err != nil {
		return fmt.Errorf("memory: list privacy defaults: %w", err)
	}
	var found []entry
	s.mu.RLock()
	if err := s.check(ctx, "list privacy defaults"); err != nil {
		s.mu.RUnlock()
		return err
	}
	for k, v := range s.privacy.users {
		if k.domain == domain && v.Default != "" {
			c := v.Clone()
			found = append(found, entry{k.user, *c.DefaultList()})
		}
	}
	s.mu.RUnlock()
	for _, e := range found {
		if err := fn(e.user, e.list); err != nil {
			return err
		}
	}
	return nil
}
