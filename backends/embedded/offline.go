package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// Offline messages.
//
// Layout: offline/<domain> holds, for each account with messages, one meta key and one
// key per message, all starting with the account's prefix (userPrefix: the user's
// length, then the user):
//
//	<prefix>           meta: uint64 big-endian, the next Seq; uint32 big-endian, the count
//	<prefix><seq>      a message, seq as uint64 big-endian: oldest first in cursor order
//
// A flat bucket rather than a bucket per account: millions of accounts with a message
// or two would each cost a bucket header and an inline page. The meta key keeps the
// count, so that the per-account limit is checked without walking the messages, and
// the next Seq, so that a Seq is never given twice even after the queue was emptied; it
// goes only when the account is forgotten (DeleteOffline through math.MaxUint64).
//
// Message record, format 1:
//
//	byte    format (1)
//	varint  Stamp, milliseconds since the Unix epoch
//	...     the stanza, to the end of the value

var bucketOffline = []byte("offline")

const (
	offlineFormat  = 1
	offlineMetaLen = 12
)

var _ backends.Offline = (*Store)(nil)

// offlineMeta is the decoded meta value of an account.
type offlineMeta struct {
	next  uint64
	count uint32
}

// readOfflineMeta reads the meta key of the account with prefix; an absent key is an
// account that never had messages.
func readOfflineMeta(b *bbolt.Bucket, prefix []byte) (offlineMeta, error) {
	return readOfflineMetaValue(b.Get(prefix))
}

// readOfflineMetaValue decodes a meta value (nil: absent).
func readOfflineMetaValue(v []byte) (offlineMeta, error) {
	switch {
	case v == nil:
		return offlineMeta{next: 1}, nil
	case len(v) != offlineMetaLen:
		return offlineMeta{}, fmt.Errorf("%w: offline meta of %d bytes", errCorrupt, len(v))
	}
	return offlineMeta{binary.BigEndian.Uint64(v), binary.BigEndian.Uint32(v[8:])}, nil
}

func (m offlineMeta) encode() []byte {
	v := make([]byte, offlineMetaLen)
	binary.BigEndian.PutUint64(v, m.next)
	binary.BigEndian.PutUint32(v[8:], m.count)
	return v
}

// appendOfflineRecord encodes a message's value.
func appendOfflineRecord(dst []byte, stamp time.Time, raw []byte) []byte {
	dst = append(dst, offlineFormat)
	dst = binary.AppendVarint(dst, stamp.UnixMilli())
	return append(dst, raw...)
}

// decodeOfflineRecord fills m's Stamp and Raw (a copy) from v.
func decodeOfflineRecord(v []byte, m *backends.OfflineMessage) error {
	if len(v) < 1 || v[0] != offlineFormat {
		return fmt.Errorf("%w: unknown offline message format", errCorrupt)
	}
	ms, n := binary.Varint(v[1:])
	if n <= 0 || len(v) == 1+n {
		return fmt.Errorf("%w: bad offline message", errCorrupt)
	}
	m.Stamp = time.UnixMilli(ms).UTC()
	m.Raw = bytes.Clone(v[1+n:])
	return nil
}

// AppendOffline implements backends.Offline. The whole batch is one operation of the
// committer, so it shares a commit with whatever else is being written.
func (s *Store) AppendOffline(ctx context.Context, msgs []backends.OfflineMessage, limit int) ([]uint64, error) {
	now := time.Now()
	type prepared struct {
		domain []byte
		prefix []byte
		rec    []byte
	}
	ps := make([]prepared, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("embedded: append offline: message %d: %w", i, err)
		}
		stamp := m.Stamp
		if stamp.IsZero() {
			stamp = now // taken before the hand-over, so that a retry writes the same
		}
		ps[i] = prepared{[]byte(m.Domain), userPrefix(nil, m.User), appendOfflineRecord(nil, stamp, m.Raw)}
	}
	seqs := make([]uint64, len(msgs))
	err := s.write(ctx, "append offline", func(tx *bbolt.Tx) (error, error) {
		clear(seqs) // a retried run starts over
		for i, p := range ps {
			b, err := createDomainBucket(tx, bucketOffline, p.domain)
			if err != nil {
				return nil, fmt.Errorf("embedded: append offline: %w", err)
			}
			meta, err := readOfflineMeta(b, p.prefix)
			if err != nil {
				return fmt.Errorf("embedded: append offline for %s@%s: %w", msgs[i].User, msgs[i].Domain, err), nil
			}
			if limit > 0 && int64(meta.count) >= int64(limit) {
				continue
			}
			key := binary.BigEndian.AppendUint64(append(make([]byte, 0, len(p.prefix)+8), p.prefix...), meta.next)
			if err := b.Put(key, p.rec); err != nil {
				return nil, fmt.Errorf("embedded: append offline for %s@%s: %w", msgs[i].User, msgs[i].Domain, err)
			}
			seqs[i] = meta.next
			meta.next++
			meta.count++
			if err := b.Put(p.prefix, meta.encode()); err != nil {
				return nil, fmt.Errorf("embedded: append offline for %s@%s: %w", msgs[i].User, msgs[i].Domain, err)
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// isMessageKey reports whether k is a message key of the account with prefix.
func isMessageKey(k, prefix []byte) bool {
	return len(k) == len(prefix)+8 && bytes.HasPrefix(k, prefix)
}

// OfflineMessages implements backends.Offline.
func (s *Store) OfflineMessages(ctx context.Context, domain, user string, max int) ([]backends.OfflineMessage, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("embedded: read offline: %w", err)
	}
	if max <= 0 {
		return nil, fmt.Errorf("embedded: read offline of %s@%s: max %d: %w", user, domain, max, backends.ErrInvalid)
	}
	prefix := userPrefix(nil, user)
	var out []backends.OfflineMessage
	err := s.view(ctx, "read offline", func(tx *bbolt.Tx) error {
		b := domainBucket(tx, bucketOffline, domain)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < max; k, v = c.Next() {
			if !isMessageKey(k, prefix) {
				continue // the meta key
			}
			m := backends.OfflineMessage{Domain: domain, User: user, Seq: binary.BigEndian.Uint64(k[len(prefix):])}
			if err := decodeOfflineRecord(v, &m); err != nil {
				return fmt.Errorf("embedded: read offline of %s@%s, seq %d: %w", user, domain, m.Seq, err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOffline implements backends.Offline.
func (s *Store) DeleteOffline(ctx context.Context, domain, user string, through uint64) (int, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return 0, fmt.Errorf("embedded: delete offline: %w", err)
	}
	prefix := userPrefix(nil, user)
	var removed int
	err := s.write(ctx, "delete offline", func(tx *bbolt.Tx) (error, error) {
		removed = 0
		b := domainBucket(tx, bucketOffline, domain)
		if b == nil {
			return nil, nil
		}
		meta, err := readOfflineMeta(b, prefix)
		if err != nil {
			return fmt.Errorf("embedded: delete offline of %s@%s: %w", user, domain, err), nil
		}
		// Keys are collected first: deleting under a moving bbolt cursor skips keys.
		var doomed [][]byte
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if !isMessageKey(k, prefix) {
				continue
			}
			if binary.BigEndian.Uint64(k[len(prefix):]) > through {
				break
			}
			doomed = append(doomed, bytes.Clone(k))
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return nil, fmt.Errorf("embedded: delete offline of %s@%s: %w", user, domain, err)
			}
		}
		removed = len(doomed)
		if through == math.MaxUint64 {
			err = b.Delete(prefix)
		} else if removed > 0 {
			meta.count -= uint32(min(removed, int(meta.count)))
			err = b.Put(prefix, meta.encode())
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: delete offline of %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// CountOffline implements backends.Offline: one read of the meta key.
func (s *Store) CountOffline(ctx context.Context, domain, user string) (int, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return 0, fmt.Errorf("embedded: count offline: %w", err)
	}
	var n int
	err := s.view(ctx, "count offline", func(tx *bbolt.Tx) error {
		b := domainBucket(tx, bucketOffline, domain)
		if b == nil {
			return nil
		}
		meta, err := readOfflineMeta(b, userPrefix(nil, user))
		if err != nil {
			return fmt.Errorf("embedded: count offline of %s@%s: %w", user, domain, err)
		}
		n = int(meta.count)
		return nil
	})
	return n, err
}
