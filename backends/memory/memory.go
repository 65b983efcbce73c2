// Package memory is a backends.Store held in process memory, for the unit tests of other
// packages: it needs no directory, starts empty, and forgets everything on Close.
//
// It passes the same conformance suite (backends/backendtest) as the durable engines, so a
// test written against it behaves the same against them. It must not be used to run a
// server: nothing is persisted, and listing sorts a domain's users on every call.
package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Store is an in-memory backends.Store. The zero value is not usable: call New. All
// methods are safe for concurrent use from any goroutine and never block on I/O.
type Store struct {
	mu      sync.RWMutex
	closed  bool
	domains map[string]map[string]backends.Account // domain -> user -> account
	rosters rosterData                             // roster.go
	offline offlineData                            // offline.go
	user    userData                               // userdata.go: vCards, private XML, last logouts
	privacy privacyData                            // privacy.go
}

var _ backends.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{domains: make(map[string]map[string]backends.Account)}
}

// Close empties the store; later calls return ErrClosed. It may be called more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.domains = nil
	return nil
}

// check reports why a call cannot proceed: a done context or a closed store. Callers
// hold s.mu.
func (s *Store) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	if s.closed {
		return fmt.Errorf("memory: %s: %w", op, backends.ErrClosed)
	}
	return nil
}

// prepare validates a and returns the deep copy to store, with its creation time set.
func prepare(a backends.Account) (backends.Account, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	a = a.Clone()
	// Clone shares the strings, which are immutable, but strings.Clone keeps a huge
	// caller buffer a key was sliced from from being pinned by the map.
	a.Domain, a.User = strings.Clone(a.Domain), strings.Clone(a.User)
	if a.Created.IsZero() {
		a.Created = time.Now()
	}
	return a, nil
}

// put stores a prepared account. Callers hold s.mu for writing.
func (s *Store) put(a backends.Account) {
	users := s.domains[a.Domain]
	if users == nil {
		users = make(map[string]backends.Account)
		s.domains[a.Domain] = users
	}
	users[a.User] = a
}

// CreateAccount implements backends.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a backends.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "create"); err != nil {
		return err
	}
	a, err := prepare(a)
	if err != nil {
		return fmt.Errorf("memory: create: %w", err)
	}
	if _, ok := s.domains[a.Domain][a.User]; ok {
		return fmt.Errorf("memory: create %s@%s: %w", a.User, a.Domain, backends.ErrExists)
	}
	s.put(a)
	return nil
}

// PutAccounts implements backends.Accounts.
func (s *Store) PutAccounts(ctx context.Context, as []backends.Account) error {
	prepared := make([]backends.Account, len(as))
	for i, a := range as {
		var err error
		if prepared[i], err = prepare(a); err != nil {
			return fmt.Errorf("memory: put accounts: account %d: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "put accounts"); err != nil {
		return err
	}
	for _, a := range prepared {
		s.put(a)
	}
	return nil
}

// DeleteAccount implements backends.Accounts.
func (s *Store) DeleteAccount(ctx context.Context, domain, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "delete"); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("memory: delete: %w", err)
	}
	users := s.domains[domain]
	if _, ok := users[user]; !ok {
		return fmt.Errorf("memory: delete %s@%s: %w", user, domain, backends.ErrNotFound)
	}
	delete(users, user)
	if len(users) == 0 {
		delete(s.domains, domain)
	}
	return nil
}

// SetCredentials implements backends.Accounts.
func (s *Store) SetCredentials(ctx context.Context, domain, user string, c backends.Credentials) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "set credentials"); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("memory: set credentials: %w", err)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("memory: set credentials of %s@%s: %w", user, domain, err)
	}
	a, ok := s.domains[domain][user]
	if !ok {
		return fmt.Errorf("memory: set credentials of %s@%s: %w", user, domain, backends.ErrNotFound)
	}
	a.Credentials = c.Clone()
	s.domains[domain][user] = a
	return nil
}

// Account implements backends.Accounts.
func (s *Store) Account(ctx context.Context, domain, user string) (backends.Account, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "read account"); err != nil {
		return backends.Account{}, err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return backends.Account{}, fmt.Errorf("memory: read account: %w", err)
	}
	a, ok := s.domains[domain][user]
	if !ok {
		return backends.Account{}, fmt.Errorf("memory: read account %s@%s: %w", user, domain, backends.ErrNotFound)
	}
	return a.Clone(), nil
}

// ListAccounts implements backends.Accounts.
func (s *Store) ListAccounts(ctx context.Context, domain, after string, limit int) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "list accounts"); err != nil {
		return nil, err
	}
	if err := backends.ValidateDomain(domain); err != nil {
		return nil, fmt.Errorf("memory: list accounts: %w", err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memory: list accounts of %s: limit %d: %w", domain, limit, backends.ErrInvalid)
	}
	var users []string
	for u := range s.domains[domain] {
		if u > after {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	if len(users) > limit {
		users = users[:limit:limit]
	}
	return users, nil
}

// CountAccounts implements backends.Accounts.
func (s *Store) CountAccounts(ctx context.Context, domain string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "count accounts"); err != nil {
		return 0, err
	}
	if err := backends.ValidateDomain(domain); err != nil {
		return 0, fmt.Errorf("memory: count accounts: %w", err)
	}
	return len(s.domains[domain]), nil
}
