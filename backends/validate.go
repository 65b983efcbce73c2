package backends

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"math"
)

// Limits every store enforces, so that an account accepted by one store is accepted by
// all of them (and fits the SQL columns and Redis keys of the networked ones).
const (
	// MaxPartLen is the longest user or domain in bytes: RFC 7622 section 3 caps a
	// localpart and a domainpart at 1023 octets.
	MaxPartLen = 1023
	// MaxSaltLen is the longest SCRAM salt in bytes. Salts are 16 to 32 random bytes in
	// practice; the cap keeps records small and bounded.
	MaxSaltLen = 255
	// MaxIterations is the largest PBKDF2 iteration count: it must fit a signed 32-bit
	// column.
	MaxIterations = math.MaxInt32
)

// ValidateKey checks a (domain, user) pair: both non-empty and at most MaxPartLen bytes.
// The error wraps ErrInvalid.
func ValidateKey(domain, user string) error {
	if err := ValidateDomain(domain); err != nil {
		return err
	}
	if user == "" {
		return fmt.Errorf("empty user: %w", ErrInvalid)
	}
	if len(user) > MaxPartLen {
		return fmt.Errorf("user of %d bytes exceeds %d: %w", len(user), MaxPartLen, ErrInvalid)
	}
	return nil
}

// ValidateDomain checks a domain: non-empty and at most MaxPartLen bytes. The error wraps
// ErrInvalid.
func ValidateDomain(domain string) error {
	if domain == "" {
		return fmt.Errorf("empty domain: %w", ErrInvalid)
	}
	if len(domain) > MaxPartLen {
		return fmt.Errorf("domain of %d bytes exceeds %d: %w", len(domain), MaxPartLen, ErrInvalid)
	}
	return nil
}

// Validate checks every non-nil set of keys: a salt of 1 to MaxSaltLen bytes, 1 to
// MaxIterations iterations, and StoredKey and ServerKey exactly as long as the output of
// the hash function they belong to. The error wraps ErrInvalid.
func (c Credentials) Validate() error {
	sets := [...]struct {
		name string
		keys *ScramKeys
		size int
	}{
		{"SHA-1", c.SHA1, sha1.Size},
		{"SHA-256", c.SHA256, sha256.Size},
		{"SHA-512", c.SHA512, sha512.Size},
	}
	for _, s := range sets {
		if s.keys == nil {
			continue
		}
		if err := s.keys.validate(s.size); err != nil {
			return fmt.Errorf("SCRAM-%s keys: %w", s.name, err)
		}
	}
	return nil
}

func (k *ScramKeys) validate(size int) error {
	switch {
	case len(k.Salt) == 0 || len(k.Salt) > MaxSaltLen:
		return fmt.Errorf("salt of %d bytes, want 1 to %d: %w", len(k.Salt), MaxSaltLen, ErrInvalid)
	case k.Iterations < 1 || k.Iterations > MaxIterations:
		return fmt.Errorf("%d iterations, want 1 to %d: %w", k.Iterations, MaxIterations, ErrInvalid)
	case len(k.StoredKey) != size:
		return fmt.Errorf("StoredKey of %d bytes, want %d: %w", len(k.StoredKey), size, ErrInvalid)
	case len(k.ServerKey) != size:
		return fmt.Errorf("ServerKey of %d bytes, want %d: %w", len(k.ServerKey), size, ErrInvalid)
	}
	return nil
}

// Validate checks the account's key and credentials. The error wraps ErrInvalid.
func (a Account) Validate() error {
	if err := ValidateKey(a.Domain, a.User); err != nil {
		return err
	}
	return a.Credentials.Validate()
}

// Clone returns a deep copy: the copy shares no byte slice with c. Stores that keep
// values in memory use it so that callers cannot reach into them.
func (c Credentials) Clone() Credentials {
	return Credentials{SHA1: c.SHA1.Clone(), SHA256: c.SHA256.Clone(), SHA512: c.SHA512.Clone()}
}

// Clone returns a deep copy of k, or nil for nil.
func (k *ScramKeys) Clone() *ScramKeys {
	if k == nil {
		return nil
	}
	return &ScramKeys{
		Salt:       append([]byte(nil), k.Salt...),
		Iterations: k.Iterations,
		StoredKey:  append([]byte(nil), k.StoredKey...),
		ServerKey:  append([]byte(nil), k.ServerKey...),
	}
}

// Clone returns a deep copy of the account.
func (a Account) Clone() Account {
	a.Credentials = a.Credentials.Clone()
	return a
}
