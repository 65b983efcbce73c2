package sasl

import (
	"strings"
	"testing"
)

func TestPrepareUsername(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"juliet", "juliet", true},
		{"Juliet", "juliet", true},
		{"ΣΑΣ", "σασ", true},              // case-mapped, not case-folded: final sigma stays σ
		{"ｊｕｌｉｅｔ", "juliet", true},        // fullwidth mapped to ASCII
		{"a,b=c", "a,b=c", true},          // legal in a localpart
		{"", "", false},                   // empty
		{"jul iet", "", false},            // space is not in IdentifierClass
		{"juliet@example.org", "", false}, // RFC 7622 forbids @ in localparts
		{"a/b", "", false},                // and /
		{"a:b", "", false},                // and :
		{"a<b", "", false},                // and <
		{"a'b", "", false},                // and '
		{"a\"b", "", false},               // and "
		{"a&b", "", false},                // and &
		{"a\u0000b", "", false},           // control
		{"a\u200db", "", false},           // ZWJ outside its context
		{strings.Repeat("a", 1023), strings.Repeat("a", 1023), true},
		{strings.Repeat("a", 1024), "", false},
		{strings.Repeat("a", 5000), "", false},
	} {
		got, err := PrepareUsername(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("PrepareUsername(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestPreparePassword(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"pencil", "pencil", true},
		{"Pencil", "Pencil", true},                      // never case-mapped
		{"a\u00a0b", "a b", true},                       // non-ASCII space to SPACE
		{"e\u0301", "\u00e9", true},                     // NFC
		{"ﬁ", "ﬁ", true},                                // no compatibility mapping
		{"", "", false},                                 // empty
		{"tab\t", "", false},                            // control
		{strings.Repeat("p", maxPassword+1), "", false}, // too long
	} {
		got, err := PreparePassword(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("PreparePassword(%q) = %q, %v", tc.in, got, err)
		}
	}
	if normPassword("tab\t") != "tab\t" || normPassword("a\u00a0b") != "a b" {
		t.Error("normPassword does not fall back to the raw password")
	}
	// DeriveKeys prepares: the raw and the prepared form give the same keys.
	salt := []byte("salt")
	if string(DeriveKeys(SHA1, "a\u00a0b", salt, 2).StoredKey) != string(DeriveKeys(SHA1, "a b", salt, 2).StoredKey) {
		t.Error("DeriveKeys does not apply OpaqueString")
	}
}

func TestSaslnameEscaping(t *testing.T) {
	for _, tc := range []struct{ raw, escaped string }{
		{"user", "user"},
		{"a,b", "a=2Cb"},
		{"a=b", "a=3Db"},
		{",=,=", "=2C=3D=2C=3D"},
		{"ü=", "ü=3D"},
	} {
		if got := EscapeSaslname(tc.raw); got != tc.escaped {
			t.Errorf("EscapeSaslname(%q) = %q", tc.raw, got)
		}
		if got, ok := decodeSaslname([]byte(tc.escaped)); !ok || got != tc.raw {
			t.Errorf("decodeSaslname(%q) = %q %v", tc.escaped, got, ok)
		}
	}
	for _, bad := range []string{"", "=", "=2", "=2c", "=3d", "==2C", "a=", "a=XY", "a,b", "a\x00", "\xff"} {
		if got, ok := decodeSaslname([]byte(bad)); ok {
			t.Errorf("decodeSaslname(%q) = %q, want failure", bad, got)
		}
	}
}

func TestAuthzidMatches(t *testing.T) {
	for _, tc := range []struct {
		authzid, user, domain string
		ok                    bool
	}{
		{"juliet", "juliet", "", true},
		{"Juliet", "juliet", "", true},
		{"juliet@example.org", "juliet", "example.org", true},
		{"juliet@Example.ORG", "juliet", "example.org", true},
		{"juliet@example.org.", "juliet", "example.org", true},
		{"juliet@example.org", "juliet", "", false},
		{"juliet@example.com", "juliet", "example.org", false},
		{"romeo", "juliet", "example.org", false},
		{"juliet@example.org/balcony", "juliet", "example.org", false},
		{"@example.org", "juliet", "example.org", false},
		{"example.org", "juliet", "example.org", false},
	} {
		if got := authzidMatches(tc.authzid, tc.user, tc.domain); got != tc.ok {
			t.Errorf("authzidMatches(%q, %q, %q) = %v", tc.authzid, tc.user, tc.domain, got)
		}
	}
}
