package authmethods

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/sasl"
)

// Internal is the internal method: accounts in Hermod's store with SCRAM keys. It is a
// sasl.KeyStore (SCRAM) and a Method (PLAIN beside other methods).
type Internal struct {
	domain     string
	store      backends.Accounts
	iterations int
	secret     []byte
	anon       *Anonymous // when set, its names have no account here
}

// NewInternal returns the internal method for domain's accounts in store. iterations
// is the count new accounts get: the work spent on unknown users, so that timing does
// not tell which accounts exist.
func NewInternal(domain string, store backends.Accounts, iterations int, secret []byte) *Internal {
	return &Internal{domain: domain, store: store, iterations: max(iterations, 1), secret: secret}
}

// Name implements Method.
func (*Internal) Name() string { return "internal" }

// Close implements Method; the store belongs to the caller.
func (*Internal) Close() error { return nil }

// ScramKeys implements sasl.KeyStore.
func (m *Internal) ScramKeys(ctx context.Context, user string, h sasl.Hash) (sasl.ScramKeys, bool, error) {
	a, err := m.account(ctx, user)
	if errors.Is(err, backends.ErrNotFound) {
		return sasl.ScramKeys{}, false, nil
	}
	if err != nil {
		return sasl.ScramKeys{}, false, fmt.Errorf("internal: account %s@%s: %w", user, m.domain, err)
	}
	sk := keysFor(&a.Credentials, h)
	if sk == nil {
		return sasl.ScramKeys{}, false, nil
	}
	return sasl.ScramKeys{Salt: sk.Salt, Iterations: sk.Iterations, StoredKey: sk.StoredKey, ServerKey: sk.ServerKey}, true, nil
}

// account reads user's account. A name of an ANONYMOUS session has none, even if an
// account of that name was created (by in-band registration): logging into it would
// share the anonymous user's JID.
func (m *Internal) account(ctx context.Context, user string) (backends.Account, error) {
	if m.anon != nil && m.anon.Is(user) {
		return backends.Account{}, backends.ErrNotFound
	}
	return m.store.Account(ctx, m.domain, user)
}

func keysFor(c *backends.Credentials, h sasl.Hash) *backends.ScramKeys {
	switch h {
	case sasl.SHA1:
		return c.SHA1
	case sasl.SHA256:
		return c.SHA256
	case sasl.SHA512:
		return c.SHA512
	}
	return nil
}

// CheckPassword implements Method: it derives the stored key from password with the
// account's strongest stored salt and count. An unknown user costs the same work.
func (m *Internal) CheckPassword(ctx context.Context, user, password string) (bool, error) {
	a, err := m.account(ctx, user)
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return false, fmt.Errorf("internal: account %s@%s: %w", user, m.domain, err)
	}
	if err == nil {
		for _, h := range [...]sasl.Hash{sasl.SHA256, sasl.SHA512, sasl.SHA1} {
			if sk := keysFor(&a.Credentials, h); sk != nil && sk.Iterations > 0 {
				k := sasl.DeriveKeys(h, password, sk.Salt, sk.Iterations)
				return subtle.ConstantTimeCompare(k.StoredKey, sk.StoredKey) == 1, nil
			}
		}
	}
	sasl.DeriveKeys(sasl.SHA256, password, m.secret, m.iterations)
	return false, nil
}

// UserExists implements Method.
func (m *Internal) UserExists(ctx context.Context, user string) (bool, error) {
	_, err := m.account(ctx, user)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, backends.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("internal: account %s@%s: %w", user, m.domain, err)
}
