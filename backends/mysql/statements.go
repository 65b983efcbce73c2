package mysql

import (
	"context"
	"database/sql"
	"errors"
)

// The hot reads, run as server-side prepared statements: the login path (account,
// roster, privacy settings) runs them for every session, and every default privacy
// list of a domain is read at start-up. The joins have no ORDER BY:
// with one, MariaDB sorts through a temporary table; rows come in primary-key order
// anyway and the store sorts them in Go, where an already sorted slice costs one pass.
const (
	qAccount = `SELECT created,
	sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key,
	sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key,
	sha512_salt, sha512_iterations, sha512_stored_key, sha512_server_key
	FROM accounts WHERE domain = ? AND user = ?`
	qRoster = `SELECT r.version, i.contact, i.name, i.grps, i.subscription, i.ask, i.approved
	FROM rosters r LEFT JOIN roster_items i ON i.owner = r.owner
	WHERE r.owner = ?`
	qRosterVersion = `SELECT version FROM rosters WHERE owner = ?`
	qPrivacy       = `SELECT u.default_list, l.name, l.items
	FROM privacy_users u JOIN privacy_lists l ON l.domain = u.domain AND l.user = u.user
	WHERE u.domain = ? AND u.user = ?`
	qOfflineCount    = `SELECT queued FROM offline_heads WHERE domain = ? AND user = ?`
	qPrivacyDefaults = `SELECT u.user, l.name, l.items
	FROM privacy_users u JOIN privacy_lists l
	ON l.domain = u.domain AND l.user = u.user AND l.name = u.default_list
	WHERE u.domain = ? AND u.default_list <> ''`
)

// statements are the prepared hot reads. database/sql prepares each again on every
// new connection of the pool, so they survive reconnections. A nil statement (the
// benchmarks' baseline) runs as an ad-hoc query with interpolated parameters.
type statements struct {
	account, roster, rosterVersion, privacy, privacyDefaults, offlineCount *sql.Stmt
}

func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	var errs []error
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.account, qAccount},
		{&st.roster, qRoster},
		{&st.rosterVersion, qRosterVersion},
		{&st.privacy, qPrivacy},
		{&st.privacyDefaults, qPrivacyDefaults},
		{&st.offlineCount, qOfflineCount},
	} {
		stmt, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*p.dst = stmt
	}
	if err := errors.Join(errs...); err != nil {
		st.close()
		return err
	}
	return nil
}

func (st *statements) close() {
	for _, p := range []**sql.Stmt{&st.account, &st.roster, &st.rosterVersion, &st.privacy, &st.privacyDefaults, &st.offlineCount} {
		if *p != nil {
			(*p).Close()
		}
	}
}

// query runs stmt, or q as an ad-hoc query when stmt is nil.
func (s *Store) query(ctx context.Context, stmt *sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if stmt != nil && !s.adhoc {
		return stmt.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, q, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, stmt *sql.Stmt, q string, args ...any) *sql.Row {
	if stmt != nil && !s.adhoc {
		return stmt.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, q, args...)
}
