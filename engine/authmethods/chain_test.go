package authmethods

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

// fixed is a Method with canned answers, counting its calls.
type fixed struct {
	name   string
	ok     bool
	err    error
	calls  int
	closed bool
}

func (f *fixed) Name() string { return f.name }
func (f *fixed) CheckPassword(context.Context, string, string) (bool, error) {
	f.calls++
	return f.ok, f.err
}
func (f *fixed) UserExists(context.Context, string) (bool, error) {
	f.calls++
	return f.ok, f.err
}
func (f *fixed) Close() error { f.closed = true; return nil }

func TestChain(t *testing.T) {
	down := errors.New("connection refused")
	disabled := &sasl.Failure{Condition: sasl.AccountDisabled}
	for _, tc := range []struct {
		name     string
		methods  []*fixed
		want     bool
		wantErr  bool
		cond     sasl.Condition // of the error, when it is a *sasl.Failure
		maxCalls []int
	}{
		{"first yes wins", []*fixed{{name: "a", ok: true}, {name: "b", ok: true}}, true, false, 0, []int{1, 0}},
		{"second yes", []*fixed{{name: "a"}, {name: "b", ok: true}}, true, false, 0, []int{1, 1}},
		{"all no", []*fixed{{name: "a"}, {name: "b"}}, false, false, 0, []int{1, 1}},
		{"failure then yes", []*fixed{{name: "a", err: down}, {name: "b", ok: true}}, true, false, 0, []int{1, 1}},
		{"failure and no", []*fixed{{name: "a", err: down}, {name: "b"}}, false, true, 0, []int{1, 1}},
		{"disabled stops", []*fixed{{name: "a", err: disabled}, {name: "b", ok: true}}, false, true, sasl.AccountDisabled, []int{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := make([]Method, len(tc.methods))
			for i, m := range tc.methods {
				ms[i] = m
			}
			c := NewChain(quietLog(), nil, ms...)
			got, err := c.CheckPassword(context.Background(), "alice", "pw")
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("CheckPassword = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
			if tc.cond != 0 {
				if f := sasl.AsFailure(err); f == nil || f.Condition != tc.cond {
					t.Errorf("error %v, want condition %v", err, tc.cond)
				}
			}
			if err != nil && tc.cond == 0 && !strings.Contains(err.Error(), "a: ") {
				t.Errorf("error %q does not name the method", err)
			}
			for i, m := range tc.methods {
				if m.calls != tc.maxCalls[i] {
					t.Errorf("method %s called %d times, want %d", m.name, m.calls, tc.maxCalls[i])
				}
			}
			_ = c.Close()
			for _, m := range tc.methods {
				if !m.closed {
					t.Errorf("method %s not closed", m.name)
				}
			}
		})
	}
}

func TestChainUserExists(t *testing.T) {
	jwt := &fixed{name: "jwt", err: ErrUnsupported}
	c := NewChain(quietLog(), nil, jwt, &fixed{name: "http", ok: true})
	if ok, err := c.UserExists(context.Background(), "alice"); !ok || err != nil {
		t.Errorf("UserExists = %v, %v", ok, err)
	}
	c = NewChain(quietLog(), nil, jwt, &fixed{name: "http", err: errors.New("500")})
	if ok, err := c.UserExists(context.Background(), "alice"); ok || err == nil {
		t.Errorf("UserExists with a failing method = %v, %v; want an error", ok, err)
	}
	c = NewChain(quietLog(), nil, jwt)
	if ok, err := c.UserExists(context.Background(), "alice"); ok || err != nil {
		t.Errorf("UserExists with no method that can tell = %v, %v", ok, err)
	}
}

func TestAnonymous(t *testing.T) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	a := NewAnonymous("anon-", secret)
	seen := map[string]bool{}
	for range 100 {
		u := a.NewUser()
		if seen[u] {
			t.Fatalf("NewUser repeated %q", u)
		}
		seen[u] = true
		if !a.Is(u) {
			t.Fatalf("Is(%q) = false", u)
		}
		if p, err := sasl.PrepareUsername(u); err != nil || p != u {
			t.Fatalf("%q is not a prepared localpart: %q, %v", u, p, err)
		}
		if !strings.HasPrefix(u, "anon-") {
			t.Fatalf("%q lacks the prefix", u)
		}
	}
	u := a.NewUser()
	otherSecret := append([]byte(nil), secret...)
	otherSecret[0] ^= 1
	other := NewAnonymous("anon-", otherSecret)
	// Another character in the random part, and the other spelling of the last
	// character (it carries one unused bit), must both fail.
	flip := []byte(u)
	flip[10] = map[bool]byte{true: 'b', false: 'a'}[flip[10] == 'a']
	last := []byte(u)
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	last[len(last)-1] = alphabet[strings.IndexByte(alphabet, u[len(u)-1])^1]
	for _, name := range []string{"", "anon-", "alice", u[5:], "x" + u[1:], string(flip), string(last), u + "a", strings.ToUpper(u)} {
		if a.Is(name) {
			t.Errorf("Is(%q) = true", name)
		}
	}
	if other.Is(u) {
		t.Error("a name made with another secret passes Is")
	}
	// No password opens an anonymous name.
	c := NewChain(quietLog(), a, &fixed{name: "yes", ok: true})
	if ok, _ := c.CheckPassword(context.Background(), u, "anything"); ok {
		t.Error("the chain accepted a password for an anonymous name")
	}
}

func TestInternal(t *testing.T) {
	store := memory.New()
	defer store.Close()
	k := sasl.DeriveKeys(sasl.SHA256, "secret", []byte("0123456789abcdef"), 4096)
	err := store.CreateAccount(context.Background(), backends.Account{Domain: "example.com", User: "alice",
		Credentials: backends.Credentials{SHA256: &backends.ScramKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}}})
	if err != nil {
		t.Fatal(err)
	}
	m := NewInternal("example.com", store, 4096, []byte("0123456789abcdef0123456789abcdef"))
	ctx := context.Background()
	for _, tc := range []struct {
		user, pass string
		want       bool
	}{{"alice", "secret", true}, {"alice", "wrong", false}, {"bob", "secret", false}} {
		if got, err := m.CheckPassword(ctx, tc.user, tc.pass); err != nil || got != tc.want {
			t.Errorf("CheckPassword(%s, %s) = %v, %v", tc.user, tc.pass, got, err)
		}
	}
	if ok, err := m.UserExists(ctx, "alice"); !ok || err != nil {
		t.Errorf("UserExists(alice) = %v, %v", ok, err)
	}
	if keys, ok, err := m.ScramKeys(ctx, "alice", sasl.SHA256); !ok || err != nil || string(keys.StoredKey) != string(k.StoredKey) {
		t.Errorf("ScramKeys(alice, SHA-256) = %v, %v", ok, err)
	}
	if _, ok, err := m.ScramKeys(ctx, "alice", sasl.SHA1); ok || err != nil {
		t.Errorf("ScramKeys(alice, SHA-1) = %v, %v; want no keys", ok, err)
	}
}

// New builds what the methods list asks for, and offers SCRAM only with internal.
func TestNew(t *testing.T) {
	store := memory.New()
	defer store.Close()
	secret := []byte("0123456789abcdef0123456789abcdef")
	base := config.Default().Auth
	base.JWT.Secret = hmacSecret
	for _, tc := range []struct {
		methods                   []string
		keys, passwords, anonymes bool
	}{
		{[]string{"internal"}, true, false, false},
		{[]string{"jwt"}, false, true, false},
		{[]string{"internal", "jwt"}, true, true, false},
		{[]string{"anonymous"}, false, false, true},
		{[]string{"jwt", "anonymous"}, false, true, true},
	} {
		a := base
		a.Methods = tc.methods
		s, err := New(a, "example.com", store, secret, quietLog())
		if err != nil {
			t.Fatalf("%v: %v", tc.methods, err)
		}
		if (s.Keys != nil) != tc.keys || (s.Passwords() != nil) != tc.passwords || (s.Anonymous != nil) != tc.anonymes {
			t.Errorf("%v: keys %v, passwords %v, anonymous %v", tc.methods, s.Keys != nil, s.Passwords() != nil, s.Anonymous != nil)
		}
		_ = s.Close()
	}
	a := base
	a.Methods = []string{"jwt", "external"}
	a.External.Program = "/nonexistent/extauth"
	if _, err := New(a, "example.com", store, secret, quietLog()); err == nil {
		t.Error("New with a missing external program succeeded")
	}
}

// A method that keeps failing is logged once per logEvery, not once per login.
func TestChainLogLimit(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := NewChain(log, nil, &fixed{name: "http", err: errors.New("connection refused")})
	for range 100 {
		if _, err := c.CheckPassword(context.Background(), "alice", "pw"); err == nil {
			t.Fatal("no error")
		}
	}
	if n := strings.Count(buf.String(), "failed to answer"); n != 1 {
		t.Fatalf("%d log lines for 100 failures within a second:\n%s", n, buf.String())
	}
	c.logged[0].last.Store(time.Now().Add(-2 * logEvery).UnixNano())
	_, _ = c.CheckPassword(context.Background(), "alice", "pw")
	if !strings.Contains(buf.String(), "similar_failures_not_logged=99") {
		t.Errorf("the second line does not count the 99 left out:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "pw") {
		t.Error("the log shows the password")
	}
}
