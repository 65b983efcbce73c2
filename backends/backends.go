package backends

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Stores wrap them with context (what was being done, to which key), so
// callers test them with errors.Is, never with ==.
var (
	// ErrNotFound reports that the addressed record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists reports that a record that was to be created already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid reports an argument that no store accepts: an empty or over-long key,
	// malformed credentials, a non-positive page size. Nothing was written.
	ErrInvalid = errors.New("invalid argument")
	// ErrClosed reports a call on a store after Close.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable reports that the backend cannot be reached (its server is down,
	// refuses connections or does not answer in time); the caller answers
	// wait/internal-server-error. A write that failed with it may or may not have been
	// applied when the failure cut its commit short.
	ErrUnavailable = errors.New("backend unavailable")
)

// ScramKeys is what a server keeps to verify SCRAM authentication for one hash function
// (RFC 5802 section 3): never the password, nor the SaltedPassword from which a client key
// could be derived without the password.
type ScramKeys struct {
	// Salt is sent to the client in the server-first-message.
	Salt []byte
	// Iterations is the PBKDF2 iteration count, sent with the salt.
	Iterations int
	// StoredKey is H(ClientKey): it checks the client proof.
	StoredKey []byte
	// ServerKey signs the server-final-message.
	ServerKey []byte
}

// Credentials are the SCRAM keys of an account, one set per hash function it supports. A
// nil entry means the mechanism (SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-512 and their -PLUS
// variants) is not available for the account. All three nil is allowed: such an account
// can authenticate only by other means (a client certificate, an external authenticator).
type Credentials struct {
	SHA1, SHA256, SHA512 *ScramKeys
}

// Account is one registered user of one virtual host.
type Account struct {
	// Domain and User are the normalised domainpart and localpart of the bare JID.
	Domain, User string
	// Credentials are what authentication checks.
	Credentials Credentials
	// Created is when the account was registered. A zero value given to CreateAccount or
	// PutAccounts is replaced by the store's current time. Stores keep at least whole
	// seconds; the location of the returned time is unspecified (compare with Equal).
	Created time.Time
}

// Accounts is the storage of accounts and their credentials.
//
// Every method may block on I/O and must not be called on an event loop; all are safe for
// concurrent use. Writes are durable when they return nil. A context that is already done
// makes a method return its error without doing anything; once a write has been handed to
// the storage engine it completes even if the context is cancelled meanwhile, so that an
// error never hides a write that happened.
type Accounts interface {
	// CreateAccount stores a new account. It returns an error wrapping ErrExists if the
	// account is already present (and leaves that account unchanged), ErrInvalid if a key
	// or the credentials are malformed.
	CreateAccount(ctx context.Context, a Account) error

	// PutAccounts stores many accounts in one durable batch, overwriting those present:
	// the bulk import path. Either all are written or none is. When the slice names the
	// same account twice, the last one wins. An invalid account fails the whole call with
	// ErrInvalid.
	PutAccounts(ctx context.Context, as []Account) error

	// DeleteAccount removes an account. It returns an error wrapping ErrNotFound if the
	// account is absent.
	DeleteAccount(ctx context.Context, domain, user string) error

	// SetCredentials replaces the credentials of an existing account (password change,
	// iteration-count upgrade), keeping its creation time. It returns an error wrapping
	// ErrNotFound if the account is absent.
	SetCredentials(ctx context.Context, domain, user string, c Credentials) error

	// Account returns the account, or an error wrapping ErrNotFound. The returned value
	// shares no memory with the store: the caller may keep and modify it.
	Account(ctx context.Context, domain, user string) (Account, error)

	// ListAccounts returns at most limit users of domain, in byte-wise ascending order,
	// starting strictly after the user named by after ("" starts at the beginning; after
	// need not exist). An unknown domain gives an empty list, not an error. limit must be
	// positive. To walk a whole domain, pass the last user of each page as the next after.
	ListAccounts(ctx context.Context, domain string, after string, limit int) ([]string, error)

	// CountAccounts returns how many accounts domain has (0 for an unknown domain).
	CountAccounts(ctx context.Context, domain string) (int, error)
}

// Pinger is implemented by stores that talk to a server (MySQL, Redis): Ping checks
// that the server answers, within the store's own timeout, and fails with an error
// wrapping ErrUnavailable when it does not. The server's health monitor calls it; it
// may block and must not be called on an event loop.
type Pinger interface {
	Ping(ctx context.Context) error
}

// MemoryReleaser is implemented by stores that hold resident memory they can give
// back while the server is quiet: the embedded store's memory-mapped file pages, which
// every read leaves in the process's resident set although they are page cache the
// kernel already holds. ReleaseMemory must not change what the store holds; it may
// block briefly and must not be called on an event loop.
type MemoryReleaser interface {
	ReleaseMemory() error
}

// Store is everything Hermod stores. It grows an interface per kind of data (rosters,
// offline messages, vCards, ...) as the modules that need them arrive.
type Store interface {
	Accounts

	// Close flushes and releases the store. Calls made after Close return an error
	// wrapping ErrClosed. Close waits for writes already handed to the engine.
	Close() error
}
