package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// accountCols are the columns of accounts in the order accountArgs gives them.
const accountCols = `domain, user, created,
	sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key,
	sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key,
	sha512_salt, sha512_iterations, sha512_stored_key, sha512_server_key`

const accountNCols = 15

// credentialSets lists the sets of c in column order.
func credentialSets(c *backends.Credentials) [3]**backends.ScramKeys {
	return [3]**backends.ScramKeys{&c.SHA1, &c.SHA256, &c.SHA512}
}

// accountArgs appends the column values of a, its zero Created replaced by now.
func accountArgs(args []any, a *backends.Account, now time.Time) []any {
	created := a.Created
	if created.IsZero() {
		created = now
	}
	args = append(args, a.Domain, a.User, created.Unix())
	for _, k := range credentialSets(&a.Credentials) {
		args = appendKeys(args, *k)
	}
	return args
}

func appendKeys(args []any, k *backends.ScramKeys) []any {
	if k == nil {
		return append(args, nil, nil, nil, nil)
	}
	return append(args, k.Salt, k.Iterations, k.StoredKey, k.ServerKey)
}

// CreateAccount implements backends.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a backends.Account) error {
	const op = "create account"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	_, err := s.db.ExecContext(wctx, "INSERT INTO accounts ("+accountCols+") VALUES "+placeholders(1, accountNCols),
		accountArgs(nil, &a, time.Now())...)
	if mysqlErrno(err) == errDupEntry {
		return fmt.Errorf("mysql: %s %s@%s: %w", op, a.User, a.Domain, backends.ErrExists)
	}
	return s.fail(ctx, op+" "+a.User+"@"+a.Domain, err)
}

// PutAccounts implements backends.Accounts: one transaction of multi-row upserts.
func (s *Store) PutAccounts(ctx context.Context, as []backends.Account) error {
	const op = "put accounts"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	for i := range as {
		if err := as[i].Validate(); err != nil {
			return fmt.Errorf("mysql: %s: account %d: %w", op, i, err)
		}
	}
	if len(as) == 0 {
		return nil
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	now := time.Now()
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		return chunked(as, accountNCols, func(backends.Account) int { return 0 }, func(chunk []backends.Account) error {
			args := make([]any, 0, len(chunk)*accountNCols)
			for i := range chunk {
				args = accountArgs(args, &chunk[i], now)
			}
			_, err := tx.ExecContext(wctx, "INSERT INTO accounts ("+accountCols+") VALUES "+
				placeholders(len(chunk), accountNCols)+" ON DUPLICATE KEY UPDATE "+updateAll(accountCols, "domain", "user"), args...)
			return err
		})
	})
	return s.fail(ctx, op, err)
}

// updateAll returns "c = VALUES(c), ..." for every column of cols but the keys.
func updateAll(cols string, keys ...string) string {
	var b strings.Builder
	for c := range strings.SplitSeq(cols, ",") {
		c = strings.TrimSpace(c)
		if c == "" || slices.Contains(keys, c) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = VALUES(%s)", c, c)
	}
	return b.String()
}

// DeleteAccount implements backends.Accounts.
func (s *Store) DeleteAccount(ctx context.Context, domain, user string) error {
	const op = "delete account"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	res, err := s.db.ExecContext(wctx, "DELETE FROM accounts WHERE domain = ? AND user = ?", domain, user)
	return s.fail(ctx, fmt.Sprintf("%s %s@%s", op, user, domain), found(res, err))
}

// found turns a statement that affected no row into ErrNotFound.
func found(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return backends.ErrNotFound
	}
	return nil
}

// SetCredentials implements backends.Accounts.
func (s *Store) SetCredentials(ctx context.Context, domain, user string, c backends.Credentials) error {
	const op = "set credentials"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("mysql: %s of %s@%s: %w", op, user, domain, err)
	}
	args := make([]any, 0, 14)
	for _, k := range credentialSets(&c) {
		args = appendKeys(args, *k)
	}
	args = append(args, domain, user)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	res, err := s.db.ExecContext(wctx, `UPDATE accounts SET
		sha1_salt = ?, sha1_iterations = ?, sha1_stored_key = ?, sha1_server_key = ?,
		sha256_salt = ?, sha256_iterations = ?, sha256_stored_key = ?, sha256_server_key = ?,
		sha512_salt = ?, sha512_iterations = ?, sha512_stored_key = ?, sha512_server_key = ?
		WHERE domain = ? AND user = ?`, args...)
	return s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), found(res, err))
}

// scramCols receives one credential set.
type scramCols struct {
	salt, stored, server []byte
	iterations           sql.NullInt64
}

func (c *scramCols) keys() *backends.ScramKeys {
	if c.salt == nil {
		return nil
	}
	return &backends.ScramKeys{Salt: c.salt, Iterations: int(c.iterations.Int64), StoredKey: c.stored, ServerKey: c.server}
}

// Account implements backends.Accounts with a prepared statement.
func (s *Store) Account(ctx context.Context, domain, user string) (backends.Account, error) {
	const op = "account"
	if err := s.begin(ctx, op); err != nil {
		return backends.Account{}, err
	}
	if err := backends.ValidateKey(domain, user); err != nil {
		return backends.Account{}, fmt.Errorf("mysql: %s: %w", op, err)
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var created int64
	var sets [3]scramCols
	dst := []any{&created}
	for i := range sets {
		dst = append(dst, &sets[i].salt, &sets[i].iterations, &sets[i].stored, &sets[i].server)
	}
	err := s.queryRow(rctx, s.stmts.account, qAccount, domain, user).Scan(dst...)
	if err == sql.ErrNoRows {
		return backends.Account{}, fmt.Errorf("mysql: %s %s@%s: %w", op, user, domain, backends.ErrNotFound)
	}
	if err != nil {
		return backends.Account{}, s.fail(ctx, fmt.Sprintf("%s %s@%s", op, user, domain), err)
	}
	return backends.Account{
		Domain: domain, User: user, Created: time.Unix(created, 0),
		Credentials: backends.Credentials{SHA1: sets[0].keys(), SHA256: sets[1].keys(), SHA512: sets[2].keys()},
	}, nil
}

// ListAccounts implements backends.Accounts.
func (s *Store) ListAccounts(ctx context.Context, domain, after string, limit int) ([]string, error) {
	const op = "list accounts"
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := backends.ValidateDomain(domain); err != nil {
		return nil, fmt.Errorf("mysql: %s: %w", op, err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("mysql: %s of %s: limit %d: %w", op, domain, limit, backends.ErrInvalid)
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(rctx, "SELECT user FROM accounts WHERE domain = ? AND user > ? ORDER BY user LIMIT ?",
		domain, after, limit)
	if err != nil {
		return nil, s.fail(ctx, op+" of "+domain, err)
	}
	defer rows.Close()
	var users []string
	for rows.Next() {
		var u []byte
		if err := rows.Scan(&u); err != nil {
			return nil, s.fail(ctx, op+" of "+domain, err)
		}
		users = append(users, string(u))
	}
	return users, s.fail(ctx, op+" of "+domain, rows.Err())
}

// CountAccounts implements backends.Accounts.
func (s *Store) CountAccounts(ctx context.Context, domain string) (int, error) {
	const op = "count accounts"
	if err := s.begin(ctx, op); err != nil {
		return 0, err
	}
	if err := backends.ValidateDomain(domain); err != nil {
		return 0, fmt.Errorf("mysql: %s: %w", op, err)
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var n int
	err := s.db.QueryRowContext(rctx, "SELECT COUNT(*) FROM accounts WHERE domain = ?", domain).Scan(&n)
	return n, s.fail(ctx, op+" of "+domain, err)
}
