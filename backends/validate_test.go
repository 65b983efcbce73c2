package backends

import (
	"errors"
	"strings"
	"testing"
)

func scram(size int) *ScramKeys {
	return &ScramKeys{Salt: []byte("0123456789abcdef"), Iterations: 4096,
		StoredKey: make([]byte, size), ServerKey: make([]byte, size)}
}

func TestValidateKey(t *testing.T) {
	long := strings.Repeat("a", MaxPartLen)
	cases := []struct {
		domain, user string
		ok           bool
	}{
		{"example.org", "alice", true},
		{long, long, true},
		{"", "alice", false},
		{"example.org", "", false},
		{long + "a", "alice", false},
		{"example.org", long + "a", false},
	}
	for _, c := range cases {
		err := ValidateKey(c.domain, c.user)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("ValidateKey(%d bytes, %d bytes) = %v, want ok=%v", len(c.domain), len(c.user), err, c.ok)
		}
	}
}

func TestCredentialsValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Credentials)
		ok     bool
	}{
		{"all three", func(*Credentials) {}, true},
		{"none", func(c *Credentials) { *c = Credentials{} }, true},
		{"only SHA-256", func(c *Credentials) { c.SHA1, c.SHA512 = nil, nil }, true},
		{"1 iteration", func(c *Credentials) { c.SHA1.Iterations = 1 }, true},
		{"max iterations", func(c *Credentials) { c.SHA1.Iterations = MaxIterations }, true},
		{"1-byte salt", func(c *Credentials) { c.SHA1.Salt = []byte{0} }, true},
		{"max salt", func(c *Credentials) { c.SHA512.Salt = make([]byte, MaxSaltLen) }, true},
		{"0 iterations", func(c *Credentials) { c.SHA256.Iterations = 0 }, false},
		{"too many iterations", func(c *Credentials) { c.SHA256.Iterations = MaxIterations + 1 }, false},
		{"empty salt", func(c *Credentials) { c.SHA256.Salt = nil }, false},
		{"long salt", func(c *Credentials) { c.SHA256.Salt = make([]byte, MaxSaltLen+1) }, false},
		{"short StoredKey", func(c *Credentials) { c.SHA512.StoredKey = make([]byte, 63) }, false},
		{"long ServerKey", func(c *Credentials) { c.SHA1.ServerKey = make([]byte, 21) }, false},
		{"SHA-256 keys as SHA-1", func(c *Credentials) { c.SHA1 = scram(32) }, false},
	}
	for _, c := range cases {
		creds := Credentials{SHA1: scram(20), SHA256: scram(32), SHA512: scram(64)}
		c.mutate(&creds)
		err := creds.Validate()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
		a := Account{Domain: "example.org", User: "alice", Credentials: creds}
		if err2 := a.Validate(); (err2 == nil) != c.ok {
			t.Errorf("%s: Account.Validate() = %v, want ok=%v", c.name, err2, c.ok)
		}
	}
}

func TestClone(t *testing.T) {
	a := Account{Domain: "example.org", User: "alice",
		Credentials: Credentials{SHA1: scram(20), SHA512: scram(64)}}
	b := a.Clone()
	if b.Credentials.SHA256 != nil {
		t.Fatal("Clone invented a SHA-256 set")
	}
	if b.Credentials.SHA1 == a.Credentials.SHA1 || b.Credentials.SHA512 == a.Credentials.SHA512 {
		t.Fatal("Clone shares ScramKeys pointers")
	}
	for _, k := range []*ScramKeys{a.Credentials.SHA1, a.Credentials.SHA512} {
		k.Salt[0] ^= 0xff
		k.StoredKey[0] ^= 0xff
		k.ServerKey[0] ^= 0xff
	}
	for _, k := range []*ScramKeys{b.Credentials.SHA1, b.Credentials.SHA512} {
		if k.Salt[0] != '0' || k.StoredKey[0] != 0 || k.ServerKey[0] != 0 {
			t.Fatal("Clone shares byte slices")
		}
	}
}
