package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
)

// SCRAM server-error values of RFC 5802 section 7, used as Failure texts so a client
// sees the reason SCRAM defines for it.
const (
	errTextCBMismatch      = "channel-bindings-dont-match"
	errTextCBUnsupported   = "unsupported-channel-binding-type"
	errTextServerSupportCB = "server-does-support-channel-binding"
)

// scramState is where a SCRAM exchange stands.
type scramState uint8

const (
	scramWantFirst scramState = iota
	scramWantFinal
	scramDone
)

// scramServer runs one SCRAM or SCRAM-PLUS exchange (RFC 5802, RFC 7677): client-first,
// server-first, client-final, server-final carried in <success/>.
type scramServer struct {
	a           *Authenticator
	mech        Mechanism
	hash        Hash
	bindings    []ChannelBinding
	domain      string
	plusOffered bool

	state   scramState
	started bool // an empty challenge was sent for a missing initial response
	err     *Failure

	user      string // prepared username, kept once the exchange succeeds
	candidate string // the username being authenticated
	fake      bool   // keys are fake: the user does not exist, fail at the end
	keys      ScramKeys
	gs2Header []byte // as the client sent it, for the c= check
	cbData    []byte // the connection's binding data for p=, nil otherwise
	nonce     []byte // c-nonce s-nonce
	authMsg   []byte // client-first-bare "," server-first ["," client-final-without-proof]
	out       []byte
}

// Mechanism implements Server.
func (s *scramServer) Mechanism() Mechanism { return s.mech }

// Blocks implements Server: only the first message, which fetches the keys, may
// block; the empty challenge and the proof check do not.
func (s *scramServer) Blocks(in []byte) bool {
	return s.err == nil && s.state == scramWantFirst && (in != nil || s.started)
}

// Username implements Server.
func (s *scramServer) Username() string { return s.user }

// Step implements Server.
func (s *scramServer) Step(ctx context.Context, in []byte) ([]byte, bool, error) {
	if s.err != nil {
		return nil, true, s.err
	}
	if s.state == scramWantFirst && in == nil && !s.started {
		s.started = true
		return []byte{}, false, nil
	}
	if f := ctxFailure(ctx); f != nil {
		return s.failWith(f)
	}
	switch s.state {
	case scramWantFirst:
		out, f := s.first(ctx, in)
		if f != nil {
			return s.failWith(f)
		}
		s.state = scramWantFinal
		return out, false, nil
	case scramWantFinal:
		out, f := s.final(in)
		if f != nil {
			return s.failWith(f)
		}
		s.state = scramDone
		return out, true, nil
	}
	return nil, true, fail(MalformedRequest, "exchange already finished")
}

// failWith records f so that later steps repeat it, and returns it.
func (s *scramServer) failWith(f *Failure) ([]byte, bool, error) {
	s.err = f
	s.state = scramDone
	return nil, true, f
}

// first handles client-first-message and builds server-first-message.
func (s *scramServer) first(ctx context.Context, in []byte) ([]byte, *Failure) {
	m, f := parseClientFirst(in)
	if f != nil {
		return nil, f
	}
	if f := s.checkBindingFlag(&m); f != nil {
		return nil, f
	}
	name, ok := decodeSaslname(m.user)
	if !ok {
		return nil, fail(MalformedRequest, "username is not valid UTF-8")
	}
	user, err := PrepareUsername(name)
	if err != nil {
		// Nothing about accounts leaks here: whether a string is a valid username
		// depends on the string alone.
		return nil, &Failure{Condition: NotAuthorized, Err: err}
	}
	if m.authzid != nil {
		authzid, ok := decodeSaslname(m.authzid)
		if !ok {
			return nil, fail(MalformedRequest, "authzid is not valid UTF-8")
		}
		if len(authzid) > maxAuthzid || !authzidMatches(authzid, user, s.domain) {
			return nil, fail(InvalidAuthzid, "")
		}
	}
	s.candidate = user

	keys, found, err := s.a.keys.ScramKeys(ctx, user, s.hash)
	switch {
	case err != nil:
		return nil, backendFailure("look up SCRAM keys", err)
	case !found:
		keys = fakeKeys(s.a.secret, s.hash, user, s.a.saltLen, s.a.iterations)
		s.fake = true
	case !keys.valid(s.hash):
		return nil, &Failure{Condition: TemporaryAuthFailure, Err: errCorruptKeys(user, s.hash)}
	}
	s.keys = keys

	snonce, err := s.a.nonce()
	if err != nil {
		return nil, &Failure{Condition: TemporaryAuthFailure, Err: fmt.Errorf("generate SCRAM nonce: %w", err)}
	}
	if !validNonce(snonce) {
		return nil, &Failure{Condition: TemporaryAuthFailure, Err: fmt.Errorf("nonce source returned an invalid nonce %q", snonce)}
	}
	s.gs2Header = append([]byte(nil), m.gs2Header...)
	s.nonce = make([]byte, 0, len(m.nonce)+len(snonce))
	s.nonce = append(append(s.nonce, m.nonce...), snonce...)

	saltLen := base64.StdEncoding.EncodedLen(len(keys.Salt))
	out := make([]byte, 0, 2+len(s.nonce)+3+saltLen+3+10)
	out = append(out, "r="...)
	out = append(out, s.nonce...)
	out = append(out, ",s="...)
	out = base64.StdEncoding.AppendEncode(out, keys.Salt)
	out = append(out, ",i="...)
	out = strconv.AppendInt(out, int64(keys.Iterations), 10)
	s.out = out

	s.authMsg = make([]byte, 0, len(m.bare)+1+len(out)+1+128)
	s.authMsg = append(append(append(s.authMsg, m.bare...), ','), out...)
	return out, nil
}

// checkBindingFlag applies the GS2 channel-binding rules of RFC 5802 section 6 and
// remembers the connection's binding data for p=.
func (s *scramServer) checkBindingFlag(m *clientFirst) *Failure {
	plus := s.mech.Plus()
	switch m.flag {
	case 'n':
		if plus {
			return fail(MalformedRequest, "a -PLUS mechanism needs the GS2 flag p=")
		}
	case 'y':
		if plus {
			return fail(MalformedRequest, "GS2 flag 'y' with a -PLUS mechanism")
		}
		// The client could bind but saw no -PLUS offer, yet we made one on this
		// connection: someone stripped it. RFC 5802 section 6 says fail.
		if s.plusOffered {
			return fail(NotAuthorized, errTextServerSupportCB)
		}
	case 'p':
		if !plus {
			return fail(MalformedRequest, "channel binding requested with a mechanism without -PLUS")
		}
		for _, b := range s.bindings {
			if b.Type == string(m.cbName) && len(b.Data) > 0 {
				s.cbData = b.Data
				return nil
			}
		}
		return fail(NotAuthorized, errTextCBUnsupported)
	}
	return nil
}

// final handles client-final-message and builds server-final-message.
func (s *scramServer) final(in []byte) ([]byte, *Failure) {
	m, f := parseClientFinal(in)
	if f != nil {
		return nil, f
	}
	if !hmac.Equal(m.nonce, s.nonce) {
		return nil, fail(NotAuthorized, "nonce mismatch")
	}
	// c= must carry exactly the GS2 header of client-first plus, for p=, the binding
	// data of this connection: that is what ties the authentication to the TLS channel.
	var buf [256]byte
	cb, ok := decodeBase64(buf[:0], m.cbind)
	if !ok {
		return nil, fail(MalformedRequest, "invalid channel-binding encoding")
	}
	if len(cb) != len(s.gs2Header)+len(s.cbData) ||
		subtle.ConstantTimeCompare(cb[:len(s.gs2Header)], s.gs2Header) != 1 ||
		subtle.ConstantTimeCompare(cb[len(s.gs2Header):], s.cbData) != 1 {
		return nil, fail(NotAuthorized, errTextCBMismatch)
	}
	var pbuf [64]byte
	proof, ok := decodeBase64(pbuf[:0], m.proof)
	if !ok || len(proof) != s.hash.Size() {
		return nil, fail(MalformedRequest, "invalid proof")
	}

	s.authMsg = append(append(s.authMsg, ','), m.withoutProof...)
	hf := s.hash.New()
	// ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); it must hash to StoredKey.
	var sig [64]byte
	clientSig := hmacSum(sig[:0], hf, s.keys.StoredKey, s.authMsg)
	subtle.XORBytes(proof, proof, clientSig)
	d := hf()
	d.Write(proof)
	var sum [64]byte
	ok = subtle.ConstantTimeCompare(d.Sum(sum[:0]), s.keys.StoredKey) == 1
	if !ok || s.fake {
		// One answer for a wrong password and for a user that does not exist.
		return nil, fail(NotAuthorized, "")
	}

	serverSig := hmacSum(sig[:0], hf, s.keys.ServerKey, s.authMsg)
	out := s.out[:0]
	out = append(out, "v="...)
	out = base64.StdEncoding.AppendEncode(out, serverSig)
	s.out = out
	s.user = s.candidate
	return out, nil
}

// errCorruptKeys describes keys a backend returned that cannot be right for h.
func errCorruptKeys(user string, h Hash) error {
	return fmt.Errorf("stored %s keys for %q are malformed (empty salt, bad count or key length)", h, user)
}
