package stanza

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a & b < c > d", "a &amp; b &lt; c &gt; d"},
		{"]]>", "]]&gt;"},
		{`quotes ' " stay`, `quotes ' " stay`},
		{"tab\tnl\ncr\r", "tab\tnl\ncr&#xD;"},
		{"nul\x00bel\x07", "nul\uFFFDbel\uFFFD"},
		{"héllo wörld €𝄞", "héllo wörld €𝄞"},
		{"bad \xff utf8 \xc3", "bad \uFFFD utf8 \uFFFD"},
		{"overlong \xc0\xaf", "overlong \uFFFD\uFFFD"},
		{"surrogate \xed\xa0\x80", "surrogate \uFFFD\uFFFD\uFFFD"},
		{"nonchar \uFFFE \uFFFF", "nonchar \uFFFD \uFFFD"},
		{"literal \uFFFD", "literal \uFFFD"},
		{"above max \xf4\x90\x80\x80", "above max \uFFFD\uFFFD\uFFFD\uFFFD"},
		{"truncated \xe2\x82", "truncated \uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		if got := string(EscapeText(nil, tt.in)); got != tt.want {
			t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(EscapeText([]byte("x"), []byte(tt.in))); got != "x"+tt.want {
			t.Errorf("EscapeText([]byte %q) = %q, want %q", tt.in, got, "x"+tt.want)
		}
	}
}

func TestEscapeAttr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"romeo@example.net/orchard", "romeo@example.net/orchard"},
		{`a&b<c>d"e'f`, "a&amp;b&lt;c&gt;d&quot;e&apos;f"},
		{"t\tn\nr\r", "t&#x9;n&#xA;r&#xD;"},
		{"\x01", "\uFFFD"},
		{"ünï", "ünï"},
	}
	for _, tt := range tests {
		if got := string(EscapeAttr(nil, tt.in)); got != tt.want {
			t.Errorf("EscapeAttr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeRoundTrip checks with encoding/xml that escaped output decodes back to the
// input (with invalid characters replaced) in both contexts and both quote styles.
func TestEscapeRoundTrip(t *testing.T) {
	inputs := []string{
		"", "a", "x & y", "<tag>", `"'"'`, "\t\n\r", "\r\n", "a\rb", "]]>", "\x00\x1f",
		"日本語", "\xff\xfe", strings.Repeat("ab&", 50), "𝄞", "\uFFFE", "\U0010FFFF",
	}
	for _, in := range inputs {
		want := sanitize(in)
		text := "<a>" + string(EscapeText(nil, in)) + "</a>"
		if got := decodeText(t, text); got != want {
			t.Errorf("text %q: decoded %q, want %q", in, got, want)
		}
		for _, q := range []string{"'", `"`} {
			doc := "<a v=" + q + string(EscapeAttr(nil, in)) + q + "/>"
			if got := decodeAttr(t, doc); got != want {
				t.Errorf("attr %q with %s: decoded %q, want %q", in, q, got, want)
			}
		}
	}
}

// sanitize is the reference model of the replacement EscapeText and EscapeAttr do.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !isXMLChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

func decodeText(t *testing.T, doc string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var s struct {
		Text string `xml:",chardata"`
	}
	if err := d.Decode(&s); err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
	return s.Text
}

func decodeAttr(t *testing.T, doc string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	tok, err := d.RawToken()
	if err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
	se, ok := tok.(xml.StartElement)
	if !ok || len(se.Attr) != 1 {
		t.Fatalf("decode %q: got %#v", doc, tok)
	}
	return se.Attr[0].Value
}

func TestDecodeRuneMatchesUTF8(t *testing.T) {
	// Exhaustive over 1- to 3-byte prefixes plus a sample of 4-byte sequences.
	var buf [4]byte
	check := func(b []byte) {
		r1, n1 := utf8.DecodeRune(b)
		r2, n2 := decodeRune(b)
		if r1 != r2 || n1 != n2 {
			t.Fatalf("decodeRune(% x) = %U,%d; utf8 says %U,%d", b, r2, n2, r1, n1)
		}
		r3, n3 := decodeRune(string(b))
		if r3 != r2 || n3 != n2 {
			t.Fatalf("decodeRune(string % x) differs", b)
		}
	}
	for a := 0; a < 256; a++ {
		buf[0] = byte(a)
		check(buf[:1])
		for b := 0; b < 256; b++ {
			buf[1] = byte(b)
			check(buf[:2])
			for c := 0x70; c < 0xC8; c++ {
				buf[2] = byte(c)
				check(buf[:3])
				buf[3] = 0x80 + byte((a+b+c)%0x40)
				check(buf[:4])
				buf[3] = byte(a ^ b ^ c)
				check(buf[:4])
			}
		}
	}
	check(nil)
}
