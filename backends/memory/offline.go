package memory

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// offlineQueue is one account's offline messages, oldest first.
type offlineQueue struct {
	next uint64 // the Seq of the next message appended
	msgs []backends.OfflineMessage
}

// offlineData holds the offline messages of every account. Its zero value is ready;
// the map is made on first write. Guarded by Store.mu.
type offlineData struct {
	queues map[userKey]*offlineQueue
}

var _ backends.Offline = (*Store)(nil)

// AppendOffline implements backends.Offline.
func (s *Store) AppendOffline(ctx context.Context, msgs []backends.OfflineMessage, limit int) ([]uint64, error) {
	for i := range msgs {
		if err := msgs[i].Validate(); err != nil {
			return nil, fmt.Errorf("memory: append offline: message %d: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "append offline"); err != nil {
		return nil, err
	}
	if s.offline.queues == nil {
		s.offline.queues = make(map[userKey]*offlineQueue)
	}
	seqs := make([]uint64, len(msgs))
	for i, m := range msgs {
		k := userKey{m.Domain, m.User}
		q := s.offline.queues[k]
		if q == nil {
			q = &offlineQueue{next: 1}
			s.offline.queues[keyOf(m.Domain, m.User)] = q
		}
		if limit > 0 && len(q.msgs) >= limit {
			continue
		}
		stamp := m.Stamp
		if stamp.IsZero() {
			stamp = time.Now()
		}
		q.msgs = append(q.msgs, backends.OfflineMessage{
			Domain: k.domain, User: k.user, Seq: q.next,
			Stamp: stamp.Truncate(time.Millisecond), Raw: slices.Clone(m.Raw),
		})
		seqs[i] = q.next
		q.next++
	}
	return seqs, nil
}

// OfflineMessages implements backends.Offline.
func (s *Store) OfflineMessages(ctx context.Context, domain, user string, max int) ([]backends.OfflineMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "read offline"); err != nil {
		return nil, err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("memory: read offline: %w", err)
	}
	if max <= 0 {
		return nil, fmt.Errorf("memory: read offline of %s@%s: max %d: %w", user, domain, max, backends.ErrInvalid)
	}
	q := s.offline.queues[userKey{domain, user}]
	if q == nil {
		return nil, nil
	}
	out := make([]backends.OfflineMessage, 0, min(max, len(q.msgs)))
	for _, m := range q.msgs[:min(max, len(q.msgs))] {
		m.Raw = slices.Clone(m.Raw)
		out = append(out, m)
	}
	return out, nil
}

// DeleteOffline implements backends.Offline.
func (s *Store) DeleteOffline(ctx context.Context, domain, user string, through uint64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "delete offline"); err != nil {
		return 0, err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return 0, fmt.Errorf("memory: delete offline: %w", err)
	}
	k := userKey{domain, user}
	q := s.offline.queues[k]
	if q == nil {
		return 0, nil
	}
	n := 0
	for n < len(q.msgs) && q.msgs[n].Seq <= through {
		n++
	}
	q.msgs = slices.Delete(q.msgs, 0, n)
	if through == math.MaxUint64 {
		delete(s.offline.queues, k)
	}
	return n, nil
}

// CountOffline implements backends.Offline.
func (s *Store) CountOffline(ctx context.Context, domain, user string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "count offline"); err != nil {
		return 0, err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return 0, fmt.Errorf("memory: count offline: %w", err)
	}
	if q := s.offline.queues[userKey{domain, user}]; q != nil {
		return len(q.msgs), nil
	}
	return 0, nil
}
