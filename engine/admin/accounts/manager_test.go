package accounts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/config"
)

func newManager(t *testing.T, mod func(*Options)) (*Manager, *memory.Store) {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	o := Options{
		Store:      st,
		Iterations: func(domain string) int { return 4096 },
		Hosts:      []string{"example.com", "Example.ORG"},
		Now:        func() time.Time { return time.Unix(1700000000, 0) },
	}
	if mod != nil {
		mod(&o)
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m, st
}

// verify checks stored keys against the password with an independent computation
// (RFC 5802 section 3: SaltedPassword = PBKDF2(password, salt, i); StoredKey =
// H(HMAC(SaltedPassword, "Client Key")); ServerKey = HMAC(SaltedPassword, "Server Key")).
func verify(t *testing.T, c backends.Credentials, password string, iterations int) {
	t.Helper()
	sets := []struct {
		name string
		k    *backends.ScramKeys
		h    func() hash.Hash
	}{{"SHA-1", c.SHA1, sha1.New}, {"SHA-256", c.SHA256, sha256.New}, {"SHA-512", c.SHA512, sha512.New}}
	var salts [][]byte
	for _, s := range sets {
		if s.k == nil {
			t.Fatalf("%s keys missing", s.name)
		}
		if len(s.k.Salt) != SaltLen || s.k.Iterations != iterations {
			t.Errorf("%s: salt %d bytes, %d iterations", s.name, len(s.k.Salt), s.k.Iterations)
		}
		salted, err := pbkdf2.Key(s.h, password, s.k.Salt, s.k.Iterations, s.h().Size())
		if err != nil {
			t.Fatal(err)
		}
		mac := func(key []byte, msg string) []byte {
			m := hmac.New(s.h, key)
			m.Write([]byte(msg))
			return m.Sum(nil)
		}
		d := s.h()
		d.Write(mac(salted, "Client Key"))
		if !bytes.Equal(d.Sum(nil), s.k.StoredKey) || !bytes.Equal(mac(salted, "Server Key"), s.k.ServerKey) {
			t.Errorf("%s keys do not match the password", s.name)
		}
		for _, o := range salts {
			if bytes.Equal(o, s.k.Salt) {
				t.Errorf("%s reuses a salt", s.name)
			}
		}
		salts = append(salts, s.k.Salt)
	}
}

func TestAddUser(t *testing.T) {
	m, st := newManager(t, nil)
	ctx := context.Background()
	if err := m.AddUser(ctx, "Alice@Example.COM", "s3cret pass"); err != nil {
		t.Fatal(err)
	}
	a, err := st.Account(ctx, "example.com", "alice")
	if err != nil {
		t.Fatal(err)
	}
	verify(t, a.Credentials, "s3cret pass", 4096)
	if !a.Created.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created %v", a.Created)
	}
	err = m.AddUser(ctx, "alice@example.com", "other")
	if !errors.Is(err, admin.ErrExists) || !errors.Is(err, backends.ErrExists) {
		t.Errorf("second AddUser = %v, want ErrExists", err)
	}
	// The host list is normalised too.
	if err := m.AddUser(ctx, "bob@example.org", "pw"); err != nil {
		t.Errorf("host from normalised list: %v", err)
	}
}

func TestIterationsPerDomain(t *testing.T) {
	m, st := newManager(t, func(o *Options) {
		o.Iterations = func(d string) int {
			if d == "example.org" {
				return 5000
			}
			return 4096
		}
	})
	ctx := context.Background()
	if err := m.AddUser(ctx, "x@example.org", "pw"); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Account(ctx, "example.org", "x")
	verify(t, a.Credentials, "pw", 5000)
}

func TestInvalidInput(t *testing.T) {
	m, _ := newManager(t, nil)
	ctx := context.Background()
	tests := []struct{ jid, password, msg string }{
		{"example.com", "pw", "no user part"},
		{"a@example.com/phone", "pw", "has a resource"},
		{"a b@example.com", "pw", "not a valid JID"},
		{"a@other.example", "pw", "not served"},
		{"@example.com", "pw", "not a valid JID"},
		{"a@example.com", "", "empty"},
		{"a@example.com", "bad\x00pw", "not allowed"},
	}
	for _, tt := range tests {
		err := m.AddUser(ctx, tt.jid, tt.password)
		if !errors.Is(err, admin.ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("AddUser(%q, %q) = %v, want ErrInvalid containing %q", tt.jid, tt.password, err, tt.msg)
		}
	}
	if _, err := m.ListUsers(ctx, "a@example.com", "", 10); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("ListUsers(JID) = %v", err)
	}
	if _, err := m.ListUsers(ctx, "other.example", "", 10); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("ListUsers(unserved) = %v", err)
	}
	if _, err := m.ListUsers(ctx, "example.com", "", 0); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("ListUsers(limit 0) = %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := New(Options{Store: memory.New(), Iterations: func(string) int { return 1 }, Hosts: []string{"a@b"}}); err == nil {
		t.Error("New with a JID as host succeeded")
	}
}

func TestAnyDomainWithoutHosts(t *testing.T) {
	m, _ := newManager(t, func(o *Options) { o.Hosts = nil })
	if err := m.AddUser(context.Background(), "a@anything.example", "pw"); err != nil {
		t.Errorf("AddUser without host list: %v", err)
	}
}

func TestDeleteAndPassword(t *testing.T) {
	m, st := newManager(t, nil)
	ctx := context.Background()
	if err := m.AddUser(ctx, "a@example.com", "old"); err != nil {
		t.Fatal(err)
	}
	if err := m.SetPassword(ctx, "A@example.com", "new"); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Account(ctx, "example.com", "a")
	verify(t, a.Credentials, "new", 4096)
	if err := m.SetPassword(ctx, "nobody@example.com", "x"); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("SetPassword(absent) = %v", err)
	}
	if err := m.DeleteUser(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteUser(ctx, "a@example.com"); !errors.Is(err, admin.ErrNotFound) || !strings.Contains(err.Error(), "a@example.com") {
		t.Errorf("second DeleteUser = %v", err)
	}
}

func TestListUsers(t *testing.T) {
	m, _ := newManager(t, func(o *Options) { o.Iterations = func(string) int { return 1 } })
	ctx := context.Background()
	for _, u := range []string{"carol", "alice", "bob", "dave"} {
		if err := m.AddUser(ctx, u+"@example.com", "pw"); err != nil {
			t.Fatal(err)
		}
	}
	page, err := m.ListUsers(ctx, "Example.com", "", 3)
	if err != nil || strings.Join(page, ",") != "alice,bob,carol" {
		t.Fatalf("page 1 = %v, %v", page, err)
	}
	page, err = m.ListUsers(ctx, "example.com", "carol", 3)
	if err != nil || strings.Join(page, ",") != "dave" {
		t.Fatalf("page 2 = %v, %v", page, err)
	}
}

func TestForConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(`[general]
hosts = ["a.example", "b.example"]
[auth.host."b.example"]
scram_iterations = 6000
`), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ForConfig(cfg, memory.New()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.AddUser(ctx, "u@b.example", "pw"); err != nil {
		t.Fatal(err)
	}
	a, _ := m.o.Store.Account(ctx, "b.example", "u")
	verify(t, a.Credentials, "pw", 6000)
	if err := m.AddUser(ctx, "u@c.example", "pw"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("unserved host accepted: %v", err)
	}
}
