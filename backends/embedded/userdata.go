package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// Small per-account data: vCards, private XML and last logouts.
//
// Layout, each top-level bucket created on its first write (so that files written
// before these kinds existed need no migration):
//
//	vcards/<domain>/<user>                   format byte (1), then the vCard verbatim
//	private/<domain>/<prefix><namespace>     format byte (1), then the fragment verbatim
//	last_logout/<domain>/<user>              format byte (1), varint Unix seconds, status
//
// <prefix> is userPrefix(user): private XML keys start with the user's length so that
// one user's namespaces are contiguous and no user can be a prefix of another's key.

var (
	bucketVCards     = []byte("vcards")
	bucketPrivate    = []byte("private")
	bucketLastLogout = []byte("last_logout")
)

const (
	vcardFormat   = 1
	privateFormat = 1
	lastFormat    = 1
)

var (
	_ backends.VCards       = (*Store)(nil)
	_ backends.PrivateXML   = (*Store)(nil)
	_ backends.LastActivity = (*Store)(nil)
)

// userPrefix appends to dst the key prefix of user: its length as uint16 big-endian
// (backends.MaxPartLen fits), then its bytes.
func userPrefix(dst []byte, user string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(user)))
	return append(dst, user...)
}

// domainBucket returns top/<domain>, or nil when either does not exist.
func domainBucket(tx *bbolt.Tx, top []byte, domain string) *bbolt.Bucket {
	t := tx.Bucket(top)
	if t == nil {
		return nil
	}
	return t.Bucket([]byte(domain))
}

// createDomainBucket returns top/<domain>, creating both as needed. Write transactions
// only.
func createDomainBucket(tx *bbolt.Tx, top, domain []byte) (*bbolt.Bucket, error) {
	t, err := tx.CreateBucketIfNotExists(top)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", top, err)
	}
	b, err := t.CreateBucketIfNotExists(domain)
	if err != nil {
		return nil, fmt.Errorf("bucket %s/%s: %w", top, domain, err)
	}
	return b, nil
}

// getBlob reads a format-tagged verbatim value: a copy of what follows the format byte.
// It returns nil, nil when the key is absent.
func (s *Store) getBlob(ctx context.Context, what string, top []byte, domain string, key []byte, format byte) ([]byte, error) {
	var out []byte
	err := s.view(ctx, what, func(tx *bbolt.Tx) error {
		b := domainBucket(tx, top, domain)
		if b == nil {
			return nil
		}
		v := b.Get(key)
		if v == nil {
			return nil
		}
		if len(v) < 2 || v[0] != format {
			return fmt.Errorf("embedded: %s: %w: bad record", what, errCorrupt)
		}
		out = bytes.Clone(v[1:])
		return nil
	})
	return out, err
}

// deleteKey removes top/<domain>/<key> if present.
func (s *Store) deleteKey(ctx context.Context, what string, top []byte, domain string, key []byte) error {
	return s.write(ctx, what, func(tx *bbolt.Tx) (error, error) {
		if b := domainBucket(tx, top, domain); b != nil {
			if err := b.Delete(key); err != nil {
				return nil, fmt.Errorf("embedded: %s: %w", what, err)
			}
		}
		return nil, nil
	})
}

// VCard implements backends.VCards.
func (s *Store) VCard(ctx context.Context, domain, user string) ([]byte, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("embedded: read vCard: %w", err)
	}
	what := "read vCard of " + user + "@" + domain
	v, err := s.getBlob(ctx, what, bucketVCards, domain, []byte(user), vcardFormat)
	if err == nil && v == nil {
		err = fmt.Errorf("embedded: %s: %w", what, backends.ErrNotFound)
	}
	return v, err
}

// SetVCard implements backends.VCards.
func (s *Store) SetVCard(ctx context.Context, domain, user string, vcard []byte) error {
	if err := backends.ValidateVCard(domain, user, vcard); err != nil {
		return fmt.Errorf("embedded: set vCard: %w", err)
	}
	rec := append([]byte{vcardFormat}, vcard...)
	return s.write(ctx, "set vCard", func(tx *bbolt.Tx) (error, error) {
		b, err := createDomainBucket(tx, bucketVCards, []byte(domain))
		if err == nil {
			err = b.Put([]byte(user), rec)
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: set vCard of %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
}

// DeleteVCard implements backends.VCards.
func (s *Store) DeleteVCard(ctx context.Context, domain, user string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: delete vCard: %w", err)
	}
	return s.deleteKey(ctx, "delete vCard of "+user+"@"+domain, bucketVCards, domain, []byte(user))
}

// PrivateXML implements backends.PrivateXML.
func (s *Store) PrivateXML(ctx context.Context, domain, user, namespace string) ([]byte, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("embedded: read private XML: %w", err)
	}
	what := fmt.Sprintf("read private XML %q of %s@%s", namespace, user, domain)
	v, err := s.getBlob(ctx, what, bucketPrivate, domain, append(userPrefix(nil, user), namespace...), privateFormat)
	if err == nil && v == nil {
		err = fmt.Errorf("embedded: %s: %w", what, backends.ErrNotFound)
	}
	return v, err
}

// SetPrivateXML implements backends.PrivateXML.
func (s *Store) SetPrivateXML(ctx context.Context, domain, user string, items []backends.PrivateItem) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: set private XML: %w", err)
	}
	keys, recs := make([][]byte, len(items)), make([][]byte, len(items))
	for i := range items {
		if err := items[i].Validate(); err != nil {
			return fmt.Errorf("embedded: set private XML of %s@%s: %w", user, domain, err)
		}
		keys[i] = append(userPrefix(nil, user), items[i].Namespace...)
		recs[i] = append([]byte{privateFormat}, items[i].XML...)
	}
	return s.write(ctx, "set private XML", func(tx *bbolt.Tx) (error, error) {
		b, err := createDomainBucket(tx, bucketPrivate, []byte(domain))
		for i := 0; err == nil && i < len(keys); i++ {
			err = b.Put(keys[i], recs[i])
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: set private XML of %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
}

// DeletePrivateXML implements backends.PrivateXML.
func (s *Store) DeletePrivateXML(ctx context.Context, domain, user string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: delete private XML: %w", err)
	}
	prefix := userPrefix(nil, user)
	return s.write(ctx, "delete private XML", func(tx *bbolt.Tx) (error, error) {
		b := domainBucket(tx, bucketPrivate, domain)
		if b == nil {
			return nil, nil
		}
		var doomed [][]byte // collected first: deleting under a moving cursor skips keys
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			doomed = append(doomed, bytes.Clone(k))
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return nil, fmt.Errorf("embedded: delete private XML of %s@%s: %w", user, domain, err)
			}
		}
		return nil, nil
	})
}

// LastLogout implements backends.LastActivity.
func (s *Store) LastLogout(ctx context.Context, domain, user string) (backends.LastLogout, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return backends.LastLogout{}, fmt.Errorf("embedded: read last logout: %w", err)
	}
	what := "read last logout of " + user + "@" + domain
	var l backends.LastLogout
	err := s.view(ctx, what, func(tx *bbolt.Tx) error {
		var v []byte
		if b := domainBucket(tx, bucketLastLogout, domain); b != nil {
			v = b.Get([]byte(user))
		}
		if v == nil {
			return fmt.Errorf("embedded: %s: %w", what, backends.ErrNotFound)
		}
		var err error
		if l, err = decodeLastLogout(v); err != nil {
			return fmt.Errorf("embedded: %s: %w", what, err)
		}
		return nil
	})
	if err != nil {
		return backends.LastLogout{}, err
	}
	return l, nil
}

// SetLastLogout implements backends.LastActivity.
func (s *Store) SetLastLogout(ctx context.Context, domain, user string, l backends.LastLogout) error {
	if err := backends.ValidateLastLogout(domain, user, l); err != nil {
		return fmt.Errorf("embedded: set last logout: %w", err)
	}
	rec := appendLastLogout(nil, l)
	return s.write(ctx, "set last logout", func(tx *bbolt.Tx) (error, error) {
		b, err := createDomainBucket(tx, bucketLastLogout, []byte(domain))
		if err == nil {
			err = b.Put([]byte(user), rec)
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: set last logout of %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
}

var _ backends.LastLogoutBatcher = (*Store)(nil)

// SetLastLogouts implements backends.LastLogoutBatcher: every entry in one write, so
// one commit for the whole batch.
func (s *Store) SetLastLogouts(ctx context.Context, entries []backends.LastLogoutEntry) error {
	recs := make([][]byte, len(entries))
	for i, e := range entries {
		if err := backends.ValidateLastLogout(e.Domain, e.User, e.Last); err != nil {
			return fmt.Errorf("embedded: set last logouts: %w", err)
		}
		recs[i] = appendLastLogout(nil, e.Last)
	}
	return s.write(ctx, "set last logouts", func(tx *bbolt.Tx) (error, error) {
		for i, e := range entries {
			b, err := createDomainBucket(tx, bucketLastLogout, []byte(e.Domain))
			if err == nil {
				err = b.Put([]byte(e.User), recs[i])
			}
			if err != nil {
				return nil, fmt.Errorf("embedded: set last logout of %s@%s: %w", e.User, e.Domain, err)
			}
		}
		return nil, nil
	})
}

// appendLastLogout appends the record of l.
func appendLastLogout(dst []byte, l backends.LastLogout) []byte {
	dst = append(dst, lastFormat)
	dst = binary.AppendVarint(dst, l.At.Unix())
	return append(dst, l.Status...)
}

// decodeLastLogout decodes a record written by appendLastLogout, copying the status.
func decodeLastLogout(v []byte) (backends.LastLogout, error) {
	if len(v) < 2 || v[0] != lastFormat {
		return backends.LastLogout{}, fmt.Errorf("%w: bad last logout record", errCorrupt)
	}
	secs, n := binary.Varint(v[1:])
	if n <= 0 {
		return backends.LastLogout{}, fmt.Errorf("%w: bad last logout time", errCorrupt)
	}
	return backends.LastLogout{At: time.Unix(secs, 0).UTC(), Status: string(v[1+n:])}, nil
}

// DeleteLastLogout implements backends.LastActivity.
func (s *Store) DeleteLastLogout(ctx context.Context, domain, user string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: delete last logout: %w", err)
	}
	return s.deleteKey(ctx, "delete last logout of "+user+"@"+domain, bucketLastLogout, domain, []byte(user))
}
