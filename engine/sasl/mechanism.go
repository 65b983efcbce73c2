package sasl

import (
	"crypto/sha1" //nolint:gosec // SCRAM-SHA-1 is RFC 6120's mandatory-to-implement mechanism.
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
)

// Hash names the hash function of a SCRAM mechanism and of the keys stored for it.
// The zero value is not a hash.
type Hash int

// The SCRAM hash functions.
const (
	SHA1 Hash = iota + 1
	SHA256
	SHA512
)

// String returns the hash's name as it appears in mechanism names ("SHA-256").
func (h Hash) String() string {
	switch h {
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	case SHA512:
		return "SHA-512"
	}
	return ""
}

// Valid reports whether h is one of the constants above.
func (h Hash) Valid() bool { return h >= SHA1 && h <= SHA512 }

// Size returns the digest size in bytes, which is also the length of every SCRAM key and
// proof for h, or 0 for an invalid Hash.
func (h Hash) Size() int {
	switch h {
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	case SHA512:
		return sha512.Size
	}
	return 0
}

// New returns the hash constructor. It panics on an invalid Hash: that is a programming
// error, never a protocol one.
func (h Hash) New() func() hash.Hash {
	switch h {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	panic("sasl: invalid Hash " + strconv.Itoa(int(h)))
}

// Mechanism is a SASL mechanism this package implements. The zero value is not a
// mechanism.
type Mechanism uint8

// The mechanisms, in the order Mechanisms advertises them (strongest first).
const (
	ScramSHA512Plus Mechanism = iota + 1
	ScramSHA256Plus
	ScramSHA1Plus
	ScramSHA512
	ScramSHA256
	ScramSHA1
	Plain
	Anonymous
)

// mechanismNames holds the registered names (RFC 4422 section 3.1: case-sensitive).
var mechanismNames = [...]string{
	ScramSHA512Plus: "SCRAM-SHA-512-PLUS",
	ScramSHA256Plus: "SCRAM-SHA-256-PLUS",
	ScramSHA1Plus:   "SCRAM-SHA-1-PLUS",
	ScramSHA512:     "SCRAM-SHA-512",
	ScramSHA256:     "SCRAM-SHA-256",
	ScramSHA1:       "SCRAM-SHA-1",
	Plain:           "PLAIN",
	Anonymous:       "ANONYMOUS",
}

// String returns the registered mechanism name, or "" for a value that is not a
// mechanism.
func (m Mechanism) String() string {
	if int(m) >= len(mechanismNames) {
		return ""
	}
	return mechanismNames[m]
}

// ParseMechanism maps the value of <auth mechanism='...'/> to a Mechanism. Names are
// matched exactly (SASL names are case-sensitive). It does not allocate, so the engine may
// call it on a slice that aliases its read buffer.
func ParseMechanism(name []byte) (Mechanism, bool) {
	for m := ScramSHA512Plus; m <= Anonymous; m++ {
		if mechanismNames[m] == string(name) {
			return m, true
		}
	}
	return 0, false
}

// Hash returns the hash of a SCRAM mechanism; ok is false for PLAIN and ANONYMOUS.
func (m Mechanism) Hash() (h Hash, ok bool) {
	switch m {
	case ScramSHA1, ScramSHA1Plus:
		return SHA1, true
	case ScramSHA256, ScramSHA256Plus:
		return SHA256, true
	case ScramSHA512, ScramSHA512Plus:
		return SHA512, true
	}
	return 0, false
}

// Plus reports whether m is a channel-binding (-PLUS) variant.
func (m Mechanism) Plus() bool {
	return m == ScramSHA1Plus || m == ScramSHA256Plus || m == ScramSHA512Plus
}

// scram returns the SCRAM mechanism for h, with or without channel binding.
func scram(h Hash, plus bool) Mechanism {
	switch {
	case h == SHA512 && plus:
		return ScramSHA512Plus
	case h == SHA256 && plus:
		return ScramSHA256Plus
	case h == SHA1 && plus:
		return ScramSHA1Plus
	case h == SHA512:
		return ScramSHA512
	case h == SHA256:
		return ScramSHA256
	case h == SHA1:
		return ScramSHA1
	}
	return 0
}
