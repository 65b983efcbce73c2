package sasl

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// memKeys is an in-memory KeyStore: user -> hash -> keys. err, when set, is returned by
// every lookup; calls counts lookups.
type memKeys struct {
	mu    sync.Mutex
	keys  map[string]map[Hash]ScramKeys
	err   error
	calls int
}

func newMemKeys() *memKeys { return &memKeys{keys: map[string]map[Hash]ScramKeys{}} }

// set derives and stores keys for user and password under every hash in hs.
func (m *memKeys) set(user, password string, salt []byte, iterations int, hs ...Hash) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys[user] == nil {
		m.keys[user] = map[Hash]ScramKeys{}
	}
	for _, h := range hs {
		m.keys[user][h] = DeriveKeys(h, password, salt, iterations)
	}
}

func (m *memKeys) ScramKeys(ctx context.Context, user string, h Hash) (ScramKeys, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return ScramKeys{}, false, m.err
	}
	if err := ctx.Err(); err != nil {
		return ScramKeys{}, false, err
	}
	k, ok := m.keys[user][h]
	return k, ok, nil
}

// memPasswords is an in-memory PasswordChecker.
type memPasswords struct {
	users map[string]string
	err   error
	got   []string // passwords it was asked to check, prepared
}

func (m *memPasswords) CheckPassword(ctx context.Context, user, password string) (bool, error) {
	m.got = append(m.got, password)
	if m.err != nil {
		return false, m.err
	}
	p, ok := m.users[user]
	return ok && p == password, nil
}

// fixedNonce returns a nonce source that always answers n.
func fixedNonce(n string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(n), nil }
}

// testSecret is a stable server secret for tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

var allHashes = []Hash{SHA256, SHA1, SHA512}

// newTestAuth builds an Authenticator over ks with every hash, failing the test on error.
func newTestAuth(t testing.TB, ks KeyStore, mod func(*Options)) *Authenticator {
	t.Helper()
	o := Options{Keys: ks, Hashes: allHashes, Secret: testSecret}
	if mod != nil {
		mod(&o)
	}
	a, err := NewAuthenticator(o)
	if err != nil {
		t.Fatalf("NewAuthenticator: %v", err)
	}
	return a
}

// condOf returns the condition of a *Failure error, or 0.
func condOf(err error) Condition {
	if f, ok := errors.AsType[*Failure](err); ok {
		return f.Condition
	}
	return 0
}

// tlsConn is a Conn with TLS and the given bindings.
func tlsConn(bs ...ChannelBinding) *Conn {
	return &Conn{Secure: true, Bindings: bs, Domain: "example.org"}
}

var (
	exporterCB = ChannelBinding{Type: TLSExporter, Data: []byte("0123456789abcdef0123456789abcdef")}
	endPointCB = ChannelBinding{Type: TLSServerEndPoint, Data: []byte("fedcba9876543210fedcba9876543210")}
)
