package client

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// ScramCache remembers the keys derived from a password for a salt and iteration
// count, as real clients do (RFC 5802 section 5.1), so that a harness logging the same
// accounts in again and again measures the server rather than its own PBKDF2. Safe for
// use from any goroutine; the zero value is ready.
type ScramCache struct {
	mu sync.Mutex
	m  map[string]*scramKeys
}

// scramKeys are what a client derives from SaltedPassword.
type scramKeys struct {
	clientKey, storedKey, serverKey []byte
}

func (c *ScramCache) keys(password string, salt []byte, iter int) (*scramKeys, error) {
	id := strconv.Itoa(iter) + "\x00" + string(salt) + "\x00" + password
	if c != nil {
		c.mu.Lock()
		k := c.m[id]
		c.mu.Unlock()
		if k != nil {
			return k, nil
		}
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive SCRAM keys: %w", err)
	}
	ck := hmacSHA256(salted, []byte("Client Key"))
	sk := sha256.Sum256(ck)
	k := &scramKeys{clientKey: ck, storedKey: sk[:], serverKey: hmacSHA256(salted, []byte("Server Key"))}
	if c != nil {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*scramKeys{}
		}
		c.m[id] = k
		c.mu.Unlock()
	}
	return k, nil
}

// Len returns the number of cached key sets.
func (c *ScramCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// maxIterations bounds what a server may ask the harness to compute per login.
const maxIterations = 1 << 20

// scramClient is the client side of SCRAM-SHA-256 without channel binding (RFC 5802,
// RFC 7677), gs2 header "n,,".
type scramClient struct {
	user, password string
	cache          *ScramCache
	nonce          string
	firstBare      string
	serverSig      []byte
}

func newScramClient(user, password string, cache *ScramCache, nonce string) (*scramClient, error) {
	if nonce == "" {
		var b [18]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("scram nonce: %w", err)
		}
		nonce = base64.RawStdEncoding.EncodeToString(b[:])
	}
	// saslname escaping (RFC 5802 section 5.1); the harness's account names need no
	// SASLprep beyond it.
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
	return &scramClient{user: user, password: password, cache: cache, nonce: nonce,
		firstBare: "n=" + name + ",r=" + nonce}, nil
}

// first returns the client-first-message.
func (s *scramClient) first() []byte { return []byte("n,," + s.firstBare) }

// final answers the server-first-message with the client-final-message.
func (s *scramClient) final(serverFirst []byte) ([]byte, error) {
	var nonce, salt64, iterStr string
	for _, f := range strings.Split(string(serverFirst), ",") {
		if len(f) < 2 || f[1] != '=' {
			return nil, fmt.Errorf("scram: malformed server-first-message %q", serverFirst)
		}
		switch f[0] {
		case 'r':
			nonce = f[2:]
		case 's':
			salt64 = f[2:]
		case 'i':
			iterStr = f[2:]
		case 'm':
			return nil, errors.New("scram: server requires an unsupported extension")
		}
	}
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return nil, fmt.Errorf("scram: server nonce %q does not extend ours", nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("scram: bad salt %q", salt64)
	}
	iter, err := strconv.Atoi(iterStr)
	if err != nil || iter < 1 || iter > maxIterations {
		return nil, fmt.Errorf("scram: bad iteration count %q", iterStr)
	}
	k, err := s.cache.keys(s.password, salt, iter)
	if err != nil {
		return nil, err
	}
	withoutProof := "c=biws,r=" + nonce
	authMsg := []byte(s.firstBare + "," + string(serverFirst) + "," + withoutProof)
	sig := hmacSHA256(k.storedKey, authMsg)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = k.clientKey[i] ^ sig[i]
	}
	s.serverSig = hmacSHA256(k.serverKey, authMsg)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks the server-final-message "v=...".
func (s *scramClient) verify(serverFinal []byte) error {
	if e, ok := bytes.CutPrefix(serverFinal, []byte("e=")); ok {
		return fmt.Errorf("scram: server error %q", e)
	}
	v, ok := bytes.CutPrefix(serverFinal, []byte("v="))
	if !ok {
		return fmt.Errorf("scram: malformed server-final-message %q", serverFinal)
	}
	got, err := base64.StdEncoding.DecodeString(string(v))
	if err != nil || s.serverSig == nil || !hmac.Equal(got, s.serverSig) {
		return errors.New("scram: server signature does not verify")
	}
	return nil
}
