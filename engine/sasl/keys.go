package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
)

// ScramKeys is what a server stores for one user and one Hash instead of a password
// (RFC 5802 section 3): the salt and iteration count the client needs to derive its
// SaltedPassword, and the two keys the server needs to verify the client's proof and sign
// its own final message. StoredKey and ServerKey are Hash.Size() bytes long.
type ScramKeys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// valid reports whether k can be used with h: a backend that returns anything else has
// corrupt data, which is a temporary-auth-failure rather than a wrong password.
func (k *ScramKeys) valid(h Hash) bool {
	return len(k.Salt) > 0 && k.Iterations > 0 &&
		len(k.StoredKey) == h.Size() && len(k.ServerKey) == h.Size()
}

// PasswordChecker is what an authentication method that can only verify plaintext
// passwords provides; with only this, only PLAIN is offered. user is the prepared
// username (PrepareUsername) and password the prepared password (PreparePassword, or the
// raw password when the OpaqueString profile rejects it). A method reports a disabled or
// expired account by returning a *Failure with AccountDisabled or CredentialsExpired; any
// other error becomes temporary-auth-failure. It is called on an engine worker goroutine
// and may block, but must return when ctx ends.
type PasswordChecker interface {
	CheckPassword(ctx context.Context, user, password string) (bool, error)
}

// KeyStore is what an authentication method that stores SCRAM keys provides; it enables
// every SCRAM mechanism whose Hash it serves, and PLAIN too. ok is false when the user
// does not exist or has no keys for h; the SCRAM exchange then goes on with fake keys so
// the client cannot tell. Errors follow the PasswordChecker rules; note that reporting
// account-disabled reveals that the account exists, so a backend that wants disabled
// accounts hidden answers ok=false for them instead. It is called on an
// engine worker goroutine and may block, but must return when ctx ends.
type KeyStore interface {
	ScramKeys(ctx context.Context, user string, h Hash) (keys ScramKeys, ok bool, err error)
}

// Key-derivation labels of RFC 5802 section 3.
var (
	clientKeyLabel = []byte("Client Key")
	serverKeyLabel = []byte("Server Key")
)

// ctxCheckEvery is how many PBKDF2 iterations run between two looks at ctx: a few hundred
// microseconds of work, so a cancelled exchange stops promptly even with a huge count.
const ctxCheckEvery = 1024

// DeriveKeys derives the keys to store for a password (RFC 5802 section 3). The password
// is prepared with the OpaqueString profile first (falling back to the raw string when the
// profile rejects it, exactly as PLAIN does), so backends can pass what the user typed.
// It costs `iterations` HMACs and may be called from any goroutine, but not from an event
// loop. It panics if h is invalid or iterations < 1.
func DeriveKeys(h Hash, password string, salt []byte, iterations int) ScramKeys {
	k, _ := deriveKeys(context.Background(), h, normPassword(password), salt, iterations)
	return k
}

// deriveKeys is DeriveKeys on an already-normalised password, abandoning the work when
// ctx ends.
func deriveKeys(ctx context.Context, h Hash, password string, salt []byte, iterations int) (ScramKeys, error) {
	if iterations < 1 {
		panic("sasl: SCRAM iteration count must be at least 1")
	}
	salted, err := saltedPassword(ctx, h, password, salt, iterations)
	if err != nil {
		return ScramKeys{}, err
	}
	stored, server := keysFromSalted(h, salted)
	return ScramKeys{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  stored,
		ServerKey:  server,
	}, nil
}

// saltedPassword is Hi(password, salt, i) of RFC 5802 section 2.2, which is PBKDF2 with a
// single block as long as the digest. It is written out (rather than calling
// crypto/pbkdf2) so that it can honour ctx between rounds; tests pin it to crypto/pbkdf2.
func saltedPassword(ctx context.Context, h Hash, password string, salt []byte, iterations int) ([]byte, error) {
	mac := hmac.New(h.New(), []byte(password))
	mac.Write(salt)
	var one [4]byte
	binary.BigEndian.PutUint32(one[:], 1)
	mac.Write(one[:])
	u := mac.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iterations; i++ {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		subtle.XORBytes(out, out, u)
	}
	return out, nil
}

// keysFromSalted returns StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
// ServerKey = HMAC(SaltedPassword, "Server Key").
func keysFromSalted(h Hash, salted []byte) (stored, server []byte) {
	mac := hmac.New(h.New(), salted)
	mac.Write(clientKeyLabel)
	clientKey := mac.Sum(nil)
	mac.Reset()
	mac.Write(serverKeyLabel)
	server = mac.Sum(nil)
	d := h.New()()
	d.Write(clientKey)
	stored = d.Sum(clientKey[:0])
	return stored, server
}

// hmacSum appends HMAC(key, parts...) to dst.
func hmacSum(dst []byte, hf func() hash.Hash, key []byte, parts ...[]byte) []byte {
	mac := hmac.New(hf, key)
	for _, p := range parts {
		mac.Write(p)
	}
	return mac.Sum(dst)
}

// Domain-separation labels for the values derived from the server secret.
var (
	fakeSaltLabel   = []byte("hermod sasl fake salt\x00")
	fakeStoredLabel = []byte("hermod sasl fake stored key\x00")
	fakeServerLabel = []byte("hermod sasl fake server key\x00")
)

// fakeKeys returns keys for a user that does not exist (or has no keys for h): the salt is
// a deterministic function of the secret, h and the username, so asking twice gives the
// same answer, as it would for a real account, and the keys are random-looking values no
// proof can match (finding one means inverting HMAC-SHA-256). The cost is a few HMACs: the
// real path does no PBKDF2 either when keys are stored.
func fakeKeys(secret []byte, h Hash, user string, saltLen, iterations int) ScramKeys {
	name := []byte(h.String() + "\x00" + user)
	salt := hmacSum(nil, sha256.New, secret, fakeSaltLabel, name)
	for len(salt) < saltLen {
		salt = hmacSum(salt, sha256.New, secret, fakeSaltLabel, name, salt)
	}
	return ScramKeys{
		Salt:       salt[:saltLen],
		Iterations: iterations,
		StoredKey:  expand(secret, fakeStoredLabel, name, h.Size()),
		ServerKey:  expand(secret, fakeServerLabel, name, h.Size()),
	}
}

// expand derives n bytes from the secret for one label and name.
func expand(secret, label, name []byte, n int) []byte {
	out := hmacSum(nil, sha256.New, secret, label, name)
	for len(out) < n {
		out = hmacSum(out, sha256.New, secret, label, name, out)
	}
	return out[:n]
}
