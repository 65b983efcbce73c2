// Package accounts manages XMPP accounts for administrators: it implements
// admin.Users over a backends.Accounts store, for the admin API of a running server
// and for the `hermod user` commands that open the store directly.
//
// It turns what an administrator types into what a store keeps: JIDs are normalised
// with stanza/jid (RFC 7622), passwords are checked against the PRECIS OpaqueString
// profile and never stored: each becomes SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512
// keys (sasl.DeriveKeys, RFC 5802/7677) with a random 16-byte salt per hash. Bulk
// imports (ImportUsers) validate a whole CSV document first, then derive keys on all
// cores and write with PutAccounts in batches.
//
// It must not run on an event loop: every method blocks on PBKDF2 and storage.
// A Manager is safe for concurrent use.
package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
	"github.com/hermod-im/hermod/stanza/jid"
)

// SaltLen is the length of the random salt of each set of SCRAM keys.
const SaltLen = 16

// DefaultBatchSize is how many accounts an import writes per PutAccounts call.
const DefaultBatchSize = 1000

// Options configure a Manager.
type Options struct {
	// Store keeps the accounts. Required.
	Store backends.Accounts
	// Iterations returns the PBKDF2 count for new keys of a domain (config
	// AuthFor(domain).ScramIterations). Required.
	Iterations func(domain string) int
	// Hosts, when non-empty, are the only domains accepted (the server's hosts).
	Hosts []string
	// Workers is how many goroutines derive keys during an import; 0 means
	// GOMAXPROCS. A running server may want fewer, to keep cores for its clients.
	Workers int
	// BatchSize is the accounts per PutAccounts call; 0 means DefaultBatchSize.
	BatchSize int
	// Progress, if set, is called after each batch of an import with the accounts
	// written so far and the total, from the goroutine running ImportUsers.
	Progress func(done, total int)
	// Rand is the salt source; nil means crypto/rand.
	Rand io.Reader
	// Now stamps new accounts; nil means time.Now.
	Now func() time.Time
}

// ForConfig returns the Options a server with configuration cfg uses: iterations per
// host from [auth] (with [auth.host] overrides) and the served hosts. The caller may
// adjust the result (Workers, Progress) before New.
func ForConfig(cfg *config.Config, store backends.Accounts) Options {
	return Options{
		Store:      store,
		Iterations: func(domain string) int { return cfg.AuthFor(domain).ScramIterations },
		Hosts:      cfg.General.Hosts,
	}
}

// Manager implements admin.Users over a store.
type Manager struct {
	o     Options
	hosts map[string]bool
}

var _ admin.Users = (*Manager)(nil)

// New returns a Manager. The store stays the caller's to close.
func New(o Options) (*Manager, error) {
	if o.Store == nil || o.Iterations == nil {
		return nil, errors.New("accounts: Options.Store and Options.Iterations are required")
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o}
	if len(o.Hosts) > 0 {
		m.hosts = map[string]bool{}
		for _, h := range o.Hosts {
			d, err := jid.Parse(h)
			if err != nil || !d.IsDomain() {
				return nil, fmt.Errorf("accounts: host %q is not a domain", h)
			}
			m.hosts[d.Domainpart()] = true
		}
	}
	return m, nil
}

// classed is an error with a class of package admin (so the HTTP status is right),
// the underlying store error, and a message naming the account.
type classed struct {
	msg  string
	errs []error
}

func (e *classed) Error() string   { return e.msg }
func (e *classed) Unwrap() []error { return e.errs }

func invalidf(format string, args ...any) error {
	return &classed{msg: fmt.Sprintf(format, args...), errs: []error{admin.ErrInvalid}}
}

// storeError classifies a store error for account j.
func storeError(op string, j jid.JID, err error) error {
	var class error
	switch {
	case errors.Is(err, backends.ErrExists):
		class = admin.ErrExists
	case errors.Is(err, backends.ErrNotFound):
		class = admin.ErrNotFound
	case errors.Is(err, backends.ErrInvalid):
		class = admin.ErrInvalid
	default:
		return fmt.Errorf("accounts: %s %s: %w", op, j, err)
	}
	return &classed{msg: fmt.Sprintf("%s: %v", j, class), errs: []error{class, err}}
}

// ParseAccountJID normalises s to the bare JID of an account (localpart required,
// no resource) and checks its domain against the hosts.
func (m *Manager) ParseAccountJID(s string) (jid.JID, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, invalidf("%q is not a valid JID: %v", s, err)
	}
	if j.Localpart() == "" {
		return jid.JID{}, invalidf("%q has no user part (user@domain)", s)
	}
	if j.Resourcepart() != "" {
		return jid.JID{}, invalidf("%q has a resource; an account is a bare JID (user@domain)", s)
	}
	if m.hosts != nil && !m.hosts[j.Domainpart()] {
		return jid.JID{}, invalidf("%s: domain %q is not served by this server", j, j.Domainpart())
	}
	return j, nil
}

func checkPassword(p string) error {
	if p == "" {
		return invalidf("the password is empty")
	}
	if _, err := sasl.PreparePassword(p); err != nil {
		return invalidf("the password is not allowed (PRECIS OpaqueString: no control characters, not only spaces): %v", err)
	}
	return nil
}

// Derive computes the stored credentials for a password: SCRAM-SHA-1, -256 and -512
// keys with a fresh random salt each. It costs three PBKDF2 runs of iterations.
func (m *Manager) Derive(password string, iterations int) (backends.Credentials, error) {
	var salts [3 * SaltLen]byte
	if _, err := io.ReadFull(m.o.Rand, salts[:]); err != nil {
		return backends.Credentials{}, fmt.Errorf("accounts: read salt: %w", err)
	}
	keys := func(h sasl.Hash, salt []byte) *backends.ScramKeys {
		k := sasl.DeriveKeys(h, password, salt, iterations)
		return &backends.ScramKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
	return backends.Credentials{
		SHA1:   keys(sasl.SHA1, salts[0:SaltLen:SaltLen]),
		SHA256: keys(sasl.SHA256, salts[SaltLen:2*SaltLen:2*SaltLen]),
		SHA512: keys(sasl.SHA512, salts[2*SaltLen:]),
	}, nil
}

// AddUser implements admin.Users.
func (m *Manager) AddUser(ctx context.Context, s, password string) error {
	j, err := m.ParseAccountJID(s)
	if err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	// Refuse before paying for PBKDF2 when the account obviously exists; the store's
	// own ErrExists still decides a race.
	if _, err := m.o.Store.Account(ctx, j.Domainpart(), j.Localpart()); err == nil {
		return storeError("add", j, backends.ErrExists)
	}
	creds, err := m.Derive(password, m.o.Iterations(j.Domainpart()))
	if err != nil {
		return err
	}
	a := backends.Account{Domain: j.Domainpart(), User: j.Localpart(), Credentials: creds, Created: m.o.Now()}
	if err := m.o.Store.CreateAccount(ctx, a); err != nil {
		return storeError("add", j, err)
	}
	return nil
}

// DeleteUser implements admin.Users.
func (m *Manager) DeleteUser(ctx context.Context, s string) error {
	j, err := m.ParseAccountJID(s)
	if err != nil {
		return err
	}
	if err := m.o.Store.DeleteAccount(ctx, j.Domainpart(), j.Localpart()); err != nil {
		return storeError("delete", j, err)
	}
	return nil
}

// SetPassword implements admin.Users.
func (m *Manager) SetPassword(ctx context.Context, s, password string) error {
	j, err := m.ParseAccountJID(s)
	if err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	if _, err := m.o.Store.Account(ctx, j.Domainpart(), j.Localpart()); err != nil {
		return storeError("set password of", j, err)
	}
	creds, err := m.Derive(password, m.o.Iterations(j.Domainpart()))
	if err != nil {
		return err
	}
	if err := m.o.Store.SetCredentials(ctx, j.Domainpart(), j.Localpart(), creds); err != nil {
		return storeError("set password of", j, err)
	}
	return nil
}

// ListUsers implements admin.Users.
func (m *Manager) ListUsers(ctx context.Context, domain, after string, limit int) ([]string, error) {
	d, err := jid.Parse(domain)
	if err != nil || !d.IsDomain() {
		return nil, invalidf("%q is not a domain", domain)
	}
	if m.hosts != nil && !m.hosts[d.Domainpart()] {
		return nil, invalidf("domain %q is not served by this server", d.Domainpart())
	}
	if limit < 1 {
		return nil, invalidf("limit must be positive")
	}
	users, err := m.o.Store.ListAccounts(ctx, d.Domainpart(), after, limit)
	if err != nil {
		return nil, fmt.Errorf("accounts: list %s: %w", d, err)
	}
	return users, nil
}
