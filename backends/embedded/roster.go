package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

var _ backends.Rosters = (*Store)(nil)

// rosterDomain returns the domain's bucket inside the top-level bucket name, or nil
// when either does not exist yet.
func rosterDomain(tx *bbolt.Tx, name []byte, domain string) *bbolt.Bucket {
	top := tx.Bucket(name)
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(domain))
}

// rosterWriter changes one user's roster inside a write transaction.
type rosterWriter struct {
	top    *bbolt.Bucket // rosters
	b      *bbolt.Bucket // rosters/<domain>
	prefix []byte
}

func openRosterWriter(tx *bbolt.Tx, domain, user string) (*rosterWriter, error) {
	top, err := tx.CreateBucketIfNotExists(bucketRosters)
	if err != nil {
		return nil, fmt.Errorf("rosters bucket: %w", err)
	}
	b, err := top.CreateBucketIfNotExists([]byte(domain))
	if err != nil {
		return nil, fmt.Errorf("roster domain bucket: %w", err)
	}
	return &rosterWriter{top: top, b: b, prefix: rosterPrefix(nil, user)}, nil
}

// version returns the roster's current version (0 if none).
func (w *rosterWriter) version() uint64 {
	if v := w.b.Get(w.prefix); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// bump gives the roster a new version from the file-wide sequence and returns it.
func (w *rosterWriter) bump() (uint64, error) {
	v, err := w.top.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("next roster version: %w", err)
	}
	if err := w.b.Put(w.prefix, binary.BigEndian.AppendUint64(nil, v)); err != nil {
		return 0, fmt.Errorf("write roster version: %w", err)
	}
	return v, nil
}

func (w *rosterWriter) key(contact string) []byte {
	return append(w.prefix[:len(w.prefix):len(w.prefix)], contact...)
}

// validateRosterCall checks the keys of a roster call.
func validateRosterCall(domain, user string, contacts ...string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return err
	}
	for _, c := range contacts {
		if err := backends.ValidateContact(c); err != nil {
			return err
		}
	}
	return nil
}

// Roster implements backends.Rosters.
func (s *Store) Roster(ctx context.Context, domain, user string) ([]backends.RosterItem, uint64, error) {
	if err := validateRosterCall(domain, user); err != nil {
		return nil, 0, fmt.Errorf("embedded: roster: %w", err)
	}
	var items []backends.RosterItem
	var ver uint64
	err := s.view(ctx, "roster", func(tx *bbolt.Tx) error {
		b := rosterDomain(tx, bucketRosters, domain)
		if b == nil {
			return nil
		}
		prefix := rosterPrefix(nil, user)
		var scratch []byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) == len(prefix) {
				if len(v) == 8 {
					ver = binary.BigEndian.Uint64(v)
				}
				continue
			}
			it, grown, err := decodeRosterItem(k[len(prefix):], v, scratch)
			scratch = grown
			if err != nil {
				return fmt.Errorf("embedded: roster of %s@%s: item %q: %w", user, domain, k[len(prefix):], err)
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return items, ver, nil
}

// RosterVersion implements backends.Rosters.
func (s *Store) RosterVersion(ctx context.Context, domain, user string) (uint64, error) {
	if err := validateRosterCall(domain, user); err != nil {
		return 0, fmt.Errorf("embedded: roster version: %w", err)
	}
	var ver uint64
	err := s.view(ctx, "roster version", func(tx *bbolt.Tx) error {
		if b := rosterDomain(tx, bucketRosters, domain); b != nil {
			if v := b.Get(rosterPrefix(nil, user)); len(v) == 8 {
				ver = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return ver, err
}

// RosterItem implements backends.Rosters.
func (s *Store) RosterItem(ctx context.Context, domain, user, contact string) (backends.RosterItem, error) {
	if err := validateRosterCall(domain, user, contact); err != nil {
		return backends.RosterItem{}, fmt.Errorf("embedded: roster item: %w", err)
	}
	var it backends.RosterItem
	err := s.view(ctx, "roster item", func(tx *bbolt.Tx) error {
		var rec []byte
		if b := rosterDomain(tx, bucketRosters, domain); b != nil {
			rec = b.Get(rosterItemKey(user, contact))
		}
		if rec == nil {
			return fmt.Errorf("embedded: roster item %s of %s@%s: %w", contact, user, domain, backends.ErrNotFound)
		}
		var err error
		if it, _, err = decodeRosterItem([]byte(contact), rec, nil); err != nil {
			return fmt.Errorf("embedded: roster item %s of %s@%s: %w", contact, user, domain, err)
		}
		return nil
	})
	if err != nil {
		return backends.RosterItem{}, err
	}
	return it, nil
}

// PutRosterItem implements backends.Rosters.
func (s *Store) PutRosterItem(ctx context.Context, domain, user string, item backends.RosterItem) (uint64, error) {
	if err := validateRosterCall(domain, user); err != nil {
		return 0, fmt.Errorf("embedded: put roster item: %w", err)
	}
	if err := item.Validate(); err != nil {
		return 0, fmt.Errorf("embedded: put roster item: %w", err)
	}
	rec := appendRosterItem(nil, &item)
	contact := item.Contact
	var ver uint64
	err := s.write(ctx, "put roster item", func(tx *bbolt.Tx) (error, error) {
		w, err := openRosterWriter(tx, domain, user)
		if err == nil {
			err = w.b.Put(w.key(contact), rec)
		}
		if err == nil {
			ver, err = w.bump()
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: put roster item %s of %s@%s: %w", contact, user, domain, err)
		}
		return nil, nil
	})
	return ver, err
}

// DeleteRosterItem implements backends.Rosters.
func (s *Store) DeleteRosterItem(ctx context.Context, domain, user, contact string) (uint64, error) {
	if err := validateRosterCall(domain, user, contact); err != nil {
		return 0, fmt.Errorf("embedded: delete roster item: %w", err)
	}
	var ver uint64
	err := s.write(ctx, "delete roster item", func(tx *bbolt.Tx) (error, error) {
		b := rosterDomain(tx, bucketRosters, domain)
		if b == nil || b.Get(rosterItemKey(user, contact)) == nil {
			return fmt.Errorf("embedded: delete roster item %s of %s@%s: %w", contact, user, domain, backends.ErrNotFound), nil
		}
		w, err := openRosterWriter(tx, domain, user)
		if err == nil {
			err = w.b.Delete(w.key(contact))
		}
		if err == nil {
			ver, err = w.bump()
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: delete roster item %s of %s@%s: %w", contact, user, domain, err)
		}
		return nil, nil
	})
	return ver, err
}

// UpdateRosterItem implements backends.Rosters. fn runs on the committer goroutine,
// inside the write transaction of a group; it may run more than once when the group is
// retried.
func (s *Store) UpdateRosterItem(ctx context.Context, domain, user, contact string, fn backends.RosterUpdateFunc) (backends.RosterUpdate, error) {
	if err := validateRosterCall(domain, user, contact); err != nil {
		return backends.RosterUpdate{}, fmt.Errorf("embedded: update roster item: %w", err)
	}
	var out backends.RosterUpdate
	err := s.write(ctx, "update roster item", func(tx *bbolt.Tx) (error, error) {
		out = backends.RosterUpdate{}
		fail := func(err error) error {
			return fmt.Errorf("embedded: update roster item %s of %s@%s: %w", contact, user, domain, err)
		}
		w, err := openRosterWriter(tx, domain, user)
		if err != nil {
			return nil, fail(err)
		}
		key := w.key(contact)
		cur, found := backends.RosterItem{Contact: contact}, false
		if rec := w.b.Get(key); rec != nil {
			if cur, _, err = decodeRosterItem([]byte(contact), rec, nil); err != nil {
				return fail(err), nil
			}
			found = true
		}
		ver := w.version()
		next, action := fn(cur.Clone(), found)
		switch action {
		case backends.RosterKeep:
			out = backends.RosterUpdate{Item: cur, Exists: found, Version: ver}
			return nil, nil
		case backends.RosterPut:
			if next.Contact != contact {
				return fail(fmt.Errorf("function returned contact %q: %w", next.Contact, backends.ErrInvalid)), nil
			}
			if err := next.Validate(); err != nil {
				return fail(err), nil
			}
			if err := w.b.Put(key, appendRosterItem(nil, &next)); err != nil {
				return nil, fail(err)
			}
			if ver, err = w.bump(); err != nil {
				return nil, fail(err)
			}
			out = backends.RosterUpdate{Item: next.Clone(), Exists: true, Changed: true, Version: ver}
			return nil, nil
		case backends.RosterDelete:
			out = backends.RosterUpdate{Item: backends.RosterItem{Contact: contact}, Version: ver}
			if !found {
				return nil, nil
			}
			if err := w.b.Delete(key); err != nil {
				return nil, fail(err)
			}
			if out.Version, err = w.bump(); err != nil {
				return nil, fail(err)
			}
			out.Changed = true
			return nil, nil
		}
		return fail(fmt.Errorf("unknown action %d: %w", action, backends.ErrInvalid)), nil
	})
	if err != nil {
		return backends.RosterUpdate{}, err
	}
	return out, nil
}

// PutPendingIn implements backends.Rosters.
func (s *Store) PutPendingIn(ctx context.Context, domain, user string, p backends.PendingIn) error {
	if err := validateRosterCall(domain, user); err != nil {
		return fmt.Errorf("embedded: put pending request: %w", err)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("embedded: put pending request: %w", err)
	}
	key, rec := rosterItemKey(user, p.Contact), appendPending(nil, p.Stanza)
	return s.write(ctx, "put pending request", func(tx *bbolt.Tx) (error, error) {
		top, err := tx.CreateBucketIfNotExists(bucketRosterPending)
		var b *bbolt.Bucket
		if err == nil {
			b, err = top.CreateBucketIfNotExists([]byte(domain))
		}
		if err == nil {
			err = b.Put(key, rec)
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: put pending request from %s to %s@%s: %w", p.Contact, user, domain, err)
		}
		return nil, nil
	})
}

// DeletePendingIn implements backends.Rosters.
func (s *Store) DeletePendingIn(ctx context.Context, domain, user, contact string) (bool, error) {
	if err := validateRosterCall(domain, user, contact); err != nil {
		return false, fmt.Errorf("embedded: delete pending request: %w", err)
	}
	key := rosterItemKey(user, contact)
	var existed bool
	err := s.write(ctx, "delete pending request", func(tx *bbolt.Tx) (error, error) {
		existed = false
		b := rosterDomain(tx, bucketRosterPending, domain)
		if b == nil || b.Get(key) == nil {
			return nil, nil
		}
		existed = true
		if err := b.Delete(key); err != nil {
			return nil, fmt.Errorf("embedded: delete pending request from %s to %s@%s: %w", contact, user, domain, err)
		}
		return nil, nil
	})
	return existed, err
}

// PendingIn implements backends.Rosters.
func (s *Store) PendingIn(ctx context.Context, domain, user, contact string) (backends.PendingIn, error) {
	if err := validateRosterCall(domain, user, contact); err != nil {
		return backends.PendingIn{}, fmt.Errorf("embedded: pending request: %w", err)
	}
	p := backends.PendingIn{Contact: contact}
	err := s.view(ctx, "pending request", func(tx *bbolt.Tx) error {
		var rec []byte
		if b := rosterDomain(tx, bucketRosterPending, domain); b != nil {
			rec = b.Get(rosterItemKey(user, contact))
		}
		if rec == nil {
			return fmt.Errorf("embedded: pending request from %s to %s@%s: %w", contact, user, domain, backends.ErrNotFound)
		}
		var err error
		if p.Stanza, err = decodePending(rec); err != nil {
			return fmt.Errorf("embedded: pending request from %s to %s@%s: %w", contact, user, domain, err)
		}
		return nil
	})
	if err != nil {
		return backends.PendingIn{}, err
	}
	return p, nil
}

// PendingIns implements backends.Rosters.
func (s *Store) PendingIns(ctx context.Context, domain, user string) ([]backends.PendingIn, error) {
	if err := validateRosterCall(domain, user); err != nil {
		return nil, fmt.Errorf("embedded: pending requests: %w", err)
	}
	var out []backends.PendingIn
	err := s.view(ctx, "pending requests", func(tx *bbolt.Tx) error {
		b := rosterDomain(tx, bucketRosterPending, domain)
		if b == nil {
			return nil
		}
		prefix := rosterPrefix(nil, user)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			stanza, err := decodePending(v)
			if err != nil {
				return fmt.Errorf("embedded: pending requests of %s@%s: %w", user, domain, err)
			}
			out = append(out, backends.PendingIn{Contact: string(k[len(prefix):]), Stanza: stanza})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRoster implements backends.Rosters.
func (s *Store) DeleteRoster(ctx context.Context, domain, user string) error {
	if err := validateRosterCall(domain, user); err != nil {
		return fmt.Errorf("embedded: delete roster: %w", err)
	}
	prefix := rosterPrefix(nil, user)
	return s.write(ctx, "delete roster", func(tx *bbolt.Tx) (error, error) {
		for _, name := range [][]byte{bucketRosters, bucketRosterPending} {
			b := rosterDomain(tx, name, domain)
			if b == nil {
				continue
			}
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
				if err := c.Delete(); err != nil {
					return nil, fmt.Errorf("embedded: delete roster of %s@%s: %w", user, domain, err)
				}
			}
		}
		return nil, nil
	})
}
