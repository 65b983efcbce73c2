package sasl

import (
	"bytes"
	"encoding/base64"
)

// The parsers below follow the ABNF of RFC 5802 section 7 strictly: every deviation is a
// malformed-request with a short reason. They do not allocate; the slices they return
// alias the input.

// clientFirst is a parsed client-first-message.
type clientFirst struct {
	flag      byte   // 'n', 'y' or 'p'
	cbName    []byte // the channel-binding type after "p="
	authzid   []byte // still saslname-escaped; nil when absent
	user      []byte // still saslname-escaped
	nonce     []byte // the client's nonce (c-nonce)
	gs2Header []byte // everything up to and including the second ','
	bare      []byte // client-first-message-bare
}

// clientFinal is a parsed client-final-message.
type clientFinal struct {
	cbind        []byte // base64 of gs2-header [ cbind-data ], undecoded
	nonce        []byte // c-nonce s-nonce
	proof        []byte // base64 of ClientProof, undecoded
	withoutProof []byte // client-final-message-without-proof
}

// maxClientMessage bounds a SCRAM client message: a maximal username and authzid, escaped,
// plus nonces and extensions fit comfortably.
const maxClientMessage = 16 * 1024

// parseClientFirst parses gs2-header client-first-message-bare.
func parseClientFirst(in []byte) (clientFirst, *Failure) {
	var m clientFirst
	if len(in) > maxClientMessage {
		return m, fail(MalformedRequest, "SCRAM message too long")
	}
	rest := in
	switch {
	case len(rest) >= 2 && (rest[0] == 'n' || rest[0] == 'y') && rest[1] == ',':
		m.flag = rest[0]
		rest = rest[2:]
	case bytes.HasPrefix(rest, []byte("p=")):
		name, after, ok := bytes.Cut(rest[2:], []byte{','})
		if !ok || !validCBName(name) {
			return m, fail(MalformedRequest, "invalid channel-binding flag")
		}
		m.flag, m.cbName, rest = 'p', name, after
	default:
		return m, fail(MalformedRequest, "invalid GS2 channel-binding flag")
	}
	authz, after, ok := bytes.Cut(rest, []byte{','})
	if !ok {
		return m, fail(MalformedRequest, "truncated GS2 header")
	}
	if len(authz) > 0 {
		if !bytes.HasPrefix(authz, []byte("a=")) || !validSaslname(authz[2:]) {
			return m, fail(MalformedRequest, "invalid authzid in GS2 header")
		}
		m.authzid = authz[2:]
	}
	m.gs2Header = in[:len(in)-len(after)]
	m.bare = after
	rest = after

	if bytes.HasPrefix(rest, []byte("m=")) {
		return m, fail(MalformedRequest, "reserved mandatory extension m= present")
	}
	field, rest, _ := bytes.Cut(rest, []byte{','})
	if !bytes.HasPrefix(field, []byte("n=")) || !validSaslname(field[2:]) {
		return m, fail(MalformedRequest, "missing or invalid username")
	}
	m.user = field[2:]
	field, rest, more := bytes.Cut(rest, []byte{','})
	if !bytes.HasPrefix(field, []byte("r=")) || !validNonce(field[2:]) {
		return m, fail(MalformedRequest, "missing or invalid client nonce")
	}
	m.nonce = field[2:]
	if more && !validExtensions(rest) {
		return m, fail(MalformedRequest, "invalid extension")
	}
	return m, nil
}

// parseClientFinal parses channel-binding "," nonce ["," extensions] "," proof.
func parseClientFinal(in []byte) (clientFinal, *Failure) {
	var m clientFinal
	if len(in) > maxClientMessage {
		return m, fail(MalformedRequest, "SCRAM message too long")
	}
	i := bytes.LastIndex(in, []byte(",p="))
	if i < 0 {
		return m, fail(MalformedRequest, "missing proof")
	}
	m.withoutProof, m.proof = in[:i], in[i+3:]
	if !validBase64(m.proof) {
		return m, fail(MalformedRequest, "invalid proof encoding")
	}
	field, rest, ok := bytes.Cut(m.withoutProof, []byte{','})
	if !ok || !bytes.HasPrefix(field, []byte("c=")) || !validBase64(field[2:]) {
		return m, fail(MalformedRequest, "missing or invalid channel binding")
	}
	m.cbind = field[2:]
	field, rest, more := bytes.Cut(rest, []byte{','})
	if !bytes.HasPrefix(field, []byte("r=")) || !validNonce(field[2:]) {
		return m, fail(MalformedRequest, "missing or invalid nonce")
	}
	m.nonce = field[2:]
	if more && !validExtensions(rest) {
		return m, fail(MalformedRequest, "invalid extension")
	}
	return m, nil
}

// validSaslname checks saslname = 1*(value-safe-char / "=2C" / "=3D"), where
// value-safe-char is any UTF-8 except NUL, ',' and '='. UTF-8 validity is checked when
// the name is decoded.
func validSaslname(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case 0, ',':
			return false
		case '=':
			if i+2 >= len(b) || !(b[i+1] == '2' && b[i+2] == 'C' || b[i+1] == '3' && b[i+2] == 'D') {
				return false
			}
			i += 2
		}
	}
	return true
}

// validNonce checks 1*printable, printable being %x21-2B / %x2D-7E (no ',').
func validNonce(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// validExtensions checks attr-val *("," attr-val), attr-val = ALPHA "=" value, value =
// 1*value-char (UTF-8 except NUL and ','). The reserved "m" is refused anywhere, and so
// is every attribute name RFC 5802 already defines: a second "p=" or "r=" posing as an
// extension can only be an attempt to confuse a parser.
func validExtensions(b []byte) bool {
	for {
		field, rest, more := bytes.Cut(b, []byte{','})
		if len(field) < 3 || field[1] != '=' || !isAlpha(field[0]) || isDefinedAttr(field[0]) ||
			bytes.IndexByte(field, 0) >= 0 {
			return false
		}
		if !more {
			return true
		}
		b = rest
	}
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isDefinedAttr reports whether c names an attribute of RFC 5802 section 5.1.
func isDefinedAttr(c byte) bool {
	switch c {
	case 'a', 'c', 'e', 'i', 'm', 'n', 'p', 'r', 's', 'v':
		return true
	}
	return false
}

// validBase64 checks that b is non-empty canonical padded base64 made only of the
// alphabet: encoding/base64 silently skips CR and LF, which the grammar forbids.
func validBase64(b []byte) bool {
	if len(b) == 0 || len(b)%4 != 0 {
		return false
	}
	pad := 0
	if b[len(b)-1] == '=' {
		pad++
		if b[len(b)-2] == '=' {
			pad++
		}
	}
	for _, c := range b[:len(b)-pad] {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// strictBase64 is read-only after initialisation: a constant table, not state.
var strictBase64 = base64.StdEncoding.Strict()

// decodeBase64 decodes b (already checked by validBase64) into dst, rejecting non-zero
// padding bits so that every value has one encoding.
func decodeBase64(dst, b []byte) ([]byte, bool) {
	n := base64.StdEncoding.DecodedLen(len(b))
	if cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	got, err := strictBase64.Decode(dst[len(dst):len(dst)+n], b)
	if err != nil {
		return dst, false
	}
	return dst[:len(dst)+got], true
}
