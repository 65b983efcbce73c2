package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hermod-im/hermod/backends"
)

// Rosters: one rosters row per owner holds the version; items and pending requests are
// keyed by (owner, contact). Every write locks the owner's rosters row first (an upsert
// creates it when absent), so writes of one roster are serialised and two writers never
// deadlock on it; versions come from the roster_versions sequence.

// errKeep rolls back a roster transaction that decided to write nothing.
var errKeep = errors.New("nothing to write")

// lockRoster locks (creating if needed) the owner's rosters row and returns its version,
// 0 for a roster created by this transaction.
func lockRoster(ctx context.Context, tx *sql.Tx, owner []byte, domain, user string) (uint64, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO rosters (owner, domain, user, version) VALUES (?, ?, ?, 0)
		ON DUPLICATE KEY UPDATE version = version`, owner, domain, user)
	if err != nil {
		return 0, err
	}
	var ver uint64
	err = tx.QueryRowContext(ctx, "SELECT version FROM rosters WHERE owner = ?", owner).Scan(&ver)
	return ver, err
}

// bumpRoster gives the locked roster a new version from the sequence.
func bumpRoster(ctx context.Context, tx *sql.Tx, owner []byte) (uint64, error) {
	var ver uint64
	if err := tx.QueryRowContext(ctx, "SELECT NEXTVAL(roster_versions)").Scan(&ver); err != nil {
		return 0, err
	}
	_, err := tx.ExecContext(ctx, "UPDATE rosters SET version = ? WHERE owner = ?", ver, owner)
	return ver, err
}

func putItem(ctx context.Context, tx *sql.Tx, owner []byte, it *backends.RosterItem) error {
	groups, err := encodeGroups(it.Groups)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO roster_items (owner, contact, name, grps, subscription, ask, approved)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), grps = VALUES(grps),
		subscription = VALUES(subscription), ask = VALUES(ask), approved = VALUES(approved)`,
		owner, it.Contact, it.Name, groups, uint8(it.Subscription), it.Ask, it.Approved)
	return err
}

// validateItem is RosterItem.Validate plus what the utf8mb4 columns require: a name
// and groups of valid UTF-8 (always so for text that came in XML).
func validateItem(it *backends.RosterItem) error {
	if err := it.Validate(); err != nil {
		return err
	}
	if !utf8.ValidString(it.Name) || slices.ContainsFunc(it.Groups, func(g string) bool { return !utf8.ValidString(g) }) {
		return fmt.Errorf("roster item %s: name or group is not UTF-8: %w", it.Contact, backends.ErrInvalid)
	}
	return nil
}

func encodeGroups(groups []string) (string, error) {
	if len(groups) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(groups)
	return string(b), err
}

func decodeGroups(s string) ([]string, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	var g []string
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		return nil, fmt.Errorf("roster groups %q: %w", s, err)
	}
	return g, nil
}

// itemCols receives the columns of one roster item (NULL for a roster without items in
// the LEFT JOIN of qRoster).
type itemCols struct {
	contact  []byte
	name     sql.NullString
	groups   sql.NullString
	sub      sql.NullInt64
	ask      sql.NullBool
	approved sql.NullBool
}

func (c *itemCols) dst() []any {
	return []any{&c.contact, &c.name, &c.groups, &c.sub, &c.ask, &c.approved}
}

func (c *itemCols) item() (backends.RosterItem, error) {
	g, err := decodeGroups(c.groups.String)
	return backends.RosterItem{
		Contact: string(c.contact), Name: c.name.String, Groups: g,
		Subscription: backends.Subscription(c.sub.Int64), Ask: c.ask.Bool, Approved: c.approved.Bool,
	}, err
}

// Roster implements backends.Rosters with one prepared query.
func (s *Store) Roster(ctx context.Context, domain, user string) ([]backends.RosterItem, uint64, error) {
	const op = "roster"
	if err := s.checkRoster(ctx, op, domain, user); err != nil {
		return nil, 0, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	rows, err := s.query(rctx, s.stmts.roster, qRoster, ownerKey(domain, user))
	if err != nil {
		return nil, 0, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	defer rows.Close()
	var items []backends.RosterItem
	var ver uint64
	for rows.Next() {
		var c itemCols
		if err := rows.Scan(append([]any{&ver}, c.dst()...)...); err != nil {
			return nil, 0, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
		}
		if c.contact == nil {
			continue
		}
		it, err := c.item()
		if err != nil {
			return nil, 0, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	byContact := func(a, b backends.RosterItem) int { return strings.Compare(a.Contact, b.Contact) }
	if !slices.IsSortedFunc(items, byContact) {
		slices.SortFunc(items, byContact)
	}
	return items, ver, nil
}

// RosterVersion implements backends.Rosters with a prepared query.
func (s *Store) RosterVersion(ctx context.Context, domain, user string) (uint64, error) {
	const op = "roster version"
	if err := s.checkRoster(ctx, op, domain, user); err != nil {
		return 0, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var ver uint64
	err := s.queryRow(rctx, s.stmts.rosterVersion, qRosterVersion, ownerKey(domain, user)).Scan(&ver)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return ver, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}

// checkRoster checks the state of the store, ctx, and the keys of a roster call.
func (s *Store) checkRoster(ctx context.Context, op, domain, user string, contacts ...string) error {
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	for _, c := range contacts {
		if err := backends.ValidateContact(c); err != nil {
			return fmt.Errorf("mysql: %s: %w", op, err)
		}
	}
	return nil
}

// readItem reads one item in tx or on the pool.
func readItem(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, owner []byte, contact string) (backends.RosterItem, bool, error) {
	c := itemCols{contact: []byte(contact)}
	err := q.QueryRowContext(ctx, `SELECT name, grps, subscription, ask, approved FROM roster_items
		WHERE owner = ? AND contact = ?`, owner, contact).Scan(c.dst()[1:]...)
	if err == sql.ErrNoRows {
		return backends.RosterItem{Contact: contact}, false, nil
	}
	if err != nil {
		return backends.RosterItem{}, false, err
	}
	it, err := c.item()
	return it, err == nil, err
}

// RosterItem implements backends.Rosters.
func (s *Store) RosterItem(ctx context.Context, domain, user, contact string) (backends.RosterItem, error) {
	const op = "roster item"
	if err := s.checkRoster(ctx, op, domain, user, contact); err != nil {
		return backends.RosterItem{}, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	it, ok, err := readItem(rctx, s.db, ownerKey(domain, user), contact)
	if err == nil && !ok {
		err = backends.ErrNotFound
	}
	if err != nil {
		return backends.RosterItem{}, s.fail(ctx, fmt.Sprintf("%s %s of %s@%s", op, contact, user, domain), err)
	}
	return it, nil
}

// PutRosterItem implements backends.Rosters.
func (s *Store) PutRosterItem(ctx context.Context, domain, user string, item backends.RosterItem) (uint64, error) {
	const op = "put roster item"
	if err := s.checkRoster(ctx, op, domain, user); err != nil {
		return 0, err
	}
	if err := validateItem(&item); err != nil {
		return 0, fmt.Errorf("mysql: %s: %w", op, err)
	}
	owner := ownerKey(domain, user)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	var ver uint64
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		if _, err := lockRoster(wctx, tx, owner, domain, user); err != nil {
			return err
		}
		if err := putItem(wctx, tx, owner, &item); err != nil {
			return err
		}
		var err error
		ver, err = bumpRoster(wctx, tx, owner)
		return err
	})
	return ver, s.fail(ctx, fmt.Sprintf("%s %s of %s@%s", op, item.Contact, user, domain), err)
}

// DeleteRosterItem implements backends.Rosters.
func (s *Store) DeleteRosterItem(ctx context.Context, domain, user, contact string) (uint64, error) {
	const op = "delete roster item"
	if err := s.checkRoster(ctx, op, domain, user, contact); err != nil {
		return 0, err
	}
	owner := ownerKey(domain, user)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	var ver uint64
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		if _, err := lockRoster(wctx, tx, owner, domain, user); err != nil {
			return err
		}
		res, err := tx.ExecContext(wctx, "DELETE FROM roster_items WHERE owner = ? AND contact = ?", owner, contact)
		if err := found(res, err); err != nil {
			return err
		}
		ver, err = bumpRoster(wctx, tx, owner)
		return err
	})
	return ver, s.fail(ctx, fmt.Sprintf("%s %s of %s@%s", op, contact, user, domain), err)
}

// UpdateRosterItem implements backends.Rosters: fn runs inside the transaction that
// holds the roster's lock, and may run again when the server breaks a deadlock.
func (s *Store) UpdateRosterItem(ctx context.Context, domain, user, contact string, fn backends.RosterUpdateFunc) (backends.RosterUpdate, error) {
	const op = "update roster item"
	if err := s.checkRoster(ctx, op, domain, user, contact); err != nil {
		return backends.RosterUpdate{}, err
	}
	owner := ownerKey(domain, user)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	var out backends.RosterUpdate
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		ver, err := lockRoster(wctx, tx, owner, domain, user)
		if err != nil {
			return err
		}
		cur, ok, err := readItem(wctx, tx, owner, contact)
		if err != nil {
			return err
		}
		next, action := fn(cur.Clone(), ok)
		switch action {
		case backends.RosterKeep:
			out = backends.RosterUpdate{Item: cur, Exists: ok, Version: ver}
			return errKeep
		case backends.RosterPut:
			if next.Contact != contact {
				return fmt.Errorf("function returned contact %q for %q: %w", next.Contact, contact, backends.ErrInvalid)
			}
			if err := validateItem(&next); err != nil {
				return err
			}
			if err := putItem(wctx, tx, owner, &next); err != nil {
				return err
			}
			out = backends.RosterUpdate{Item: next.Clone(), Exists: true, Changed: true}
		case backends.RosterDelete:
			if !ok {
				out = backends.RosterUpdate{Item: backends.RosterItem{Contact: contact}, Version: ver}
				return errKeep
			}
			if _, err := tx.ExecContext(wctx, "DELETE FROM roster_items WHERE owner = ? AND contact = ?", owner, contact); err != nil {
				return err
			}
			out = backends.RosterUpdate{Item: backends.RosterItem{Contact: contact}, Changed: true}
		default:
			return fmt.Errorf("unknown action %d: %w", action, backends.ErrInvalid)
		}
		out.Version, err = bumpRoster(wctx, tx, owner)
		return err
	})
	if errors.Is(err, errKeep) {
		return out, nil
	}
	if err != nil {
		return backends.RosterUpdate{}, s.fail(ctx, fmt.Sprintf("%s %s of %s@%s", op, contact, user, domain), err)
	}
	return out, nil
}

// PutPendingIn implements backends.Rosters.
func (s *Store) PutPendingIn(ctx context.Context, domain, user string, p backends.PendingIn) error {
	const op = "put pending request"
	if err := s.checkRoster(ctx, op, domain, user); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	stanza := p.Stanza
	if stanza == nil {
		stanza = []byte{}
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	_, err := s.db.ExecContext(wctx, `INSERT INTO roster_pending_in (owner, contact, stanza) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE stanza = VALUES(stanza)`, ownerKey(domain, user), p.Contact, stanza)
	return s.fail(ctx, fmt.Sprintf("%s from %s to %s@%s", op, p.Contact, user, domain), err)
}

// DeletePendingIn implements backends.Rosters.
func (s *Store) DeletePendingIn(ctx context.Context, domain, user, contact string) (bool, error) {
	const op = "delete pending request"
	if err := s.checkRoster(ctx, op, domain, user, contact); err != nil {
		return false, err
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	res, err := s.db.ExecContext(wctx, "DELETE FROM roster_pending_in WHERE owner = ? AND contact = ?", ownerKey(domain, user), contact)
	if err = found(res, err); errors.Is(err, backends.ErrNotFound) {
		return false, nil
	}
	return err == nil, s.fail(ctx, fmt.Sprintf("%s from %s to %s@%s", op, contact, user, domain), err)
}

// PendingIn implements backends.Rosters.
func (s *Store) PendingIn(ctx context.Context, domain, user, contact string) (backends.PendingIn, error) {
	const op = "pending request"
	if err := s.checkRoster(ctx, op, domain, user, contact); err != nil {
		return backends.PendingIn{}, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var stanza []byte
	err := s.db.QueryRowContext(rctx, "SELECT stanza FROM roster_pending_in WHERE owner = ? AND contact = ?",
		ownerKey(domain, user), contact).Scan(&stanza)
	if err == sql.ErrNoRows {
		err = backends.ErrNotFound
	}
	if err != nil {
		return backends.PendingIn{}, s.fail(ctx, fmt.Sprintf("%s from %s to %s@%s", op, contact, user, domain), err)
	}
	return backends.PendingIn{Contact: contact, Stanza: stanza}, nil
}

// PendingIns implements backends.Rosters.
func (s *Store) PendingIns(ctx context.Context, domain, user string) ([]backends.PendingIn, error) {
	const op = "pending requests"
	if err := s.checkRoster(ctx, op, domain, user); err != nil {
		return nil, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(rctx, "SELECT contact, stanza FROM roster_pending_in WHERE owner = ? ORDER BY contact",
		ownerKey(domain, user))
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	defer rows.Close()
	var out []backends.PendingIn
	for rows.Next() {
		var contact, stanza []byte
		if err := rows.Scan(&contact, &stanza); err != nil {
			return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
		}
		out = append(out, backends.PendingIn{Contact: string(contact), Stanza: stanza})
	}
	return out, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), rows.Err())
}

// DeleteRoster implements backends.Rosters.
func (s *Store) DeleteRoster(ctx context.Context, domain, user string) error {
	const op = "delete roster"
	if err := s.checkRoster(ctx, op, domain, user); err != nil {
		return err
	}
	owner := ownerKey(domain, user)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			"DELETE FROM rosters WHERE owner = ?",
			"DELETE FROM roster_items WHERE owner = ?",
			"DELETE FROM roster_pending_in WHERE owner = ?",
		} {
			if _, err := tx.ExecContext(wctx, q, owner); err != nil {
				return err
			}
		}
		return nil
	})
	return s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}
