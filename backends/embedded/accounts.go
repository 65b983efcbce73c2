package embedded

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// Layout: accounts/<domain>/<user> holds the record (record.go), and
// account_counts/<domain> the number of users of the domain as 8 bytes big-endian, kept
// in the same transaction as every change so that CountAccounts does not walk the
// bucket. The count is a sibling rather than a key inside the domain's bucket, where it
// could collide with a user name, or a level of nesting more, which would cost the login
// path four more allocations. A domain's bucket is deleted with its last account.

// usersOf returns the bucket of domain's accounts, or nil if the domain has none.
func usersOf(tx *bbolt.Tx, domain string) *bbolt.Bucket {
	return tx.Bucket(bucketAccounts).Bucket([]byte(domain))
}

// domainWriter applies changes to the accounts of one domain and keeps its count.
type domainWriter struct {
	domain []byte
	users  *bbolt.Bucket // accounts/<domain>
	counts *bbolt.Bucket // account_counts
	count  uint64
}

// openDomain returns a writer for domain, creating its bucket if needed.
func openDomain(tx *bbolt.Tx, domain string) (*domainWriter, error) {
	w := &domainWriter{domain: []byte(domain), counts: tx.Bucket(bucketAccountCounts)}
	var err error
	if w.users, err = tx.Bucket(bucketAccounts).CreateBucketIfNotExists(w.domain); err != nil {
		return nil, fmt.Errorf("domain bucket: %w", err)
	}
	if c := w.counts.Get(w.domain); len(c) == 8 {
		w.count = binary.BigEndian.Uint64(c)
	}
	return w, nil
}

// put stores a record, counting it if it is new. rec must stay unchanged until the
// transaction ends: bbolt keeps a reference.
func (w *domainWriter) put(user, rec []byte) error {
	if w.users.Get(user) == nil {
		w.count++
	}
	if err := w.users.Put(user, rec); err != nil {
		return fmt.Errorf("put %s: %w", user, err)
	}
	return nil
}

// flush writes the count, or deletes the domain when it has no account left.
func (w *domainWriter) flush(tx *bbolt.Tx) error {
	if w.count == 0 {
		if err := tx.Bucket(bucketAccounts).DeleteBucket(w.domain); err != nil {
			return fmt.Errorf("delete empty domain: %w", err)
		}
		if err := w.counts.Delete(w.domain); err != nil {
			return fmt.Errorf("delete count: %w", err)
		}
		return nil
	}
	if err := w.counts.Put(w.domain, binary.BigEndian.AppendUint64(nil, w.count)); err != nil {
		return fmt.Errorf("write count: %w", err)
	}
	return nil
}

// prepare validates a and returns its record, stamping a zero creation time. The stamp is
// taken here, before the hand-over, so that a retried transaction writes the same value.
func prepare(buf []byte, a backends.Account) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.Created.IsZero() {
		a.Created = time.Now()
	}
	return appendRecord(buf, &a), nil
}

// CreateAccount implements backends.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a backends.Account) error {
	apply, err := createOp(a)
	if err != nil {
		return fmt.Errorf("embedded: create: %w", err)
	}
	return s.write(ctx, "create", apply)
}

// createOp returns the write operation of CreateAccount.
func createOp(a backends.Account) (applyFunc, error) {
	rec, err := prepare(nil, a)
	if err != nil {
		return nil, err
	}
	user := []byte(a.User)
	return func(tx *bbolt.Tx) (error, error) {
		if u := usersOf(tx, a.Domain); u != nil && u.Get(user) != nil {
			return fmt.Errorf("embedded: create %s@%s: %w", a.User, a.Domain, backends.ErrExists), nil
		}
		w, err := openDomain(tx, a.Domain)
		if err == nil {
			err = w.put(user, rec)
		}
		if err == nil {
			err = w.flush(tx)
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: create %s@%s: %w", a.User, a.Domain, err)
		}
		return nil, nil
	}, nil
}

// PutAccounts implements backends.Accounts. The accounts are written in (domain, user)
// order, which keeps bbolt's page splits sequential and each domain's count in one
// writer.
func (s *Store) PutAccounts(ctx context.Context, as []backends.Account) error {
	if len(as) == 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("embedded: put accounts: %w", err)
		}
		return nil
	}
	type entry struct {
		domain     string
		user       []byte
		start, end int // the record in buf
	}
	entries := make([]entry, len(as))
	var buf []byte // every record, back to back: one allocation for the batch
	for i, a := range as {
		start := len(buf)
		var err error
		if buf, err = prepare(buf, a); err != nil {
			return fmt.Errorf("embedded: put accounts: account %d: %w", i, err)
		}
		entries[i] = entry{domain: a.Domain, user: []byte(a.User), start: start, end: len(buf)}
	}
	// Stable, so that of two entries for one account the later is written last and wins.
	slices.SortStableFunc(entries, func(x, y entry) int {
		return cmp.Or(cmp.Compare(x.domain, y.domain), slices.Compare(x.user, y.user))
	})
	what := fmt.Sprintf("put %d accounts", len(as))
	return s.write(ctx, what, func(tx *bbolt.Tx) (error, error) {
		var w *domainWriter
		for _, e := range entries {
			if w == nil || string(w.domain) != e.domain {
				if w != nil {
					if err := w.flush(tx); err != nil {
						return nil, fmt.Errorf("embedded: %s: %s: %w", what, w.domain, err)
					}
				}
				var err error
				if w, err = openDomain(tx, e.domain); err != nil {
					return nil, fmt.Errorf("embedded: %s: %s: %w", what, e.domain, err)
				}
			}
			if err := w.put(e.user, buf[e.start:e.end:e.end]); err != nil {
				return nil, fmt.Errorf("embedded: %s: %s: %w", what, e.domain, err)
			}
		}
		if err := w.flush(tx); err != nil {
			return nil, fmt.Errorf("embedded: %s: %s: %w", what, w.domain, err)
		}
		return nil, nil
	})
}

// DeleteAccount implements backends.Accounts.
func (s *Store) DeleteAccount(ctx context.Context, domain, user string) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: delete: %w", err)
	}
	key := []byte(user)
	return s.write(ctx, "delete", func(tx *bbolt.Tx) (error, error) {
		if u := usersOf(tx, domain); u == nil || u.Get(key) == nil {
			return fmt.Errorf("embedded: delete %s@%s: %w", user, domain, backends.ErrNotFound), nil
		}
		w, err := openDomain(tx, domain)
		if err == nil {
			err = w.users.Delete(key)
		}
		if err == nil {
			w.count--
			err = w.flush(tx)
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: delete %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
}

// SetCredentials implements backends.Accounts.
func (s *Store) SetCredentials(ctx context.Context, domain, user string, c backends.Credentials) error {
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("embedded: set credentials: %w", err)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("embedded: set credentials of %s@%s: %w", user, domain, err)
	}
	key := []byte(user)
	return s.write(ctx, "set credentials", func(tx *bbolt.Tx) (error, error) {
		u := usersOf(tx, domain)
		var old []byte
		if u != nil {
			old = u.Get(key)
		}
		if old == nil {
			return fmt.Errorf("embedded: set credentials of %s@%s: %w", user, domain, backends.ErrNotFound), nil
		}
		a := backends.Account{Domain: domain, User: user}
		if err := decodeRecord(old, &a); err != nil {
			return fmt.Errorf("embedded: set credentials of %s@%s: %w", user, domain, err), nil
		}
		a.Credentials = c
		if err := u.Put(key, appendRecord(nil, &a)); err != nil {
			return nil, fmt.Errorf("embedded: set credentials of %s@%s: %w", user, domain, err)
		}
		return nil, nil
	})
}

// Account implements backends.Accounts. It is the login path: one read transaction, one
// lookup, and two allocations for the copy of the keys.
func (s *Store) Account(ctx context.Context, domain, user string) (backends.Account, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return backends.Account{}, fmt.Errorf("embedded: read account: %w", err)
	}
	a := backends.Account{Domain: domain, User: user}
	err := s.view(ctx, "read account", func(tx *bbolt.Tx) error {
		var rec []byte
		if u := usersOf(tx, domain); u != nil {
			rec = u.Get([]byte(user))
		}
		if rec == nil {
			return fmt.Errorf("embedded: read account %s@%s: %w", user, domain, backends.ErrNotFound)
		}
		if err := decodeRecord(rec, &a); err != nil {
			return fmt.Errorf("embedded: read account %s@%s: %w", user, domain, err)
		}
		return nil
	})
	if err != nil {
		return backends.Account{}, err
	}
	return a, nil
}

// ListAccounts implements backends.Accounts.
func (s *Store) ListAccounts(ctx context.Context, domain, after string, limit int) ([]string, error) {
	if err := backends.ValidateDomain(domain); err != nil {
		return nil, fmt.Errorf("embedded: list accounts: %w", err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("embedded: list accounts of %s: limit %d: %w", domain, limit, backends.ErrInvalid)
	}
	var users []string
	err := s.view(ctx, "list accounts", func(tx *bbolt.Tx) error {
		u := usersOf(tx, domain)
		if u == nil {
			return nil
		}
		users = make([]string, 0, min(limit, 1024))
		c := u.Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(users) < limit; k, _ = c.Next() {
			users = append(users, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// CountAccounts implements backends.Accounts.
func (s *Store) CountAccounts(ctx context.Context, domain string) (int, error) {
	if err := backends.ValidateDomain(domain); err != nil {
		return 0, fmt.Errorf("embedded: count accounts: %w", err)
	}
	var n uint64
	err := s.view(ctx, "count accounts", func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAccountCounts).Get([]byte(domain))
		if c == nil {
			return nil
		}
		if len(c) != 8 {
			return fmt.Errorf("embedded: count accounts of %s: unreadable count %x", domain, c)
		}
		n = binary.BigEndian.Uint64(c)
		return nil
	})
	return int(n), err
}
