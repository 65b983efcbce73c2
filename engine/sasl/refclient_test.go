package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// refClient is a SCRAM client written for the tests from RFC 5802 alone, sharing no code
// with the server: it derives with crypto/pbkdf2 (the server uses its own loop) and
// builds every message by hand. It covers what mellium.im/sasl cannot drive:
// SCRAM-SHA-512, tls-server-end-point, the 'y' flag, and deliberate tampering.
type refClient struct {
	hashName string // "SHA-1", "SHA-256", "SHA-512"
	user     string // sent escaped
	password string
	authzid  string
	gs2Flag  string // "n", "y" or "p=<type>"
	cbData   []byte // binding data appended after the GS2 header in c=
	cnonce   string

	// tamper, when set, may rewrite client-final-message before it is sent.
	tamper func(string) string

	clientFirstBare string
	serverSig       []byte
}

func (c *refClient) newHash() func() hash.Hash {
	switch c.hashName {
	case "SHA-1":
		return sha1.New
	case "SHA-512":
		return sha512.New
	}
	return sha256.New
}

func (c *refClient) gs2Header() string {
	h := c.gs2Flag + ","
	if c.authzid != "" {
		h += "a=" + EscapeSaslname(c.authzid)
	}
	return h + ","
}

// first returns client-first-message.
func (c *refClient) first() []byte {
	c.clientFirstBare = "n=" + EscapeSaslname(c.user) + ",r=" + c.cnonce
	return []byte(c.gs2Header() + c.clientFirstBare)
}

// final answers server-first-message with client-final-message.
func (c *refClient) final(serverFirst []byte) ([]byte, error) {
	var nonce, salt64 string
	iter := -1
	for _, f := range strings.Split(string(serverFirst), ",") {
		switch {
		case strings.HasPrefix(f, "r="):
			nonce = f[2:]
		case strings.HasPrefix(f, "s="):
			salt64 = f[2:]
		case strings.HasPrefix(f, "i="):
			n, err := strconv.Atoi(f[2:])
			if err != nil {
				return nil, err
			}
			iter = n
		default:
			return nil, fmt.Errorf("unexpected attribute %q", f)
		}
	}
	if !strings.HasPrefix(nonce, c.cnonce) || len(nonce) == len(c.cnonce) {
		return nil, errors.New("server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || iter < 1 {
		return nil, fmt.Errorf("bad salt or count in %q", serverFirst)
	}
	nh := c.newHash()
	salted, err := pbkdf2.Key(nh, c.password, salt, iter, nh().Size())
	if err != nil {
		return nil, err
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(nh, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	d := nh()
	d.Write(clientKey)
	storedKey := d.Sum(nil)
	serverKey := mac(salted, "Server Key")

	cbind := base64.StdEncoding.EncodeToString(append([]byte(c.gs2Header()), c.cbData...))
	withoutProof := "c=" + cbind + ",r=" + nonce
	authMsg := c.clientFirstBare + "," + string(serverFirst) + "," + withoutProof
	sig := mac(storedKey, authMsg)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	c.serverSig = mac(serverKey, authMsg)
	msg := withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
	if c.tamper != nil {
		msg = c.tamper(msg)
	}
	return []byte(msg), nil
}

// verify checks server-final-message.
func (c *refClient) verify(serverFinal []byte) error {
	want := "v=" + base64.StdEncoding.EncodeToString(c.serverSig)
	if !bytes.Equal(serverFinal, []byte(want)) {
		return fmt.Errorf("server signature %q, want %q", serverFinal, want)
	}
	return nil
}
