package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hermod-im/hermod/backends"
)

// Privacy settings: privacy_users holds a user's default list name and exists while the
// user has lists; privacy_lists holds one row per list, its items encoded by
// encodeItems. UpdatePrivacy locks the privacy_users row first.

// itemsFormat is the first byte of an encoded list.
const itemsFormat = 1

// encodeItems encodes items as: format byte, then per item type, flags (bit 0 deny),
// stanzas, order (4 bytes big-endian), value length (2 bytes) and value.
func encodeItems(items []backends.PrivacyItem) []byte {
	n := 1
	for i := range items {
		n += 9 + len(items[i].Value)
	}
	b := make([]byte, 0, n)
	b = append(b, itemsFormat)
	for i := range items {
		it := &items[i]
		var flags byte
		if it.Deny {
			flags = 1
		}
		b = append(b, byte(it.Type), flags, byte(it.Stanzas))
		b = binary.BigEndian.AppendUint32(b, it.Order)
		b = binary.BigEndian.AppendUint16(b, uint16(len(it.Value)))
		b = append(b, it.Value...)
	}
	return b
}

// errCorrupt reports stored bytes this version cannot read.
var errCorrupt = errors.New("corrupt privacy list")

// decodeItems reverses encodeItems.
func decodeItems(b []byte) ([]backends.PrivacyItem, error) {
	if len(b) == 0 || b[0] != itemsFormat {
		return nil, fmt.Errorf("%w: format byte %x", errCorrupt, b[:min(len(b), 1)])
	}
	b = b[1:]
	var items []backends.PrivacyItem
	for len(b) > 0 {
		if len(b) < 9 {
			return nil, fmt.Errorf("%w: truncated item", errCorrupt)
		}
		if b[1] > 1 {
			return nil, fmt.Errorf("%w: flags %#x", errCorrupt, b[1])
		}
		it := backends.PrivacyItem{
			Type:    backends.PrivacyItemType(b[0]),
			Deny:    b[1]&1 != 0,
			Stanzas: backends.PrivacyStanzas(b[2]),
			Order:   binary.BigEndian.Uint32(b[3:7]),
		}
		n := int(binary.BigEndian.Uint16(b[7:9]))
		if len(b) < 9+n {
			return nil, fmt.Errorf("%w: truncated value", errCorrupt)
		}
		it.Value = string(b[9 : 9+n])
		items = append(items, it)
		b = b[9+n:]
	}
	return items, nil
}

// PrivacySettings implements backends.Privacy with one prepared query.
func (s *Store) PrivacySettings(ctx context.Context, domain, user string) (backends.PrivacySettings, error) {
	const op = "read privacy"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return backends.PrivacySettings{}, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	rows, err := s.query(rctx, s.stmts.privacy, qPrivacy, domain, user)
	if err != nil {
		return backends.PrivacySettings{}, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	set, err := scanSettings(rows)
	return set, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}

// scanSettings reads rows of (default, name, items) and closes them.
func scanSettings(rows *sql.Rows) (backends.PrivacySettings, error) {
	defer rows.Close()
	var set backends.PrivacySettings
	for rows.Next() {
		var def, name, enc []byte
		if err := rows.Scan(&def, &name, &enc); err != nil {
			return backends.PrivacySettings{}, err
		}
		items, err := decodeItems(enc)
		if err != nil {
			return backends.PrivacySettings{}, fmt.Errorf("list %q: %w", name, err)
		}
		set.Default = string(def)
		set.Lists = append(set.Lists, backends.PrivacyList{Name: string(name), Items: items})
	}
	set.Normalize() // rows come in key order; this only checks it
	return set, rows.Err()
}

func (s *Store) checkKey(ctx context.Context, op, domain, user string) error {
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	return nil
}

// UpdatePrivacy implements backends.Privacy. fn runs inside the transaction that holds
// the user's lock and may run again when the server breaks a deadlock. Only the lists
// that changed are written.
func (s *Store) UpdatePrivacy(ctx context.Context, domain, user string, fn backends.PrivacyUpdateFunc) (backends.PrivacySettings, error) {
	const op = "update privacy"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return backends.PrivacySettings{}, err
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	var out backends.PrivacySettings
	var fnErr error
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		fnErr = nil
		_, err := tx.ExecContext(wctx, `INSERT INTO privacy_users (domain, user, default_list) VALUES (?, ?, '')
			ON DUPLICATE KEY UPDATE default_list = default_list`, domain, user)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(wctx, qPrivacy, domain, user)
		if err != nil {
			return err
		}
		cur, err := scanSettings(rows)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if err := fn(&next); err != nil {
			fnErr = err
			return err
		}
		next.Normalize()
		if err := next.Validate(); err != nil {
			return err
		}
		out = next
		return writeSettings(wctx, tx, domain, user, &cur, &next)
	})
	if fnErr != nil {
		return backends.PrivacySettings{}, fnErr
	}
	if err != nil {
		return backends.PrivacySettings{}, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	if len(out.Lists) == 0 {
		return backends.PrivacySettings{}, nil
	}
	return out, nil
}

// writeSettings turns the stored settings cur into next inside tx.
func writeSettings(ctx context.Context, tx *sql.Tx, domain, user string, cur, next *backends.PrivacySettings) error {
	if len(next.Lists) == 0 {
		for _, q := range []string{
			"DELETE FROM privacy_lists WHERE domain = ? AND user = ?",
			"DELETE FROM privacy_users WHERE domain = ? AND user = ?",
		} {
			if _, err := tx.ExecContext(ctx, q, domain, user); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range cur.Lists {
		if next.List(cur.Lists[i].Name) == nil {
			_, err := tx.ExecContext(ctx, "DELETE FROM privacy_lists WHERE domain = ? AND user = ? AND name = ?",
				domain, user, cur.Lists[i].Name)
			if err != nil {
				return err
			}
		}
	}
	var args []any
	rows := 0
	for i := range next.Lists {
		l := &next.Lists[i]
		enc := encodeItems(l.Items)
		if old := cur.List(l.Name); old != nil && bytes.Equal(encodeItems(old.Items), enc) {
			continue
		}
		args = append(args, domain, user, l.Name, enc)
		rows++
	}
	if rows > 0 {
		_, err := tx.ExecContext(ctx, "INSERT INTO privacy_lists (domain, user, name, items) VALUES "+
			placeholders(rows, 4)+" ON DUPLICATE KEY UPDATE items = VALUES(items)", args...)
		if err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE privacy_users SET default_list = ? WHERE domain = ? AND user = ?",
		next.Default, domain, user)
	return err
}

// DeletePrivacy implements backends.Privacy.
func (s *Store) DeletePrivacy(ctx context.Context, domain, user string) error {
	const op = "delete privacy"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return err
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		return writeSettings(wctx, tx, domain, user, nil, &backends.PrivacySettings{})
	})
	return s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}

// PrivacyDefaults implements backends.Privacy. It reads every default list of the
// domain first and calls fn after the query finished, so fn holds no connection.
func (s *Store) PrivacyDefaults(ctx context.Context, domain string, fn func(user string, list backends.PrivacyList) error) error {
	const op = "list privacy defaults"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateDomain(domain); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	type entry struct {
		user string
		list backends.PrivacyList
	}
	var found []entry
	err := func() error {
		rctx, cancel := s.readCtx(ctx)
		defer cancel()
		rows, err := s.query(rctx, s.stmts.privacyDefaults, qPrivacyDefaults, domain)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var user, name, enc []byte
			if err := rows.Scan(&user, &name, &enc); err != nil {
				return err
			}
			items, err := decodeItems(enc)
			if err != nil {
				return fmt.Errorf("default list of %s: %w", user, err)
			}
			found = append(found, entry{string(user), backends.PrivacyList{Name: string(name), Items: items}})
		}
		return rows.Err()
	}()
	if err != nil {
		return s.fail(ctx, op+" of "+domain, err)
	}
	for _, e := range found {
		if err := fn(e.user, e.list); err != nil {
			return err
		}
	}
	return nil
}
