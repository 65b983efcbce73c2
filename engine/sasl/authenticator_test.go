package sasl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func mechNames(ms []Mechanism) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, " ")
}

func TestMechanisms(t *testing.T) {
	ks := newMemKeys()
	pw := &memPasswords{}
	plainConn := &Conn{}
	cb := tlsConn(exporterCB, endPointCB)
	for _, tc := range []struct {
		name string
		o    Options
		conn *Conn
		want string
	}{
		{"keys, no TLS", Options{Keys: ks, Hashes: allHashes}, plainConn, "SCRAM-SHA-512 SCRAM-SHA-256 SCRAM-SHA-1"},
		{"keys, TLS without binding", Options{Keys: ks, Hashes: allHashes}, tlsConn(), "SCRAM-SHA-512 SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"},
		{"keys, TLS with bindings", Options{Keys: ks, Hashes: allHashes}, cb,
			"SCRAM-SHA-512-PLUS SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-512 SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"},
		{"keys for SHA-256 only", Options{Keys: ks, Hashes: []Hash{SHA256}}, cb, "SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN"},
		{"passwords only: PLAIN only", Options{Passwords: pw}, cb, "PLAIN"},
		{"passwords only, no TLS", Options{Passwords: pw}, plainConn, ""},
		{"passwords only, PLAIN allowed in the clear", Options{Passwords: pw, PlainWithoutTLS: true}, plainConn, "PLAIN"},
		{"anonymous", Options{Passwords: pw, Anonymous: true}, plainConn, "ANONYMOUS"},
		{"anonymous only", Options{Anonymous: true}, cb, "ANONYMOUS"},
		{"require channel binding", Options{Keys: ks, Hashes: []Hash{SHA1, SHA256}, Anonymous: true, RequireChannelBinding: true}, cb,
			"SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS ANONYMOUS"},
		{"require channel binding, none available", Options{Keys: ks, Hashes: []Hash{SHA256}, RequireChannelBinding: true}, tlsConn(),
			"SCRAM-SHA-256 PLAIN"},
		{"binding without data is no binding", Options{Keys: ks, Hashes: []Hash{SHA256}}, tlsConn(ChannelBinding{Type: TLSExporter}), "SCRAM-SHA-256 PLAIN"},
		{"operator allows SCRAM-SHA-256 and PLAIN only", Options{Keys: ks, Hashes: allHashes, Mechanisms: []Mechanism{ScramSHA256, Plain}}, cb,
			"SCRAM-SHA-256 PLAIN"},
		{"operator allows -PLUS only", Options{Keys: ks, Hashes: allHashes, Mechanisms: []Mechanism{ScramSHA256Plus}}, cb, "SCRAM-SHA-256-PLUS"},
		{"binding with a bad type name is no binding", Options{Keys: ks, Hashes: []Hash{SHA256}}, tlsConn(ChannelBinding{Type: "a'b", Data: []byte{1}}), "SCRAM-SHA-256 PLAIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Secret = testSecret
			a, err := NewAuthenticator(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			got := a.Mechanisms(nil, tc.conn)
			if mechNames(got) != tc.want {
				t.Fatalf("got  %q\nwant %q", mechNames(got), tc.want)
			}
			// Advertising and accepting agree: every advertised mechanism starts, every
			// other one is refused.
			for m := ScramSHA512Plus; m <= Anonymous; m++ {
				_, err := a.NewServer(m, tc.conn)
				if offered := slices.Contains(got, m); offered != (err == nil) {
					t.Errorf("%v: offered=%v but NewServer err=%v", m, offered, err)
				}
			}
		})
	}
}

func TestNewServerRefusals(t *testing.T) {
	ks := newMemKeys()
	for _, tc := range []struct {
		name string
		o    Options
		m    Mechanism
		conn *Conn
		want Condition
	}{
		{"PLAIN without TLS", Options{Keys: ks, Hashes: allHashes}, Plain, &Conn{}, EncryptionRequired},
		{"PLUS without TLS", Options{Keys: ks, Hashes: allHashes}, ScramSHA256Plus, &Conn{}, InvalidMechanism},
		{"PLUS on TLS without binding", Options{Keys: ks, Hashes: allHashes}, ScramSHA256Plus, tlsConn(), InvalidMechanism},
		{"SCRAM with passwords only", Options{Passwords: &memPasswords{}}, ScramSHA256, tlsConn(), InvalidMechanism},
		{"hash not stored", Options{Keys: ks, Hashes: []Hash{SHA256}}, ScramSHA1, tlsConn(), InvalidMechanism},
		{"ANONYMOUS disabled", Options{Keys: ks, Hashes: allHashes}, Anonymous, tlsConn(), InvalidMechanism},
		{"zero mechanism", Options{Keys: ks, Hashes: allHashes}, 0, tlsConn(), InvalidMechanism},
		{"unknown mechanism", Options{Keys: ks, Hashes: allHashes}, 200, tlsConn(), InvalidMechanism},
		{"SCRAM when binding is required", Options{Keys: ks, Hashes: allHashes, RequireChannelBinding: true}, ScramSHA256, tlsConn(endPointCB), MechanismTooWeak},
		{"PLAIN when binding is required", Options{Keys: ks, Hashes: allHashes, RequireChannelBinding: true}, Plain, tlsConn(endPointCB), MechanismTooWeak},
	} {
		tc.o.Secret = testSecret
		a, err := NewAuthenticator(tc.o)
		if err != nil {
			t.Fatal(err)
		}
		s, err := a.NewServer(tc.m, tc.conn)
		if s != nil || condOf(err) != tc.want {
			t.Errorf("%s: server=%v err=%v, want %q", tc.name, s, err, tc.want)
		}
	}
}

func TestNewAuthenticatorOptions(t *testing.T) {
	ks := newMemKeys()
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"keys without hashes", Options{Keys: ks}, false},
		{"invalid hash", Options{Keys: ks, Hashes: []Hash{SHA256, 9}}, false},
		{"nothing to offer", Options{}, false},
		{"short secret", Options{Keys: ks, Hashes: allHashes, Secret: []byte("short")}, false},
		{"negative iterations", Options{Keys: ks, Hashes: allHashes, Iterations: -1}, false},
		{"negative salt length", Options{Keys: ks, Hashes: allHashes, SaltLen: -3}, false},
		{"huge salt length", Options{Keys: ks, Hashes: allHashes, SaltLen: 4096}, false},
		{"defaults", Options{Keys: ks, Hashes: []Hash{SHA1, SHA1}}, true},
		{"anonymous only", Options{Anonymous: true}, true},
	} {
		a, err := NewAuthenticator(tc.o)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err == nil && tc.name == "defaults" {
			if a.iterations != 4096 || a.saltLen != 16 || len(a.secret) != 32 || len(a.hashes) != 1 {
				t.Errorf("defaults: %+v", a)
			}
		}
	}
	// A generated secret differs per Authenticator, so fake salts do too.
	a1, _ := NewAuthenticator(Options{Keys: ks, Hashes: allHashes})
	a2, _ := NewAuthenticator(Options{Keys: ks, Hashes: allHashes})
	if string(a1.secret) == string(a2.secret) {
		t.Error("two generated secrets are equal")
	}
	// Fake salts follow SaltLen and Iterations.
	a3 := newTestAuth(t, ks, func(o *Options) { o.SaltLen, o.Iterations = 40, 10000 })
	k := fakeKeys(a3.secret, SHA512, "x", a3.saltLen, a3.iterations)
	if len(k.Salt) != 40 || k.Iterations != 10000 || len(k.StoredKey) != 64 || len(k.ServerKey) != 64 {
		t.Errorf("fake keys: salt %d, i %d, keys %d/%d", len(k.Salt), k.Iterations, len(k.StoredKey), len(k.ServerKey))
	}
}

func TestDefaultNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n, err := randomNonce()
		if err != nil || len(n) != 24 || !validNonce(n) || seen[string(n)] {
			t.Fatalf("nonce %q err %v", n, err)
		}
		seen[string(n)] = true
	}
}

func TestBindingTypesAndFeatures(t *testing.T) {
	ks := newMemKeys()
	a := newTestAuth(t, ks, func(o *Options) { o.Hashes = []Hash{SHA256} })
	pwOnly, _ := NewAuthenticator(Options{Passwords: &memPasswords{}, Secret: testSecret})
	dup := ChannelBinding{Type: TLSExporter, Data: []byte{9}}
	for _, tc := range []struct {
		name      string
		a         *Authenticator
		conn      *Conn
		wantTypes string
		wantXML   string
	}{
		{"both types", a, tlsConn(exporterCB, endPointCB), "tls-exporter tls-server-end-point",
			"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
				"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/><channel-binding type='tls-server-end-point'/></sasl-channel-binding>"},
		{"duplicates and empties skipped", a, tlsConn(ChannelBinding{Type: TLSServerEndPoint}, exporterCB, dup), "tls-exporter",
			"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
				"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding>"},
		{"no bindings", a, &Conn{}, "",
			"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms>"},
		// XEP-0440: no types without -PLUS mechanisms, or clients abort.
		{"bindings but no PLUS", pwOnly, tlsConn(exporterCB), "",
			"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"},
		{"nothing at all", pwOnly, &Conn{}, "", ""},
	} {
		if got := strings.Join(tc.a.BindingTypes(nil, tc.conn), " "); got != tc.wantTypes {
			t.Errorf("%s: BindingTypes = %q, want %q", tc.name, got, tc.wantTypes)
		}
		if got := string(tc.a.AppendFeatures([]byte("<x/>"), tc.conn)); got != "<x/>"+tc.wantXML {
			t.Errorf("%s: AppendFeatures\n got %s\nwant <x/>%s", tc.name, got, tc.wantXML)
		}
	}
}

func TestParseMechanism(t *testing.T) {
	for m := ScramSHA512Plus; m <= Anonymous; m++ {
		got, ok := ParseMechanism([]byte(m.String()))
		if !ok || got != m {
			t.Errorf("ParseMechanism(%q) = %v, %v", m.String(), got, ok)
		}
	}
	for _, bad := range []string{"", "plain", "SCRAM-SHA-256-plus", "SCRAM-SHA-384", "EXTERNAL", "PLAIN "} {
		if m, ok := ParseMechanism([]byte(bad)); ok {
			t.Errorf("ParseMechanism(%q) = %v", bad, m)
		}
	}
	if Mechanism(0).String() != "" || Mechanism(99).String() != "" {
		t.Error("invalid mechanisms have names")
	}
	for _, tc := range []struct {
		m    Mechanism
		h    Hash
		plus bool
	}{
		{ScramSHA1, SHA1, false}, {ScramSHA1Plus, SHA1, true}, {ScramSHA256, SHA256, false},
		{ScramSHA256Plus, SHA256, true}, {ScramSHA512, SHA512, false}, {ScramSHA512Plus, SHA512, true},
		{Plain, 0, false}, {Anonymous, 0, false},
	} {
		h, ok := tc.m.Hash()
		if h != tc.h || ok != (tc.h != 0) || tc.m.Plus() != tc.plus {
			t.Errorf("%v: Hash %v %v Plus %v", tc.m, h, ok, tc.m.Plus())
		}
		if tc.h != 0 && scram(tc.h, tc.plus) != tc.m {
			t.Errorf("scram(%v, %v) = %v", tc.h, tc.plus, scram(tc.h, tc.plus))
		}
	}
}

func TestHash(t *testing.T) {
	for _, tc := range []struct {
		h    Hash
		name string
		size int
	}{{SHA1, "SHA-1", 20}, {SHA256, "SHA-256", 32}, {SHA512, "SHA-512", 64}} {
		if tc.h.String() != tc.name || tc.h.Size() != tc.size || tc.h.New()().Size() != tc.size || !tc.h.Valid() {
			t.Errorf("%v: %q %d", tc.h, tc.h.String(), tc.h.Size())
		}
	}
	if Hash(0).Valid() || Hash(4).Size() != 0 || Hash(4).String() != "" {
		t.Error("invalid hash looks valid")
	}
	defer func() {
		if recover() == nil {
			t.Error("New on an invalid Hash did not panic")
		}
	}()
	Hash(0).New()
}

func TestConditions(t *testing.T) {
	want := []string{"aborted", "account-disabled", "credentials-expired", "encryption-required",
		"incorrect-encoding", "invalid-authzid", "invalid-mechanism", "malformed-request",
		"mechanism-too-weak", "not-authorized", "temporary-auth-failure"}
	for i, name := range want {
		c := Aborted + Condition(i)
		if c.String() != name {
			t.Errorf("Condition %d = %q, want %q", c, c.String(), name)
		}
		if got, ok := ParseCondition([]byte(name)); !ok || got != c {
			t.Errorf("ParseCondition(%q) = %v %v", name, got, ok)
		}
	}
	if Condition(0).String() != "" || Condition(12).String() != "" {
		t.Error("invalid conditions have names")
	}
	if _, ok := ParseCondition([]byte("bad-request")); ok {
		t.Error("ParseCondition accepted a stanza error name")
	}
}

func TestFailure(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		f    *Failure
		want string
	}{
		{&Failure{Condition: NotAuthorized}, "sasl: not-authorized"},
		{&Failure{Condition: AccountDisabled, Text: "banned"}, "sasl: account-disabled: banned"},
		{&Failure{Condition: TemporaryAuthFailure, Err: cause}, "sasl: temporary-auth-failure: connection refused"},
	} {
		if tc.f.Error() != tc.want {
			t.Errorf("Error() = %q, want %q", tc.f.Error(), tc.want)
		}
	}
	if AsFailure(nil) != nil {
		t.Error("AsFailure(nil) != nil")
	}
	f := AsFailure(cause)
	if f.Condition != TemporaryAuthFailure || !errors.Is(f, cause) {
		t.Errorf("AsFailure(plain) = %v", f)
	}
	orig := &Failure{Condition: CredentialsExpired}
	if AsFailure(fmt.Errorf("wrapped: %w", orig)) != orig {
		t.Error("AsFailure did not find a wrapped *Failure")
	}
	if got := backendFailure("op", fmt.Errorf("x: %w", orig)); got != orig {
		t.Errorf("backendFailure rewrapped a *Failure: %v", got)
	}
	if got := backendFailure("look up", cause); got.Condition != TemporaryAuthFailure ||
		!errors.Is(got, cause) || !strings.Contains(got.Error(), "look up") {
		t.Errorf("backendFailure = %v", got)
	}
	if ctxFailure(context.Background()) != nil {
		t.Error("ctxFailure on a live context")
	}
}
