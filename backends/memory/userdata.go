package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// The small kinds of per-account data: vCards, private XML and last logouts. Each is a
// map made on first write, guarded by Store.mu.

// userKey names one account in the maps of the kinds of data kept per account.
type userKey struct{ domain, user string }

// keyOf returns the map key of an account, with its strings copied so that a caller's
// large buffer is not pinned by the map.
func keyOf(domain, user string) userKey {
	return userKey{strings.Clone(domain), strings.Clone(user)}
}

// userData holds them. Its zero value is ready.
type userData struct {
	vcards  map[userKey][]byte
	private map[userKey]map[string][]byte // account -> namespace -> fragment
	last    map[userKey]backends.LastLogout
}

var (
	_ backends.VCards       = (*Store)(nil)
	_ backends.PrivateXML   = (*Store)(nil)
	_ backends.LastActivity = (*Store)(nil)
)

// VCard implements backends.VCards.
func (s *Store) VCard(ctx context.Context, domain, user string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkKey(ctx, "read vCard", domain, user); err != nil {
		return nil, err
	}
	v, ok := s.user.vcards[userKey{domain, user}]
	if !ok {
		return nil, fmt.Errorf("memory: read vCard of %s@%s: %w", user, domain, backends.ErrNotFound)
	}
	return slices.Clone(v), nil
}

// SetVCard implements backends.VCards.
func (s *Store) SetVCard(ctx context.Context, domain, user string, vcard []byte) error {
	if err := backends.ValidateVCard(domain, user, vcard); err != nil {
		return fmt.Errorf("memory: set vCard: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "set vCard"); err != nil {
		return err
	}
	if s.user.vcards == nil {
		s.user.vcards = make(map[userKey][]byte)
	}
	s.user.vcards[keyOf(domain, user)] = slices.Clone(vcard)
	return nil
}

// DeleteVCard implements backends.VCards.
func (s *Store) DeleteVCard(ctx context.Context, domain, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkKey(ctx, "delete vCard", domain, user); err != nil {
		return err
	}
	delete(s.user.vcards, userKey{domain, user})
	return nil
}

// PrivateXML implements backends.PrivateXML.
func (s *Store) PrivateXML(ctx context.Context, domain, user, namespace string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkKey(ctx, "read private XML", domain, user); err != nil {
		return nil, err
	}
	v, ok := s.user.private[userKey{domain, user}][namespace]
	if !ok {
		return nil, fmt.Errorf("memory: read private XML %q of %s@%s: %w", namespace, user, domain, backends.ErrNotFound)
	}
	return slices.Clone(v), nil
}

// SetPrivateXML implements backends.PrivateXML.
func (s *Store) SetPrivateXML(ctx context.Context, domain, user string, items []backends.PrivateItem) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("memory: set private XML: %w", err)
	}
	for i := range items {
		if err := items[i].Validate(); err != nil {
			return fmt.Errorf("memory: set private XML of %s@%s: %w", user, domain, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "set private XML"); err != nil {
		return err
	}
	if s.user.private == nil {
		s.user.private = make(map[userKey]map[string][]byte)
	}
	k := userKey{domain, user}
	m := s.user.private[k]
	if m == nil {
		m = make(map[string][]byte)
		s.user.private[keyOf(domain, user)] = m
	}
	for _, it := range items {
		m[strings.Clone(it.Namespace)] = slices.Clone(it.XML)
	}
	return nil
}

// DeletePrivateXML implements backends.PrivateXML.
func (s *Store) DeletePrivateXML(ctx context.Context, domain, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkKey(ctx, "delete private XML", domain, user); err != nil {
		return err
	}
	delete(s.user.private, userKey{domain, user})
	return nil
}

// LastLogout implements backends.LastActivity.
func (s *Store) LastLogout(ctx context.Context, domain, user string) (backends.LastLogout, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkKey(ctx, "read last logout", domain, user); err != nil {
		return backends.LastLogout{}, err
	}
	l, ok := s.user.last[userKey{domain, user}]
	if !ok {
		return l, fmt.Errorf("memory: read last logout of %s@%s: %w", user, domain, backends.ErrNotFound)
	}
	return l, nil
}

// SetLastLogout implements backends.LastActivity.
func (s *Store) SetLastLogout(ctx context.Context, domain, user string, l backends.LastLogout) error {
	if err := backends.ValidateLastLogout(domain, user, l); err != nil {
		return fmt.Errorf("memory: set last logout: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "set last logout"); err != nil {
		return err
	}
	if s.user.last == nil {
		s.user.last = make(map[userKey]backends.LastLogout)
	}
	l.At = l.At.Truncate(time.Second)
	l.Status = strings.Clone(l.Status)
	s.user.last[keyOf(domain, user)] = l
	return nil
}

// DeleteLastLogout implements backends.LastActivity.
func (s *Store) DeleteLastLogout(ctx context.Context, domain, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkKey(ctx, "delete last logout", domain, user); err != nil {
		return err
	}
	delete(s.user.last, userKey{domain, user})
	return nil
}

// checkKey is check followed by the validation of an account key. Callers hold s.mu.
func (s *Store) checkKey(ctx context.Context, op, domain, user string) error {
	if err := s.check(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	return nil
}
