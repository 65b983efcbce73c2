package authmethods

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

// JWT is the jwt method: the password is a JSON Web Token signed with the configured
// algorithm only (alg "none" and any other algorithm are refused, so a token signed
// with HMAC over a public key cannot pass), whose user claim names the user as its
// localpart or user@host. exp and nbf are checked, when present, with the configured
// leeway; iss and aud when the configuration names an issuer or an audience. It never fails to answer: it needs no service.
type JWT struct {
	alg    string
	key    any // []byte for HMAC, a crypto.PublicKey otherwise
	claim  string
	domain string
	parser *jwt.Parser
}

// maxToken bounds the tokens parsed: a PLAIN password is at most a few kilobytes.
const maxToken = 8192

// NewJWT returns the jwt method for domain, reading its key file.
func NewJWT(c config.AuthJWT, domain string) (*JWT, error) {
	m := &JWT{alg: c.Algorithm, claim: c.UserClaim, domain: domain}
	if m.claim == "" {
		m.claim = "sub"
	}
	if jwt.GetSigningMethod(m.alg) == nil || m.alg == "none" {
		return nil, fmt.Errorf("jwt: unknown algorithm %q", m.alg)
	}
	var err error
	switch {
	case strings.HasPrefix(m.alg, "HS"):
		m.key, err = hmacKey(c)
	default:
		m.key, err = publicKey(m.alg, c.PublicKeyFile)
	}
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{m.alg}), jwt.WithLeeway(c.Leeway.D)}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	m.parser = jwt.NewParser(opts...)
	return m, nil
}

func hmacKey(c config.AuthJWT) ([]byte, error) {
	if c.Secret != "" {
		return []byte(c.Secret), nil
	}
	if c.SecretFile == "" {
		return nil, errors.New("jwt: HMAC algorithms need secret or secret_file")
	}
	b, err := os.ReadFile(c.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("jwt: secret_file: %w", err)
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) < 32 {
		return nil, fmt.Errorf("jwt: secret_file %s: an HMAC secret must be at least 32 bytes", c.SecretFile)
	}
	return b, nil
}

func publicKey(alg, file string) (crypto.PublicKey, error) {
	if file == "" {
		return nil, fmt.Errorf("jwt: %s needs public_key_file", alg)
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("jwt: public_key_file: %w", err)
	}
	switch alg[:2] {
	case "RS", "PS":
		k, err := jwt.ParseRSAPublicKeyFromPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("jwt: public_key_file %s: %w", file, err)
		}
		return k, nil
	case "ES":
		k, err := jwt.ParseECPublicKeyFromPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("jwt: public_key_file %s: %w", file, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("jwt: unknown algorithm %q", alg)
}

// Name implements Method.
func (*JWT) Name() string { return "jwt" }

// Close implements Method.
func (*JWT) Close() error { return nil }

// CheckPassword implements Method: token must verify and name user. A malformed,
// expired or wrongly signed token is a wrong password, not a failure to answer.
func (m *JWT) CheckPassword(_ context.Context, user, token string) (bool, error) {
	if len(token) > maxToken || strings.Count(token, ".") != 2 {
		return false, nil
	}
	claims := jwt.MapClaims{}
	_, err := m.parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return m.key, nil })
	if err != nil {
		return false, nil
	}
	v, ok := claims[m.claim].(string)
	if !ok {
		return false, nil
	}
	local, domain, full := strings.Cut(v, "@")
	if full && !strings.EqualFold(domain, m.domain) {
		return false, nil
	}
	p, err := sasl.PrepareUsername(local)
	return err == nil && p == user, nil
}

// UserExists implements Method: a token method knows no users.
func (*JWT) UserExists(context.Context, string) (bool, error) { return false, ErrUnsupported }
