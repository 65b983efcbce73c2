package jid

import (
	"errors"
	"strings"
	"testing"
)

// parseCase is one address and what Parse must make of it: the normalised
// form and parts, or the part that fails and why.
type parseCase struct {
	name  string
	in    string
	want  string // normalised address; "" when the input is invalid
	local string
	dom   string
	res   string
	part  Part  // for invalid inputs
	cause error // for invalid inputs
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Parse(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %q, want an error", tc.in, j)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Parse(%q) error %v is %T, want *Error", tc.in, err, err)
				}
				if e.Part != tc.part || !errors.Is(err, tc.cause) {
					t.Fatalf("Parse(%q) error %q (part %v), want part %v cause %q", tc.in, err, e.Part, tc.part, tc.cause)
				}
				if !j.IsZero() {
					t.Fatalf("Parse(%q) returned %q with its error, want the zero JID", tc.in, j)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if j.String() != tc.want {
				t.Fatalf("Parse(%q) = %q, want %q", tc.in, j, tc.want)
			}
			if j.Localpart() != tc.local || j.Domainpart() != tc.dom || j.Resourcepart() != tc.res {
				t.Fatalf("Parse(%q) parts = %q, %q, %q; want %q, %q, %q", tc.in,
					j.Localpart(), j.Domainpart(), j.Resourcepart(), tc.local, tc.dom, tc.res)
			}
			// The normalised form is a fixed point.
			again, err := Parse(j.String())
			if err != nil || again != j {
				t.Fatalf("Parse(%q) = %q, %v; want it to re-parse to itself", j, again, err)
			}
			// New from the parts agrees with Parse.
			n, err := New(tc.local, tc.dom, tc.res)
			if err != nil || n != j {
				t.Fatalf("New(%q, %q, %q) = %q, %v; want %q", tc.local, tc.dom, tc.res, n, err, j)
			}
		})
	}
}

// TestRFC7622Examples runs the examples of RFC 7622 section 3.5.
func TestRFC7622Examples(t *testing.T) {
	runParseCases(t, []parseCase{
		// Section 3.5.1, valid.
		{name: "1 bare", in: "juliet@example.com", want: "juliet@example.com", local: "juliet", dom: "example.com"},
		{name: "2 full", in: "juliet@example.com/foo", want: "juliet@example.com/foo", local: "juliet", dom: "example.com", res: "foo"},
		{name: "3 space in resource", in: "juliet@example.com/foo bar", want: "juliet@example.com/foo bar", local: "juliet", dom: "example.com", res: "foo bar"},
		{name: "4 at in resource", in: "juliet@example.com/foo@bar", want: "juliet@example.com/foo@bar", local: "juliet", dom: "example.com", res: "foo@bar"},
		{name: "5 escaped space", in: `foo\20bar@example.com`, want: `foo\20bar@example.com`, local: `foo\20bar`, dom: "example.com"},
		{name: "6 fussball", in: "fussball@example.com", want: "fussball@example.com", local: "fussball", dom: "example.com"},
		{name: "7 sharp s", in: "fu\u00dfball@example.com", want: "fu\u00dfball@example.com", local: "fu\u00dfball", dom: "example.com"},
		{name: "8 pi", in: "\u03c0@example.com", want: "\u03c0@example.com", local: "\u03c0", dom: "example.com"},
		{name: "9 capital sigma", in: "\u03a3@example.com/foo", want: "\u03c3@example.com/foo", local: "\u03c3", dom: "example.com", res: "foo"},
		{name: "10 small sigma", in: "\u03c3@example.com/foo", want: "\u03c3@example.com/foo", local: "\u03c3", dom: "example.com", res: "foo"},
		{name: "11 final sigma", in: "\u03c2@example.com/foo", want: "\u03c2@example.com/foo", local: "\u03c2", dom: "example.com", res: "foo"},
		{name: "12 chess king resource", in: "king@example.com/\u265a", want: "king@example.com/\u265a", local: "king", dom: "example.com", res: "\u265a"},
		{name: "13 domain", in: "example.com", want: "example.com", dom: "example.com"},
		{name: "14 domain with resource", in: "example.com/foobar", want: "example.com/foobar", dom: "example.com", res: "foobar"},
		{name: "15 at after slash", in: "a.example.com/b@example.net", want: "a.example.com/b@example.net", dom: "a.example.com", res: "b@example.net"},

		// Section 3.5.2, invalid.
		{name: "16 quotes", in: `"juliet"@example.com`, part: PartLocal, cause: ErrForbidden},
		{name: "17 space in local", in: "foo bar@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "18 empty resource", in: "juliet@example.com/", part: PartResource, cause: ErrEmpty},
		{name: "19 empty local and resource", in: "@example.com/", part: PartLocal, cause: ErrEmpty},
		{name: "20 roman four", in: "henry\u2163@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "21 chess king local", in: "\u265a@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "22 empty domain", in: "juliet@", part: PartDomain, cause: ErrEmpty},
		{name: "23 no domain", in: "/foobar", part: PartDomain, cause: ErrEmpty},
	})
}

func TestSplitting(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "slash before at", in: "server/resource@foo", want: "server/resource@foo", dom: "server", res: "resource@foo"},
		{name: "two slashes", in: "server/resource@foo/bar", want: "server/resource@foo/bar", dom: "server", res: "resource@foo/bar"},
		{name: "resource all separators", in: "a@b/@/@", want: "a@b/@/@", local: "a", dom: "b", res: "@/@"},
		{name: "blank resource", in: "juliet@example.com/ ", want: "juliet@example.com/ ", local: "juliet", dom: "example.com", res: " "},
		{name: "two ats", in: "a@b@example.com", part: PartDomain, cause: ErrDisallowed},
		{name: "only at", in: "@", part: PartLocal, cause: ErrEmpty},
		{name: "only slash", in: "/", part: PartDomain, cause: ErrEmpty},
		{name: "empty", in: "", part: PartAddress, cause: ErrEmpty},
		{name: "local colon", in: "a:b@example.com", part: PartLocal, cause: ErrForbidden},
		{name: "local ampersand", in: "a&b@example.com", part: PartLocal, cause: ErrForbidden},
		{name: "local apostrophe", in: "o'hara@example.com", part: PartLocal, cause: ErrForbidden},
		{name: "local angle", in: "<a>@example.com", part: PartLocal, cause: ErrForbidden},
		{name: "local control", in: "a\tb@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "resource control", in: "a@example.com/x\x00", part: PartResource, cause: ErrDisallowed},
		{name: "invalid UTF-8 local", in: "\xff@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "invalid UTF-8 domain", in: "a@\xffexample.com", part: PartDomain, cause: ErrDisallowed},
		{name: "invalid UTF-8 resource", in: "a@example.com/\xc3", part: PartResource, cause: ErrDisallowed},
	})
}

func TestCaseAndWidthMapping(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "ASCII case", in: "Juliet@Example.COM/Balcony", want: "juliet@example.com/Balcony", local: "juliet", dom: "example.com", res: "Balcony"},
		{name: "non-ASCII case", in: "\u00c5SA@\u00c5.example", want: "\u00e5sa@\u00e5.example", local: "\u00e5sa", dom: "\u00e5.example"},
		{name: "combining ring composes", in: "A\u030a@example.com", want: "\u00e5@example.com", local: "\u00e5", dom: "example.com"},
		{name: "resource keeps case", in: "a@example.com/\u00c5", want: "a@example.com/\u00c5", local: "a", dom: "example.com", res: "\u00c5"},
		{name: "resource composes", in: "a@example.com/A\u030a", want: "a@example.com/\u00c5", local: "a", dom: "example.com", res: "\u00c5"},
		{name: "resource maps no-break space", in: "a@example.com/x\u00a0y", want: "a@example.com/x y", local: "a", dom: "example.com", res: "x y"},
		{name: "fullwidth local", in: "\uff2a\uff55\uff4c\uff49\uff45\uff54@example.com", want: "juliet@example.com", local: "juliet", dom: "example.com"},
		{name: "fullwidth domain", in: "a@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com", want: "a@example.com", local: "a", dom: "example.com"},
		{name: "fullwidth at maps to forbidden", in: "a\uff20b@example.com", part: PartLocal, cause: ErrForbidden},
		{name: "fullwidth colon maps to forbidden", in: "a\uff1ab@example.com", part: PartLocal, cause: ErrForbidden},
		{name: "fullwidth resource kept", in: "a@example.com/\uff21", want: "a@example.com/\uff21", local: "a", dom: "example.com", res: "\uff21"},
		{name: "titlecase letter disallowed", in: "\u01c5@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "Bidi rule", in: "1\u05d0@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "Bidi rule Arabic digit", in: "\u0661\u0627@example.com", part: PartLocal, cause: ErrDisallowed},
		{name: "Bidi rule spares LTR digit first", in: "1M\u00fcller@example.de", want: "1m\u00fcller@example.de", local: "1m\u00fcller", dom: "example.de"},
		{name: "Bidi rule spares LTR underscore first", in: "_\u00e9@example.de", want: "_\u00e9@example.de", local: "_\u00e9", dom: "example.de"},
		{name: "Arabic local", in: "\u0627\u0661@example.com", want: "\u0627\u0661@example.com", local: "\u0627\u0661", dom: "example.com"},
		{name: "Hebrew local", in: "\u05d0\u05d1@example.com", want: "\u05d0\u05d1@example.com", local: "\u05d0\u05d1", dom: "example.com"},
	})
}

func TestDomainpart(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "trailing dot", in: "juliet@example.com./r", want: "juliet@example.com/r", local: "juliet", dom: "example.com", res: "r"},
		{name: "trailing dot alone", in: "example.com.", want: "example.com", dom: "example.com"},
		{name: "A-label to U-label", in: "xn--bcher-kva.example", want: "b\u00fccher.example", dom: "b\u00fccher.example"},
		{name: "upper A-label", in: "XN--BCHER-KVA.Example", want: "b\u00fccher.example", dom: "b\u00fccher.example"},
		{name: "U-label upper", in: "B\u00dcCHER.example", want: "b\u00fccher.example", dom: "b\u00fccher.example"},
		{name: "ideographic full stop", in: "example\u3002com", want: "example.com", dom: "example.com"},
		{name: "soft hyphen ignored", in: "ex\u00adample.com", want: "example.com", dom: "example.com"},
		{name: "sharp s kept", in: "fu\u00dfball.example", want: "fu\u00dfball.example", dom: "fu\u00dfball.example"},
		{name: "Japanese", in: "xn--r8jz45g.jp", want: "\u4f8b\u3048.jp", dom: "\u4f8b\u3048.jp"},
		{name: "Catalan middle dot", in: "col\u00b7lecci\u00f3.cat", want: "col\u00b7lecci\u00f3.cat", dom: "col\u00b7lecci\u00f3.cat"},
		{name: "single label", in: "localhost", want: "localhost", dom: "localhost"},
		{name: "digits", in: "a@123", want: "a@123", local: "a", dom: "123"},
		{name: "two trailing dots", in: "example.com..", part: PartDomain, cause: ErrEmptyLabel},
		{name: "leading dot", in: ".example.com", part: PartDomain, cause: ErrEmptyLabel},
		{name: "inner empty label", in: "a@example..com", part: PartDomain, cause: ErrEmptyLabel},
		{name: "dot alone", in: "a@.", part: PartDomain, cause: ErrEmpty},
		{name: "mapped trailing dots", in: "example\uff61com\uff0e\u3002", part: PartDomain, cause: ErrEmptyLabel},
		{name: "leading hyphen", in: "-a.example", part: PartDomain, cause: ErrDisallowed},
		{name: "trailing hyphen", in: "a-.example", part: PartDomain, cause: ErrDisallowed},
		{name: "hyphens 3 and 4", in: "ab--c.example", part: PartDomain, cause: ErrDisallowed},
		{name: "bad punycode", in: "xn--a.example", part: PartDomain, cause: ErrDisallowed},
		{name: "ASCII A-label", in: "xn--abc-.example", part: PartDomain, cause: ErrDisallowed},
		{name: "underscore", in: "a_b.example", part: PartDomain, cause: ErrDisallowed},
		{name: "space", in: "a b.example", part: PartDomain, cause: ErrDisallowed},
		{name: "symbol NV8", in: "a@\u265a.example", part: PartDomain, cause: ErrDisallowed},
		{name: "emoji", in: "i\u2764.ws", part: PartDomain, cause: ErrDisallowed},
		{name: "middle dot out of context", in: "co\u00b7a.cat", part: PartDomain, cause: ErrDisallowed},
		{name: "zero width joiner", in: "a\u200db.example", part: PartDomain, cause: ErrDisallowed},
		{name: "Bidi rule", in: "1\u05d0.example", part: PartDomain, cause: ErrDisallowed},
		{name: "Bidi rule spares LTR", in: "1\u00fc.example", want: "1\u00fc.example", dom: "1\u00fc.example"},
		{name: "mapped slash", in: "a@\u2100.example", part: PartDomain, cause: ErrDisallowed},
	})
}

func TestIPLiterals(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "IPv4", in: "user@192.168.1.1/r", want: "user@192.168.1.1/r", local: "user", dom: "192.168.1.1", res: "r"},
		{name: "IPv6 loopback", in: "user@[::1]/r", want: "user@[::1]/r", local: "user", dom: "[::1]", res: "r"},
		{name: "IPv6 canonical form", in: "[2001:DB8:0:0:0:0:0:1]", want: "[2001:db8::1]", dom: "[2001:db8::1]"},
		{name: "IPv6 zeros", in: "a@[0:0::1]", want: "a@[::1]", local: "a", dom: "[::1]"},
		{name: "IPv4-mapped IPv6", in: "[::FFFF:192.0.2.1]", want: "[::ffff:192.0.2.1]", dom: "[::ffff:192.0.2.1]"},
		{name: "IPv6 trailing dot", in: "[::1].", want: "[::1]", dom: "[::1]"},
		{name: "IPv4 in brackets", in: "[192.168.1.1]", part: PartDomain, cause: ErrIPLiteral},
		{name: "zone", in: "[fe80::1%eth0]", part: PartDomain, cause: ErrIPLiteral},
		{name: "unclosed", in: "a@[::1", part: PartDomain, cause: ErrIPLiteral},
		{name: "empty brackets", in: "[]", part: PartDomain, cause: ErrIPLiteral},
		{name: "not an address", in: "[example.com]", part: PartDomain, cause: ErrIPLiteral},
		{name: "bracket inside", in: "a[::1]", part: PartDomain, cause: ErrDisallowed},
	})
}

func TestLengthLimits(t *testing.T) {
	max := strings.Repeat("a", MaxPartLen)
	over := max + "a"
	// 511 two-byte letters and one ASCII letter: 1023 bytes.
	maxUTF8 := strings.Repeat("\u00e9", 511) + "a"
	overUTF8 := strings.Repeat("\u00e9", 512)
	// 1023 fullwidth letters are 3069 bytes of input but 1023 after mapping.
	fullwidth := strings.Repeat("\uff41", MaxPartLen)
	maxDomain := strings.Repeat("a.", 511) + "a"
	runParseCases(t, []parseCase{
		{name: "local max", in: max + "@example.com", want: max + "@example.com", local: max, dom: "example.com"},
		{name: "local over", in: over + "@example.com", part: PartLocal, cause: ErrTooLong},
		{name: "local UTF-8 max", in: maxUTF8 + "@example.com", want: maxUTF8 + "@example.com", local: maxUTF8, dom: "example.com"},
		{name: "local UTF-8 over", in: overUTF8 + "@example.com", part: PartLocal, cause: ErrTooLong},
		{name: "local fullwidth", in: fullwidth + "@example.com", want: max + "@example.com", local: max, dom: "example.com"},
		{name: "local fullwidth over", in: fullwidth + "\uff41@example.com", part: PartLocal, cause: ErrTooLong},
		{name: "local raw over", in: strings.Repeat("\u00ad", 3000) + "a@example.com", part: PartLocal, cause: ErrTooLong},
		{name: "domain max", in: maxDomain, want: maxDomain, dom: maxDomain},
		{name: "domain max trailing dot", in: maxDomain + ".", want: maxDomain, dom: maxDomain},
		{name: "domain over", in: "a" + maxDomain, part: PartDomain, cause: ErrTooLong},
		{name: "domain single label over", in: over, part: PartDomain, cause: ErrTooLong},
		{name: "domain raw over", in: "a@" + strings.Repeat("a", maxRawPartLen+1), part: PartDomain, cause: ErrTooLong},
		{name: "resource max", in: "a@b/" + max, want: "a@b/" + max, local: "a", dom: "b", res: max},
		{name: "resource over", in: "a@b/" + over, part: PartResource, cause: ErrTooLong},
		{name: "resource UTF-8 over", in: "a@b/" + overUTF8, part: PartResource, cause: ErrTooLong},
		{name: "all max", in: max + "@" + maxDomain + "/" + max, want: max + "@" + maxDomain + "/" + max, local: max, dom: maxDomain, res: max},
	})
}
