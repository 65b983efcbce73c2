package jid

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkAgreement fails t unless the public entry points (fast path first)
// and the forced slow path (PRECIS and IDNA on every part) agree on s.
func checkAgreement(t testing.TB, s string) {
	t.Helper()
	slow, slowErr := parseSlow(s, true)
	got, err := Parse(s)
	if (err == nil) != (slowErr == nil) || got != slow {
		t.Fatalf("Parse(%q) = %#v, %v; slow path = %#v, %v", s, got, err, slow, slowErr)
	}
	gotB, errB := ParseBytes([]byte(s))
	if (errB == nil) != (slowErr == nil) || gotB != slow {
		t.Fatalf("ParseBytes(%q) = %#v, %v; slow path = %#v, %v", s, gotB, errB, slow, slowErr)
	}
	if dom, slash, upper, ok := scan(s); ok {
		// The fast path may only accept what the slow path leaves unchanged
		// or merely lower-cases.
		want := s
		if upper {
			want = lowerASCII(s, domEnd(len(s), slash))
		}
		if slowErr != nil || slow.s != want || int(slow.dom) != dom || int(slow.slash) != slash {
			t.Fatalf("fast path accepts %q (dom %d, slash %d, upper %v); slow path gives %#v, %v", s, dom, slash, upper, slow, slowErr)
		}
		if d, sl, up, okB := scan([]byte(s)); !okB || d != dom || sl != slash || up != upper {
			t.Fatalf("scan accepts %q as a string but not the same way as bytes", s)
		}
	}
	if slowErr == nil && !slow.EqualBytes([]byte(s)) {
		t.Fatalf("%#v.EqualBytes(%q) = false", slow, s)
	}
	for _, o := range equalBytesProbes {
		if got, want := o.EqualBytes([]byte(s)), slowErr == nil && slow == o; got != want {
			t.Fatalf("%#v.EqualBytes(%q) = %v, want %v", o, s, got, want)
		}
	}
}

// equalBytesProbes are JIDs that checkAgreement compares every input with.
var equalBytesProbes = []JID{
	MustParse("juliet@example.com/balcony"), MustParse("juliet@example.com"), MustParse("example.com"),
	MustParse("a@b"), MustParse("a@b/C"), MustParse("romeo@example/x"), {},
}

// checkParts holds each part's fast check to its slow normaliser.
func checkParts(t testing.TB, s string) {
	t.Helper()
	// want is what the fast path claims the slow path gives.
	want := func(upper bool) string {
		if upper {
			return lowerASCII(s, len(s))
		}
		return s
	}
	if up, ok := localNormal(s); ok {
		if out, err := normLocal(s, true); err != nil || out != want(up) {
			t.Fatalf("localNormal(%q) = %v, true but PRECIS gives %q, %v", s, up, out, err)
		}
	}
	if resourceNormal(s) {
		if out, err := normResource(s, true); err != nil || out != s {
			t.Fatalf("resourceNormal(%q) but PRECIS gives %q, %v", s, out, err)
		}
	}
	if up, ok := domainNormal(s); ok {
		if out, err := normDomain(s, true); err != nil || out != want(up) {
			t.Fatalf("domainNormal(%q) = %v, true but IDNA gives %q, %v", s, up, out, err)
		}
	}
	b := []byte(s)
	lu, lok := localNormal(s)
	lub, lokb := localNormal(b)
	du, dok := domainNormal(s)
	dub, dokb := domainNormal(b)
	if lu != lub || lok != lokb || du != dub || dok != dokb || resourceNormal(b) != resourceNormal(s) {
		t.Fatalf("fast checks of %q differ between string and []byte", s)
	}
}

// TestFastAgreesWithSlowExhaustive tries every ASCII string of up to two
// bytes as each part, and every string of up to four bytes over an alphabet
// of the characters that matter to splitting, case and IDNA as a whole
// address.
func TestFastAgreesWithSlowExhaustive(t *testing.T) {
	for a := 0; a < 128; a++ {
		checkParts(t, string(rune(a)))
		for b := 0; b < 128; b++ {
			checkParts(t, string([]byte{byte(a), byte(b)}))
		}
	}
	const alphabet = "aZ0-.@/ \"[]:x_\x7f"
	var buf []byte
	var rec func(n int)
	rec = func(n int) {
		checkAgreement(t, string(buf))
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			buf = append(buf, alphabet[i])
			rec(n - 1)
			buf = buf[:len(buf)-1]
		}
	}
	n := 4
	if testing.Short() {
		n = 3
	}
	rec(n)
}

// TestFastAgreesWithSlowRandom tries random ASCII addresses shaped like real
// ones (labels, '@', '/', case, punctuation, the odd A-label prefix).
func TestFastAgreesWithSlowRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7622, 8265))
	pieces := []string{"juliet", "Romeo", "example", "COM", "xn--", "xn--bcher-kva", "ab--c", "-", ".", "..", "@", "/", " ", "\\20", "[::1]", "[", "]", "1", "192.168.0.1", "_", "\t", "\"", "'", "&", ":", "<", ">", "~", "\x7f", "%"}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	var b strings.Builder
	for range n {
		b.Reset()
		for k := r.IntN(8) + 1; k > 0; k-- {
			if r.IntN(3) == 0 {
				b.WriteByte(byte(0x20 + r.IntN(0x5f)))
			} else {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
		}
		checkAgreement(t, b.String())
		checkParts(t, b.String())
	}
}

// TestFastPathTaken pins that ordinary normalised addresses take the fast
// path: if a refactoring disabled it, the agreement tests would still pass.
func TestFastPathTaken(t *testing.T) {
	for _, s := range []string{
		"juliet@example.com/balcony", "example.com", "a@b", "conference.example.org/nick name",
		"user.name+tag@sub-domain.example.co.uk/res@x/y", `foo\20bar@example.com`, "u@192.168.1.1/r",
		"room@muc.example.com/Nick With Caps", "~!#$%*=?^_`{|}@x", "a@xn.example",
	} {
		if _, _, ok := scanNormal(s); !ok {
			t.Errorf("fast path refuses %q", s)
		}
		if j := MustParse(s); j.String() != s {
			t.Errorf("Parse(%q) = %q", s, j)
		}
	}
	for _, s := range []string{"Juliet@example.com", "juliet@Example.com", "EXAMPLE.COM/Res", "J@X/y"} {
		if _, _, upper, ok := scan(s); !ok || !upper {
			t.Errorf("lower-casing path refuses %q", s)
		}
	}
	for _, s := range []string{
		"Juliet@example.com", "juliet@Example.com", "example.com.", "xn--bcher-kva.example", "[::1]",
		"a@b/", "@b", "\u00e9@b", "a@b/\u00e9", "a@b/\t", "ab--c.example", "a@-b", "a@b-", "a@b..c", "a@.b",
	} {
		if _, _, ok := scanNormal(s); ok {
			t.Errorf("fast path accepts %q", s)
		}
	}
}
