package sasl

import (
	"bytes"
	"context"
	"crypto/subtle"
	"unicode/utf8"
)

// maxAuthzid bounds the authorization identity of PLAIN and SCRAM: a bare JID is at most
// 1023 bytes of localpart, '@', and 1023 bytes of domain.
const maxAuthzid = 2047

// plainServer runs PLAIN (RFC 4616): one message, authzid NUL authcid NUL passwd.
type plainServer struct {
	a       *Authenticator
	domain  string
	started bool // an empty challenge was sent for a missing initial response
	done    bool
	user    string
}

// Blocks implements Server: checking a password may block (a backend, PBKDF2);
// sending the empty challenge for a missing initial response does not.
func (s *plainServer) Blocks(in []byte) bool { return !s.done && (in != nil || s.started) }

// Mechanism implements Server.
func (s *plainServer) Mechanism() Mechanism { return Plain }

// Username implements Server.
func (s *plainServer) Username() string { return s.user }

// Step implements Server.
func (s *plainServer) Step(ctx context.Context, in []byte) ([]byte, bool, error) {
	if s.done {
		return nil, true, fail(MalformedRequest, "exchange already finished")
	}
	if in == nil && !s.started {
		s.started = true
		return []byte{}, false, nil
	}
	s.done = true
	user, err := s.verify(ctx, in)
	if err != nil {
		return nil, true, err
	}
	s.user = user
	return nil, true, nil
}

// parsePlain splits a PLAIN message into its three fields, enforcing RFC 4616's grammar:
// exactly two NULs, non-empty authcid and passwd, UTF-8 throughout.
func parsePlain(in []byte) (authzid, authcid, passwd []byte, f *Failure) {
	authzid, rest, ok := bytes.Cut(in, []byte{0})
	if !ok {
		return nil, nil, nil, fail(MalformedRequest, "PLAIN message needs two NUL separators")
	}
	authcid, passwd, ok = bytes.Cut(rest, []byte{0})
	if !ok || bytes.IndexByte(passwd, 0) >= 0 {
		return nil, nil, nil, fail(MalformedRequest, "PLAIN message needs exactly two NUL separators")
	}
	switch {
	case len(authcid) == 0:
		return nil, nil, nil, fail(MalformedRequest, "empty PLAIN authentication identity")
	case len(passwd) == 0:
		return nil, nil, nil, fail(MalformedRequest, "empty PLAIN password")
	case !utf8.Valid(authzid) || !utf8.Valid(authcid) || !utf8.Valid(passwd):
		return nil, nil, nil, fail(MalformedRequest, "PLAIN fields must be UTF-8")
	case len(authzid) > maxAuthzid || len(authcid) > 4*maxLocalpart || len(passwd) > maxPassword:
		return nil, nil, nil, fail(MalformedRequest, "PLAIN field too long")
	}
	return authzid, authcid, passwd, nil
}

// verify checks a PLAIN message and returns the prepared username.
func (s *plainServer) verify(ctx context.Context, in []byte) (string, error) {
	if f := ctxFailure(ctx); f != nil {
		return "", f
	}
	authzid, authcid, passwd, f := parsePlain(in)
	if f != nil {
		return "", f
	}
	user, err := PrepareUsername(string(authcid))
	if err != nil {
		return "", &Failure{Condition: NotAuthorized, Err: err}
	}
	// The authorization identity is checked before the password: it costs no PBKDF2 and
	// reveals nothing about the credentials.
	if len(authzid) > 0 && !authzidMatches(string(authzid), user, s.domain) {
		return "", fail(InvalidAuthzid, "")
	}
	password := normPassword(string(passwd))
	var ok bool
	if s.a.passwords != nil {
		ok, err = s.a.passwords.CheckPassword(ctx, user, password)
		if err != nil {
			return "", backendFailure("check password", err)
		}
	} else {
		ok, err = s.a.checkAgainstKeys(ctx, user, password)
		if err != nil {
			return "", err
		}
	}
	if !ok {
		return "", fail(NotAuthorized, "")
	}
	return user, nil
}

// checkAgainstKeys verifies a plaintext password against stored SCRAM keys: it derives
// the SaltedPassword with the stored salt and count and compares the resulting StoredKey.
// A user without keys costs the same derivation against fake keys, so response time does
// not reveal which accounts exist.
func (a *Authenticator) checkAgainstKeys(ctx context.Context, user, password string) (bool, error) {
	for _, h := range a.hashes {
		keys, ok, err := a.keys.ScramKeys(ctx, user, h)
		if err != nil {
			return false, backendFailure("look up SCRAM keys", err)
		}
		if !ok {
			continue
		}
		if !keys.valid(h) {
			return false, &Failure{Condition: TemporaryAuthFailure, Err: errCorruptKeys(user, h)}
		}
		return a.matchKeys(ctx, h, password, &keys, true)
	}
	fake := fakeKeys(a.secret, a.hashes[0], user, a.saltLen, a.iterations)
	_, err := a.matchKeys(ctx, a.hashes[0], password, &fake, false)
	return false, err
}

// matchKeys derives StoredKey from password and compares it with keys in constant time;
// real=false runs the same work and reports no match.
func (a *Authenticator) matchKeys(ctx context.Context, h Hash, password string, keys *ScramKeys, real bool) (bool, error) {
	salted, err := saltedPassword(ctx, h, password, keys.Salt, keys.Iterations)
	if err != nil {
		return false, &Failure{Condition: TemporaryAuthFailure, Err: err}
	}
	stored, _ := keysFromSalted(h, salted)
	eq := subtle.ConstantTimeCompare(stored, keys.StoredKey) == 1
	return eq && real, nil
}
