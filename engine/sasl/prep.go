package sasl

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// maxLocalpart is RFC 7622's limit on a localpart, in bytes, after preparation.
const maxLocalpart = 1023

// maxPassword bounds a password in bytes. RFC 4616 only requires accepting 255 octets; the
// bound keeps a hostile client from making preparation and PBKDF2 hash megabytes. It
// leaves room for a JSON Web Token used as the password (the jwt method): an RS512
// token signed with a 4096-bit key is about 1.3 KB.
const maxPassword = 4096

var (
	errUsernameForbidden = errors.New("username contains a character forbidden in a localpart")
	errUsernameTooLong   = errors.New("username longer than 1023 bytes")
	errUsernameEmpty     = errors.New("empty username")
	errPasswordTooLong   = errors.New("password longer than 1024 bytes")
)

// PrepareUsername enforces the PRECIS UsernameCaseMapped profile (RFC 8265) and the
// localpart rules of RFC 7622 section 3.3 on a username, which is how Hermod's localparts
// are stored: "Juliet" and "juliet" are the same account. Backends should store usernames
// in this form; the mechanisms pass only prepared usernames to them. Safe from any
// goroutine.
func PrepareUsername(s string) (string, error) {
	if len(s) > 4*maxLocalpart { // cheap bound before the profile allocates
		return "", errUsernameTooLong
	}
	p, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", fmt.Errorf("prepare username: %w", err)
	}
	if p == "" { // the profile lets an empty string through; a localpart can't be empty
		return "", errUsernameEmpty
	}
	if len(p) > maxLocalpart {
		return "", errUsernameTooLong
	}
	if strings.ContainsAny(p, "\"&'/:<>@") {
		return "", errUsernameForbidden
	}
	return p, nil
}

// PreparePassword enforces the PRECIS OpaqueString profile (RFC 8265) on a password. A
// backend setting a password should reject one this refuses; DeriveKeys and PLAIN fall back
// to the raw string for such passwords so that accounts created elsewhere still work. Safe
// from any goroutine.
func PreparePassword(s string) (string, error) {
	if len(s) > maxPassword {
		return "", errPasswordTooLong
	}
	p, err := precis.OpaqueString.String(s)
	if err != nil {
		return "", fmt.Errorf("prepare password: %w", err)
	}
	return p, nil
}

// normPassword is the password as both DeriveKeys and PLAIN see it: prepared when the
// profile accepts it, raw otherwise. The two must agree or PLAIN against stored keys
// would reject passwords SCRAM accepts.
func normPassword(s string) string {
	if p, err := precis.OpaqueString.String(s); err == nil {
		return p
	}
	return s
}

// decodeSaslname undoes RFC 5802's saslname escaping ("=2C" for ',' and "=3D" for '=')
// and checks the result is valid UTF-8 without NUL. Any other '=' sequence is an error:
// RFC 5802 section 5.1 says the server MUST fail the authentication.
func decodeSaslname(b []byte) (string, bool) {
	if len(b) == 0 || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 || bytes.IndexByte(b, ',') >= 0 {
		return "", false
	}
	if bytes.IndexByte(b, '=') < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(b) {
			return "", false
		}
		switch string(b[i+1 : i+3]) {
		case "2C":
			out = append(out, ',')
		case "3D":
			out = append(out, '=')
		default:
			return "", false
		}
		i += 2
	}
	return string(out), true
}

// EscapeSaslname applies RFC 5802's saslname escaping; clients and tests need it, the
// server only decodes. Safe from any goroutine.
func EscapeSaslname(s string) string {
	if !strings.ContainsAny(s, ",=") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			b.WriteString("=2C")
		case '=':
			b.WriteString("=3D")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// authzidMatches reports whether an authorization identity names the authenticated user
// (RFC 6120 section 6.3.8): either the bare username or the bare JID user@domain of this
// stream. Acting on behalf of another entity is not supported, so anything else is
// invalid-authzid. user is already prepared.
func authzidMatches(authzid, user, domain string) bool {
	local, dom, hasAt := strings.Cut(authzid, "@")
	if hasAt {
		if domain == "" || !strings.EqualFold(strings.TrimSuffix(dom, "."), strings.TrimSuffix(domain, ".")) {
			return false
		}
	}
	p, err := PrepareUsername(local)
	return err == nil && p == user
}
