package authmethods

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // the "mysql" database/sql driver
	"golang.org/x/crypto/bcrypt"

	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

// MySQL is the mysql method: an existing users table, read with the configured query
// (its first column is the stored password, in the configured format). A missing row
// or a NULL password is a wrong password; a query error or timeout is a failure to
// answer.
type MySQL struct {
	db      *sql.DB
	query   string
	args    []string
	format  string
	domain  string
	timeout time.Duration
}

// NewMySQL opens the pool for domain; it connects on first use.
func NewMySQL(c config.AuthMySQL, domain string) (*MySQL, error) {
	switch c.PasswordFormat {
	case config.PasswordPlain, config.PasswordSHA256, config.PasswordBcrypt, config.PasswordSCRAM:
	default:
		return nil, fmt.Errorf("mysql: unknown password_format %q", c.PasswordFormat)
	}
	db, err := sql.Open("mysql", c.DSN)
	if err != nil {
		return nil, fmt.Errorf("mysql: dsn: %w", err)
	}
	db.SetMaxOpenConns(max(c.MaxOpenConns, 1))
	db.SetMaxIdleConns(c.MaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	m := &MySQL{db: db, query: c.PasswordQuery, args: c.QueryArgs, format: c.PasswordFormat, domain: domain, timeout: c.Timeout.D}
	if m.timeout <= 0 {
		m.timeout = 5 * time.Second
	}
	return m, nil
}

// Name implements Method.
func (*MySQL) Name() string { return "mysql" }

// Close implements Method.
func (m *MySQL) Close() error { return m.db.Close() }

// stored returns user's stored password (NULL possible); row is false when the query
// finds no row.
func (m *MySQL) stored(ctx context.Context, user string) (pw sql.NullString, row bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	args := make([]any, len(m.args))
	for i, a := range m.args {
		switch a {
		case "user":
			args[i] = user
		case "server":
			args[i] = m.domain
		case "jid":
			args[i] = user + "@" + m.domain
		}
	}
	err = m.db.QueryRowContext(ctx, m.query, args...).Scan(&pw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return pw, false, nil
	case err != nil:
		return pw, false, fmt.Errorf("mysql: password of %s@%s: %w", user, m.domain, err)
	}
	return pw, true, nil
}

// CheckPassword implements Method. No row, or a NULL password, is a wrong password.
func (m *MySQL) CheckPassword(ctx context.Context, user, password string) (bool, error) {
	pw, row, err := m.stored(ctx, user)
	if err != nil || !row || !pw.Valid {
		return false, err
	}
	return matchPassword(m.format, pw.String, password)
}

// UserExists implements Method: the query finds a row (even with a NULL password).
func (m *MySQL) UserExists(ctx context.Context, user string) (bool, error) {
	_, row, err := m.stored(ctx, user)
	return row, err
}

// matchPassword compares password with stored in format. A stored value that cannot be
// parsed is an error (the table is corrupt or the format misconfigured).
func matchPassword(format, stored, password string) (bool, error) {
	switch format {
	case config.PasswordPlain:
		return subtle.ConstantTimeCompare([]byte(stored), []byte(password)) == 1, nil
	case config.PasswordSHA256:
		want, err := hex.DecodeString(strings.TrimSpace(stored))
		if err != nil || len(want) != sha256.Size {
			return false, errors.New("mysql: stored password is not 64 hex digits (password_format sha256)")
		}
		got := sha256.Sum256([]byte(password))
		return subtle.ConstantTimeCompare(got[:], want) == 1, nil
	case config.PasswordBcrypt:
		err := bcrypt.CompareHashAndPassword([]byte(stored), []byte(password))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		}
		return false, fmt.Errorf("mysql: stored bcrypt hash: %w", err)
	case config.PasswordSCRAM:
		h, keys, err := parseSCRAM(stored)
		if err != nil {
			return false, err
		}
		k := sasl.DeriveKeys(h, password, keys.Salt, keys.Iterations)
		return subtle.ConstantTimeCompare(k.StoredKey, keys.StoredKey) == 1, nil
	}
	return false, fmt.Errorf("mysql: unknown password format %q", format)
}

// maxSCRAMIterations bounds the work a stored value can ask for.
const maxSCRAMIterations = 10_000_000

// parseSCRAM reads RFC 5803's
// "SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>"
// (SCRAM-SHA-1 and SCRAM-SHA-512 too).
func parseSCRAM(s string) (sasl.Hash, sasl.ScramKeys, error) {
	bad := func(why string) (sasl.Hash, sasl.ScramKeys, error) {
		return 0, sasl.ScramKeys{}, fmt.Errorf("mysql: stored SCRAM value: %s", why)
	}
	mech, rest, ok := strings.Cut(strings.TrimSpace(s), "$")
	if !ok {
		return bad("no '$'")
	}
	var h sasl.Hash
	switch mech {
	case "SCRAM-SHA-1":
		h = sasl.SHA1
	case "SCRAM-SHA-256":
		h = sasl.SHA256
	case "SCRAM-SHA-512":
		h = sasl.SHA512
	default:
		return bad("unknown mechanism " + strconv.Quote(mech))
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("needs <iterations>:<salt>$<stored key>:<server key>")
	}
	iter, salt, ok1 := strings.Cut(params, ":")
	stored, server, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return bad("needs <iterations>:<salt>$<stored key>:<server key>")
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 || n > maxSCRAMIterations {
		return bad("iteration count out of range")
	}
	var k sasl.ScramKeys
	k.Iterations = n
	dec := base64.StdEncoding
	if k.Salt, err = dec.DecodeString(salt); err != nil || len(k.Salt) == 0 {
		return bad("salt is not base64")
	}
	if k.StoredKey, err = dec.DecodeString(stored); err != nil || len(k.StoredKey) != h.Size() {
		return bad("stored key is not base64 of the digest size")
	}
	if k.ServerKey, err = dec.DecodeString(server); err != nil || len(k.ServerKey) != h.Size() {
		return bad("server key is not base64 of the digest size")
	}
	return h, k, nil
}
