package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// Privacy settings (XEP-0016) live in privacy/<domain>/<user>, one record per user
// holding every list and the default's name, so that a login reads them in one lookup
// and an edit rewrites them in one put. The bucket is created by the first write rather
// than by initSchema: a file that never stored privacy data does not carry it, and no
// schema change is needed.
var bucketPrivacy = []byte("privacy")

// Privacy record, format 1. Integers are uvarints; strings are a uvarint length and the
// bytes:
//
//	byte     format (1)
//	string   default list name ("" for none)
//	uvarint  number of lists, then for each (ordered by name):
//	  string   name
//	  uvarint  number of items, then for each (ordered by order):
//	    byte     bits 0-3 stanza kinds, bits 4-5 type, bit 6 deny
//	    uvarint  order
//	    string   value
//
// A blocking-command list of ten bare JIDs takes about 250 bytes.
const privacyFormat = 1

var errCorruptPrivacy = errors.New("corrupt privacy record")

var _ backends.Privacy = (*Store)(nil)

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendPrivacy appends the record of s, which must be valid and in normal form.
func appendPrivacy(dst []byte, s *backends.PrivacySettings) []byte {
	dst = append(dst, privacyFormat)
	dst = appendString(dst, s.Default)
	dst = binary.AppendUvarint(dst, uint64(len(s.Lists)))
	for _, l := range s.Lists {
		dst = appendString(dst, l.Name)
		dst = binary.AppendUvarint(dst, uint64(len(l.Items)))
		for _, it := range l.Items {
			b := byte(it.Stanzas) | byte(it.Type)<<4
			if it.Deny {
				b |= 1 << 6
			}
			dst = append(dst, b)
			dst = binary.AppendUvarint(dst, uint64(it.Order))
			dst = appendString(dst, it.Value)
		}
	}
	return dst
}

// decodePrivacy reads a record. It copies what it keeps (rec may be bbolt memory), and
// checks the result as Validate does, so that a damaged file cannot hand the server
// settings it would not have accepted.
func decodePrivacy(rec []byte) (backends.PrivacySettings, error) {
	var s backends.PrivacySettings
	if len(rec) < 1 || rec[0] != privacyFormat {
		return s, fmt.Errorf("%w: unknown format", errCorruptPrivacy)
	}
	r := privacyReader{b: rec[1:]}
	str := func(what string, max int) string {
		return string(r.bytes(what, int(r.uvarint(what+" length", uint64(max)))))
	}
	s.Default = str("default name", backends.MaxPrivacyNameLen)
	n := int(r.uvarint("list count", backends.MaxPrivacyLists))
	if r.err == nil && n > 0 {
		s.Lists = make([]backends.PrivacyList, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		l := &s.Lists[i]
		l.Name = str("list name", backends.MaxPrivacyNameLen)
		m := int(r.uvarint("item count", backends.MaxPrivacyItems))
		if r.err == nil && m > 0 {
			l.Items = make([]backends.PrivacyItem, m)
		}
		for j := 0; j < m && r.err == nil; j++ {
			it := &l.Items[j]
			b := r.bytes("item flags", 1)
			if r.err != nil {
				break
			}
			if b[0]&0x80 != 0 {
				r.fail("item flags")
				break
			}
			it.Stanzas = backends.PrivacyStanzas(b[0] & 0x0f)
			it.Type = backends.PrivacyItemType(b[0] >> 4 & 0x03)
			it.Deny = b[0]&(1<<6) != 0
			it.Order = uint32(r.uvarint("item order", 1<<32-1))
			it.Value = str("item value", backends.MaxPrivacyValueLen)
		}
	}
	if r.err != nil {
		return backends.PrivacySettings{}, r.err
	}
	if len(r.b) != 0 {
		return backends.PrivacySettings{}, fmt.Errorf("%w: %d trailing bytes", errCorruptPrivacy, len(r.b))
	}
	if err := s.Validate(); err != nil {
		return backends.PrivacySettings{}, fmt.Errorf("%w: %v", errCorruptPrivacy, err)
	}
	return s, nil
}

// privacyReader walks a privacy record, remembering the first error.
type privacyReader struct {
	b   []byte
	err error
}

func (r *privacyReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errCorruptPrivacy, what)
	}
	r.b = nil
}

func (r *privacyReader) uvarint(what string, max uint64) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *privacyReader) bytes(what string, n int) []byte {
	if len(r.b) < n {
		r.fail(what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// privacyRecord returns the stored record of a user, or nil.
func privacyRecord(tx *bbolt.Tx, domain, user string) []byte {
	b := tx.Bucket(bucketPrivacy)
	if b == nil {
		return nil
	}
	if b = b.Bucket([]byte(domain)); b == nil {
		return nil
	}
	return b.Get([]byte(user))
}

// PrivacySettings implements backends.Privacy.
func (s *Store) PrivacySettings(ctx context.Context, domain, user string) (backends.PrivacySettings, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return backends.PrivacySettings{}, fmt.Errorf("embedded: read privacy: %w", err)
	}
	var out backends.PrivacySettings
	err := s.view(ctx, "read privacy", func(tx *bbolt.Tx) error {
		rec := privacyRecord(tx, domain, user)
		if rec == nil {
			return nil
		}
		var err error
		if out, err = decodePrivacy(rec); err != nil {
			return fmt.Errorf("embedded: read privacy of %s@%s: %w", user, domain, err)
		}
		return nil
	})
	return out, err
}

// UpdatePrivacy implements backends.Privacy. fn runs inside the write transaction (and
// again if the committer retries the group), so it sees the latest committed settings.
func (s *Store) UpdatePrivacy(ctx context.Context, domain, user string, fn backends.PrivacyUpdateFunc) (backends.PrivacySettings, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return backends.PrivacySettings{}, fmt.Errorf("embedded: update privacy: %w", err)
	}
	var out backends.PrivacySettings
	err := s.write(ctx, "update privacy", func(tx *bbolt.Tx) (error, error) {
		cur := backends.PrivacySettings{}
		if rec := privacyRecord(tx, domain, user); rec != nil {
			var err error
			if cur, err = decodePrivacy(rec); err != nil {
				return fmt.Errorf("embedded: update privacy of %s@%s: %w", user, domain, err), nil
			}
		}
		if err := fn(&cur); err != nil {
			return err, nil
		}
		cur.Normalize()
		if err := cur.Validate(); err != nil {
			return fmt.Errorf("embedded: update privacy of %s@%s: %w", user, domain, err), nil
		}
		if err := putPrivacy(tx, domain, user, &cur); err != nil {
			return nil, fmt.Errorf("embedded: update privacy of %s@%s: %w", user, domain, err)
		}
		out = cur
		return nil, nil
	})
	if err != nil {
		return backends.PrivacySettings{}, err
	}
	return out.Clone(), nil
}

// putPrivacy stores settings, or deletes the record (and an emptied domain bucket) when
// they hold no list.
func putPrivacy(tx *bbolt.Tx, domain, user string, set *backends.PrivacySettings) error {
	if len(set.Lists) == 0 {
		return deletePrivacy(tx, domain, user)
	}
	root, err := tx.CreateBucketIfNotExists(bucketPrivacy)
	if err != nil {
		return fmt.Errorf("privacy bucket: %w", err)
	}
	b, err := root.CreateBucketIfNotExists([]byte(domain))
	if err != nil {
		return fmt.Errorf("domain bucket: %w", err)
	}
	if err := b.Put([]byte(user), appendPrivacy(nil, set)); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	return nil
}

func deletePrivacy(tx *bbolt.Tx, domain, user string) error {
	root := tx.Bucket(bucketPrivacy)
	if root == nil {
		return nil
	}
	b := root.Bucket([]byte(domain))
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte(user)); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if k, _ := b.Cursor().First(); k == nil {
		if err := root.DeleteBucket([]byte(domain)); err != nil {
			return fmt.Errorf("delete empty domain: %w", err)
		}
	}
	return nil
}

// DeletePrivacy implements backends.Privacy.
func (s *Store) DeletePrivacy(ctx context.Context, domain, user string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: delete privacy: %w", err)
	}
	return s.write(ctx, "delete privacy", func(tx *bbolt.Tx) (error, error) {
		if err := deletePrivacy(tx, domain, user); err != nil {
			return nil, fmt.Errorf("embedded: delete privacy of %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
}

// PrivacyDefaults implements backends.Privacy: one read transaction over the domain's
// records. fn runs inside it, on decoded copies.
func (s *Store) PrivacyDefaults(ctx context.Context, domain string, fn func(user string, list backends.PrivacyList) error) error {
	if err := backends.ValidateDomain(domain); err != nil {
		return fmt.Errorf("embedded: list privacy defaults: %w", err)
	}
	return s.view(ctx, "list privacy defaults", func(tx *bbolt.Tx) error {
		root := tx.Bucket(bucketPrivacy)
		if root == nil {
			return nil
		}
		b := root.Bucket([]byte(domain))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			set, err := decodePrivacy(v)
			if err != nil {
				return fmt.Errorf("embedded: list privacy defaults of %s: %s: %w", domain, k, err)
			}
			if l := set.DefaultList(); l != nil {
				return fn(string(k), *l)
			}
			return nil
		})
	})
}
