package authmethods

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hermod-im/hermod/engine/config"
)

const hmacSecret = "0123456789abcdef0123456789abcdef-hermod"

// writePublicKey writes pub as a PEM file in a temp dir and returns its path.
func writePublicKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWT(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := writePublicKey(t, &rsaKey.PublicKey)
	rsaPEM, _ := os.ReadFile(rsaPub)
	ecPub := writePublicKey(t, &ecKey.PublicKey)
	now := time.Now()
	valid := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	hs := config.AuthJWT{Algorithm: "HS256", Secret: hmacSecret, UserClaim: "sub", Leeway: dur(5 * time.Second)}
	rs := config.AuthJWT{Algorithm: "RS256", PublicKeyFile: rsaPub, UserClaim: "sub", Leeway: dur(5 * time.Second)}
	aud := hs
	aud.Issuer, aud.Audience = "https://idp.example", "xmpp"
	es := config.AuthJWT{Algorithm: "ES256", PublicKeyFile: ecPub, UserClaim: "user", Leeway: dur(5 * time.Second)}
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice"}`)) + "."
	for _, tc := range []struct {
		name  string
		cfg   config.AuthJWT
		user  string
		token string
		want  bool
	}{
		{"HS256", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(nil)), true},
		{"HS256 user@host", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"sub": "Alice@Example.com"})), true},
		{"HS256 other host", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"sub": "alice@evil.example"})), false},
		{"HS256 no exp", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"exp": nil})), true},
		{"HS256 other user", hs, "bob", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(nil)), false},
		{"HS256 wrong secret", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret+"x"), valid(nil)), false},
		{"HS256 expired", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()})), false},
		{"HS256 expired within leeway", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"exp": now.Add(-2 * time.Second).Unix()})), true},
		{"HS256 not yet valid", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"nbf": now.Add(time.Minute).Unix()})), false},
		{"HS256 claim missing", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"sub": nil})), false},
		{"HS256 claim not a string", hs, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"sub": 42})), false},
		{"HS384 when HS256 configured", hs, "alice", sign(t, jwt.SigningMethodHS384, []byte(hmacSecret), valid(nil)), false},
		{"alg none", hs, "alice", none, false},
		{"not a token", hs, "alice", "secret", false},
		{"issuer and audience", aud, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"iss": "https://idp.example", "aud": []string{"web", "xmpp"}})), true},
		{"wrong issuer", aud, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"iss": "https://evil.example", "aud": "xmpp"})), false},
		{"wrong audience", aud, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"iss": "https://idp.example", "aud": "web"})), false},
		{"no issuer", aud, "alice", sign(t, jwt.SigningMethodHS256, []byte(hmacSecret), valid(jwt.MapClaims{"aud": "xmpp"})), false},
		{"RS256", rs, "alice", sign(t, jwt.SigningMethodRS256, rsaKey, valid(nil)), true},
		{"RS256 wrong key", rs, "alice", sign(t, jwt.SigningMethodRS256, otherRSA, valid(nil)), false},
		{"RS256 expired", rs, "alice", sign(t, jwt.SigningMethodRS256, rsaKey, valid(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})), false},
		// Algorithm confusion: HMAC keyed with the public key's PEM must not pass.
		{"HS256 keyed with the RSA public key", rs, "alice", sign(t, jwt.SigningMethodHS256, rsaPEM, valid(nil)), false},
		{"alg none with RS256", rs, "alice", none, false},
		{"ES256 custom claim", es, "alice", sign(t, jwt.SigningMethodES256, ecKey, valid(jwt.MapClaims{"user": "alice", "sub": "bob"})), true},
		{"ES256 sub is not the claim", es, "bob", sign(t, jwt.SigningMethodES256, ecKey, valid(jwt.MapClaims{"user": "alice", "sub": "bob"})), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewJWT(tc.cfg, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.CheckPassword(context.Background(), tc.user, tc.token)
			if err != nil || got != tc.want {
				t.Errorf("CheckPassword = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestJWTConfigErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("tooshort\n"), 0o600)
	notPEM := filepath.Join(dir, "bad.pem")
	_ = os.WriteFile(notPEM, []byte("not a key"), 0o600)
	for _, c := range []config.AuthJWT{
		{Algorithm: "none", Secret: hmacSecret},
		{Algorithm: "HS256"},
		{Algorithm: "HS256", SecretFile: short},
		{Algorithm: "HS256", SecretFile: filepath.Join(dir, "absent")},
		{Algorithm: "RS256"},
		{Algorithm: "RS256", PublicKeyFile: notPEM},
		{Algorithm: "ES256", PublicKeyFile: notPEM},
	} {
		if _, err := NewJWT(c, "example.com"); err == nil {
			t.Errorf("NewJWT(%+v) succeeded", c)
		} else if strings.Contains(err.Error(), hmacSecret) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}
