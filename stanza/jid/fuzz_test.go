package jid

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse checks on any input that parsing never panics, that the fast
// path, the per-part slow path and the all-slow path agree, and that a parsed
// JID is a fixed point: its string, its parts and its derived JIDs parse back
// to themselves. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"juliet@example.com/balcony", "Juliet@Example.COM/Balcony", "example.com.", "xn--bcher-kva.example",
		"\u03a3@example.com/foo", "a\uff20b@example.com", "[::1]", "[::ffff:1.2.3.4]", "server/resource@foo",
		"@example.com/", "a@b/\u00a0c", "example\u3002com", "ex\u00adample.com", "\u05d0@\u05d0.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAgreement(t, s)
		j, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) error %T, want *Error", s, err)
			}
			return
		}
		checkFixedPoint(t, j)
		checkFixedPoint(t, j.Bare())
		checkFixedPoint(t, j.DomainJID())
		if w, err := j.WithResource(j.Resourcepart()); err != nil || w != j {
			t.Fatalf("%#v.WithResource(its own resource) = %#v, %v", j, w, err)
		}
		if n, err := New(j.Localpart(), j.Domainpart(), j.Resourcepart()); err != nil || n != j {
			t.Fatalf("New(parts of %#v) = %#v, %v", j, n, err)
		}
	})
}

func checkFixedPoint(t *testing.T, j JID) {
	t.Helper()
	again, err := Parse(j.String())
	if err != nil || again != j {
		t.Fatalf("%#v re-parses to %#v, %v", j, again, err)
	}
	if _, _, ok := scanNormal(j.String()); !ok && isASCII(j.String()) && j.Domainpart()[0] != '[' {
		t.Fatalf("normalised ASCII %q is refused by the fast path", j)
	}
	if !utf8.ValidString(j.String()) || j.Domainpart() == "" ||
		len(j.Localpart()) > MaxPartLen || len(j.Domainpart()) > MaxPartLen || len(j.Resourcepart()) > MaxPartLen {
		t.Fatalf("%#v breaks a JID invariant", j)
	}
}
