package authmethods

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// Anonymous names the users of SASL ANONYMOUS (RFC 4505): each login gets a fresh
// localpart made of the configured prefix, 10 random bytes and an 8-byte tag, an HMAC
// of the random part under a key derived from the server secret. Is recognises such
// names without any state, so the engine can drop an anonymous user's data when its
// session ends, and nobody can log in under, or pick, a name that passes Is without
// the secret. Safe for concurrent use from any goroutine.
type Anonymous struct {
	prefix string
	key    []byte
}

const (
	anonRandLen = 10
	anonTagLen  = 8
)

// anonEncoding is lowercase base32 without padding: valid in any localpart and
// unchanged by case mapping.
var anonEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// anonLabel separates the key from other uses of the server secret.
var anonLabel = []byte("hermod anonymous localpart\x00")

// NewAnonymous returns the namer for prefix, keyed from secret.
func NewAnonymous(prefix string, secret []byte) *Anonymous {
	mac := hmac.New(sha256.New, secret)
	mac.Write(anonLabel)
	return &Anonymous{prefix: prefix, key: mac.Sum(nil)}
}

// tag returns the tag of the random part r.
func (a *Anonymous) tag(r []byte) []byte {
	mac := hmac.New(sha256.New, a.key)
	mac.Write(r)
	return mac.Sum(nil)[:anonTagLen]
}

// NewUser returns a fresh anonymous localpart. Safe from any goroutine.
func (a *Anonymous) NewUser() string {
	var b [anonRandLen + anonTagLen]byte
	_, _ = rand.Read(b[:anonRandLen]) // crypto/rand.Read never fails (Go 1.24+)
	copy(b[anonRandLen:], a.tag(b[:anonRandLen]))
	return a.prefix + anonEncoding.EncodeToString(b[:])
}

// Is reports whether user (a prepared localpart) was made by NewUser with this
// prefix and secret. Safe from any goroutine; it does not allocate for names of the
// wrong length or prefix.
func (a *Anonymous) Is(user string) bool {
	rest, ok := strings.CutPrefix(user, a.prefix)
	if !ok || len(rest) != anonEncoding.EncodedLen(anonRandLen+anonTagLen) {
		return false
	}
	var b [anonRandLen + anonTagLen]byte
	n, err := anonEncoding.Decode(b[:], []byte(rest))
	// The last character carries an unused bit that the decoder ignores: only the
	// spelling NewUser makes (that bit zero) is accepted, so a name has one spelling.
	if err != nil || n != len(b) || anonEncoding.EncodeToString(b[:]) != rest {
		return false
	}
	return hmac.Equal(b[anonRandLen:], a.tag(b[:anonRandLen]))
}
