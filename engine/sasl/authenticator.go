package sasl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
)

// Options configure an Authenticator. Each field is read once, by NewAuthenticator.
type Options struct {
	// Passwords verifies plaintext passwords; with it PLAIN is offered. It is preferred
	// over Keys for PLAIN when both are set. May be nil.
	Passwords PasswordChecker
	// Keys serves stored SCRAM keys; with it the SCRAM mechanisms of Hashes are offered,
	// and PLAIN too (verified by deriving the salted password). May be nil.
	Keys KeyStore
	// Hashes lists the hashes Keys holds keys for: required when Keys is set. Its order is
	// the order PLAIN tries them in; advertising always goes strongest first.
	Hashes []Hash
	// Anonymous offers ANONYMOUS (RFC 4505). Off by default.
	Anonymous bool
	// PlainWithoutTLS offers PLAIN on streams without TLS. Off by default: RFC 6120
	// section 13.8.3 expects PLAIN only under TLS.
	PlainWithoutTLS bool
	// RequireChannelBinding offers only -PLUS mechanisms (and ANONYMOUS, if enabled) on a
	// connection that has channel-binding data; asking for another mechanism there fails
	// with mechanism-too-weak. Connections without channel binding are unaffected.
	RequireChannelBinding bool
	// Secret keys the fake salts handed out for users that don't exist. Keep it stable
	// across restarts and nodes, or an attacker comparing salts can tell real accounts
	// from fake ones. At least 16 bytes; if empty, a random secret is generated, which is
	// only good for tests and single short-lived processes.
	Secret []byte
	// Iterations is the count announced for users that don't exist: set it to what new
	// accounts get. Default 4096, RFC 7677's minimum.
	Iterations int
	// SaltLen is the length of fake salts: set it to what new accounts get. Default 16.
	SaltLen int
	// Mechanisms, when not empty, is the set of mechanisms the server allows (the
	// operator's sasl_mechanisms list); the others are neither advertised nor accepted.
	// Empty allows every mechanism the credential sources can serve.
	Mechanisms []Mechanism
	// Nonce returns the server's part of a SCRAM nonce: printable ASCII without ','. The
	// default is 24 characters of base64 from 18 bytes of crypto/rand. Tests inject fixed
	// nonces here. It is called from the worker goroutines running Step.
	Nonce func() ([]byte, error)
}

// Authenticator holds the authentication policy and credential sources shared by every
// stream of a server. It is immutable after NewAuthenticator and safe for concurrent use
// from any goroutine.
type Authenticator struct {
	passwords       PasswordChecker
	keys            KeyStore
	hashes          []Hash
	anonymous       bool
	plainWithoutTLS bool
	requireCB       bool
	secret          []byte
	iterations      int
	saltLen         int
	nonce           func() ([]byte, error)
	allowed         uint16 // bit m set: mechanism m allowed; 0: all
}

// Conn is what the engine knows about one stream when authentication starts. The engine
// must not modify it, nor the Data it points to, while an exchange created from it runs.
type Conn struct {
	// Secure reports that the stream runs over TLS.
	Secure bool
	// Bindings are the channel bindings available on this connection (TLSBindings), empty
	// without TLS. -PLUS mechanisms are offered only when there is at least one.
	Bindings []ChannelBinding
	// Domain is the stream's domain, so that an authzid of the form user@domain can be
	// recognised as the authenticating user. It should be in canonical (prepared) form.
	Domain string
}

// NewAuthenticator validates o and returns an Authenticator. It fails on a configuration
// that would offer nothing or that names unknown hashes.
func NewAuthenticator(o Options) (*Authenticator, error) {
	a := &Authenticator{
		passwords:       o.Passwords,
		keys:            o.Keys,
		anonymous:       o.Anonymous,
		plainWithoutTLS: o.PlainWithoutTLS,
		requireCB:       o.RequireChannelBinding,
		iterations:      o.Iterations,
		saltLen:         o.SaltLen,
		nonce:           o.Nonce,
	}
	if o.Keys != nil {
		if len(o.Hashes) == 0 {
			return nil, errors.New("sasl: Options.Keys needs Options.Hashes")
		}
		for _, h := range o.Hashes {
			if !h.Valid() {
				return nil, fmt.Errorf("sasl: invalid hash %d in Options.Hashes", int(h))
			}
			if !slices.Contains(a.hashes, h) {
				a.hashes = append(a.hashes, h)
			}
		}
	}
	for _, m := range o.Mechanisms {
		if m.String() == "" {
			return nil, fmt.Errorf("sasl: invalid mechanism %d in Options.Mechanisms", int(m))
		}
		a.allowed |= 1 << m
	}
	if o.Passwords == nil && o.Keys == nil && !o.Anonymous {
		return nil, errors.New("sasl: no credential source and ANONYMOUS disabled: nothing to offer")
	}
	switch {
	case len(o.Secret) == 0:
		a.secret = make([]byte, 32)
		if _, err := rand.Read(a.secret); err != nil {
			return nil, fmt.Errorf("sasl: generate secret: %w", err)
		}
	case len(o.Secret) < 16:
		return nil, errors.New("sasl: Options.Secret shorter than 16 bytes")
	default:
		a.secret = append([]byte(nil), o.Secret...)
	}
	if a.iterations == 0 {
		a.iterations = 4096
	}
	if a.iterations < 1 {
		return nil, fmt.Errorf("sasl: invalid Options.Iterations %d", o.Iterations)
	}
	if a.saltLen == 0 {
		a.saltLen = 16
	}
	if a.saltLen < 1 || a.saltLen > 1024 {
		return nil, fmt.Errorf("sasl: invalid Options.SaltLen %d", o.SaltLen)
	}
	if a.nonce == nil {
		a.nonce = randomNonce
	}
	return a, nil
}

// randomNonce is the default nonce source.
func randomNonce() ([]byte, error) {
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(out, raw[:])
	return out, nil
}

// hasHash reports whether Keys holds keys for h.
func (a *Authenticator) hasHash(h Hash) bool { return slices.Contains(a.hashes, h) }

// hasBinding reports whether c carries at least one usable channel binding.
func hasBinding(c *Conn) bool {
	for _, b := range c.Bindings {
		if validCBName(b.Type) && len(b.Data) > 0 {
			return true
		}
	}
	return false
}

// check says whether m may be used on c, and if not, which condition the request fails
// with. It is the single source of truth for both advertising and accepting, so the two
// cannot disagree.
func (a *Authenticator) check(m Mechanism, c *Conn) Condition {
	if a.allowed != 0 && a.allowed&(1<<m) == 0 {
		return InvalidMechanism
	}
	cb := hasBinding(c)
	switch m {
	case Anonymous:
		if !a.anonymous {
			return InvalidMechanism
		}
		return 0
	case Plain:
		if a.passwords == nil && a.keys == nil {
			return InvalidMechanism
		}
		if !c.Secure && !a.plainWithoutTLS {
			return EncryptionRequired
		}
		if a.requireCB && cb {
			return MechanismTooWeak
		}
		return 0
	}
	h, ok := m.Hash()
	if !ok || a.keys == nil || !a.hasHash(h) {
		return InvalidMechanism
	}
	if m.Plus() {
		if !cb {
			return InvalidMechanism
		}
		return 0
	}
	if a.requireCB && cb {
		return MechanismTooWeak
	}
	return 0
}

// Mechanisms appends to dst the mechanisms to advertise on c, strongest first: the -PLUS
// variants, plain SCRAM, PLAIN, ANONYMOUS. It does not allocate when dst has room for 8.
// Safe from any goroutine, including an event loop.
func (a *Authenticator) Mechanisms(dst []Mechanism, c *Conn) []Mechanism {
	for m := ScramSHA512Plus; m <= Anonymous; m++ {
		if a.check(m, c) == 0 {
			dst = append(dst, m)
		}
	}
	return dst
}

// plusOffered reports whether any -PLUS mechanism is advertised on c: then a client that
// sends the GS2 flag 'y' ("I could bind, but you don't seem to") has had the -PLUS names
// stripped on the way, and the exchange must fail (RFC 5802 section 6).
func (a *Authenticator) plusOffered(c *Conn) bool {
	for _, m := range [...]Mechanism{ScramSHA512Plus, ScramSHA256Plus, ScramSHA1Plus} {
		if a.check(m, c) == 0 {
			return true
		}
	}
	return false
}

// BindingTypes appends the channel-binding types to list in XEP-0440's
// <sasl-channel-binding/> for c. It is empty when no -PLUS mechanism is advertised, since
// XEP-0440 tells clients to abort if types come without -PLUS mechanisms. Safe from any
// goroutine.
func (a *Authenticator) BindingTypes(dst []string, c *Conn) []string {
	if !a.plusOffered(c) {
		return dst
	}
	for _, b := range c.Bindings {
		if validCBName(b.Type) && len(b.Data) > 0 && !slices.Contains(dst, b.Type) {
			dst = append(dst, b.Type)
		}
	}
	return dst
}

// AppendFeatures appends the SASL stream features for c to dst: the
// <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> element and, when -PLUS
// mechanisms are offered, XEP-0440's <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/>.
// It appends nothing when there is nothing to offer. It does not allocate beyond growing
// dst, so it may run on an event loop.
func (a *Authenticator) AppendFeatures(dst []byte, c *Conn) []byte {
	var buf [8]Mechanism
	mechs := a.Mechanisms(buf[:0], c)
	if len(mechs) == 0 {
		return dst
	}
	dst = append(dst, "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"...)
	for _, m := range mechs {
		dst = append(dst, "<mechanism>"...)
		dst = append(dst, m.String()...)
		dst = append(dst, "</mechanism>"...)
	}
	dst = append(dst, "</mechanisms>"...)
	if !a.plusOffered(c) {
		return dst
	}
	dst = append(dst, "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"...)
	for i, b := range c.Bindings {
		if !validCBName(b.Type) || len(b.Data) == 0 || seenType(c.Bindings[:i], b.Type) {
			continue
		}
		dst = append(dst, "<channel-binding type='"...)
		dst = append(dst, b.Type...)
		dst = append(dst, "'/>"...)
	}
	return append(dst, "</sasl-channel-binding>"...)
}

// seenType reports whether a usable binding of type t is in bs.
func seenType(bs []ChannelBinding, t string) bool {
	for _, b := range bs {
		if b.Type == t && len(b.Data) > 0 {
			return true
		}
	}
	return false
}

// Server runs one SASL exchange on the server side. Step and Username must be called from
// one goroutine at a time (an engine worker); the Server does no I/O and starts no
// goroutines.
type Server interface {
	// Step consumes the client's next message and returns the server's reply. On the
	// first call, in == nil means the <auth/> element carried no initial response, and a
	// non-nil empty slice means it carried "=" (a zero-length one); afterwards in is the
	// decoded <response/>. done=false: send out as a <challenge/>. done=true and err nil:
	// success, send out (possibly empty) as additional data of <success/>. err non-nil: a
	// *Failure, done is true, send <failure/>. out aliases the Server's memory and is valid
	// until the next Step; in is not retained. Step may block on backends and PBKDF2 and
	// returns temporary-auth-failure promptly when ctx ends.
	Step(ctx context.Context, in []byte) (out []byte, done bool, err error)
	// Blocks reports whether Step(ctx, in) may block or cost more than a few
	// microseconds (a backend lookup, PBKDF2). When it is false the engine runs the
	// step on the event loop instead of handing it to a worker: the SCRAM proof
	// check, with the keys fetched by the first step, is a handful of HMACs.
	Blocks(in []byte) bool
	// Username returns the prepared username once Step has succeeded, and "" before or
	// for ANONYMOUS (the engine picks the anonymous identity).
	Username() string
	// Mechanism returns the mechanism this exchange runs.
	Mechanism() Mechanism
}

// NewServer starts an exchange of mechanism m on the stream c. It fails with a *Failure
// when m must not be used there: invalid-mechanism if it is not offered,
// encryption-required for PLAIN without TLS, mechanism-too-weak when policy requires
// channel binding. It does not block and may be called from an event loop.
func (a *Authenticator) NewServer(m Mechanism, c *Conn) (Server, error) {
	if cond := a.check(m, c); cond != 0 {
		return nil, fail(cond, "")
	}
	switch m {
	case Anonymous:
		return &anonymousServer{}, nil
	case Plain:
		return &plainServer{a: a, domain: c.Domain}, nil
	}
	h, _ := m.Hash()
	return &scramServer{
		a:           a,
		mech:        m,
		hash:        h,
		bindings:    c.Bindings,
		domain:      c.Domain,
		plusOffered: a.plusOffered(c),
	}, nil
}
