package xmlscan

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// refDecode is decodeChar's specification in terms of unicode/utf8.
func refDecode(b []byte) (int, int) {
	if !utf8.FullRune(b) {
		return 0, mbIncomplete
	}
	r, n := utf8.DecodeRune(b)
	switch {
	case r == utf8.RuneError && n == 1:
		return 1, mbBadUTF8
	case r == 0xFFFE || r == 0xFFFF:
		return n, mbBadChar
	}
	return n, mbOK
}

func TestDecodeCharMatchesUTF8(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		n, st := decodeChar(b)
		wn, wst := refDecode(b)
		if st != wst || (st != mbIncomplete && n != wn) {
			t.Fatalf("% x: got (%d,%d), want (%d,%d)", b, n, st, wn, wst)
		}
		// skipMulti reads a word when it can: check it on b alone and
		// padded with ASCII, which ends any sequence.
		var pad [8]byte
		for _, p := range [][]byte{b, append(append(pad[:0], b...), 'a', 'a', 'a')} {
			want := 0
			if n, st := decodeChar(p); st == mbOK {
				want = n
			}
			if k := skipMulti(p, 0); k != want {
				t.Fatalf("% x: skipMulti %d, want %d", p, k, want)
			}
		}
	}
	// Every lead byte alone, every 2-byte and 3-byte sequence with a
	// non-ASCII lead, and 4-byte sequences around every boundary.
	for c0 := 0x80; c0 < 0x100; c0++ {
		check([]byte{byte(c0)})
		for c1 := 0; c1 < 0x100; c1++ {
			check([]byte{byte(c0), byte(c1)})
			if c0 < 0xE0 || c0 >= 0xF0 {
				continue
			}
			for c2 := 0; c2 < 0x100; c2++ {
				check([]byte{byte(c0), byte(c1), byte(c2)})
			}
		}
	}
	edges := []byte{0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF}
	for c0 := 0xF0; c0 < 0x100; c0++ {
		for _, c1 := range edges {
			for _, c2 := range edges {
				for _, c3 := range edges {
					check([]byte{byte(c0), c1, c2})
					check([]byte{byte(c0), c1, c2, c3})
				}
			}
		}
	}
}

// naiveSkip is the specification of skipText and skipAttr: skip ASCII
// bytes that stop reports false for and complete, valid multi-byte Chars.
func naiveSkip(b []byte, i int, stop func(byte) bool) int {
	for i < len(b) {
		c := b[i]
		if c < 0x80 {
			if stop(c) {
				return i
			}
			i++
			continue
		}
		n, st := decodeChar(b[i:])
		if st != mbOK {
			return i
		}
		i += n
	}
	return i
}

func textStop(c byte) bool { return textClass[c] != clPlain }

func TestSkipMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("abc <>&]'\"\t\n\r\x01\x7f\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\xed\xa0\x80\xef\xbf\xbe\x80\xff")
	for k := 0; k < 20000; k++ {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = 'a' + byte(r.IntN(26))
			}
		}
		for i := 0; i <= len(b); i++ {
			if got, want := skipText(b, i), naiveSkip(b, i, textStop); got != want {
				t.Fatalf("skipText(%q, %d) = %d, want %d", b, i, got, want)
			}
			for _, q := range []byte{'\'', '"'} {
				stop := func(c byte) bool { return c == q || attrClass[c] != clPlain && attrClass[c] != clQuote }
				if got, want := skipAttr(b, i, q), naiveSkip(b, i, stop); got != want {
					t.Fatalf("skipAttr(%q, %d, %c) = %d, want %d", b, i, q, got, want)
				}
			}
		}
	}
}

func TestNameRunes(t *testing.T) {
	for _, c := range []struct {
		r            rune
		start, inner bool
	}{
		{0xB7, false, true}, {0xC0, true, true}, {0xD7, false, false}, {0xF7, false, false},
		{0x2FF, true, true}, {0x300, false, true}, {0x36F, false, true}, {0x370, true, true},
		{0x37E, false, false}, {0x37F, true, true}, {0x1FFF, true, true}, {0x2000, false, false},
		{0x200C, true, true}, {0x200E, false, false}, {0x203F, false, true}, {0x2040, false, true},
		{0x2070, true, true}, {0x218F, true, true}, {0x2190, false, false}, {0x2C00, true, true},
		{0x2FF0, false, false}, {0x3000, false, false}, {0x3001, true, true}, {0xD7FF, true, true},
		{0xF8FF, false, false}, {0xF900, true, true}, {0xFDD0, false, false}, {0xFDF0, true, true},
		{0xFFFD, true, true}, {0xFFFE, false, false}, {0x10000, true, true}, {0xEFFFF, true, true},
		{0xF0000, false, false},
	} {
		if isNameStartRune(c.r) != c.start || isNameRune(c.r) != c.inner {
			t.Errorf("U+%04X: start %v name %v, want %v %v", c.r, isNameStartRune(c.r), isNameRune(c.r), c.start, c.inner)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, c := range []struct{ in, text, attr string }{
		{"", "", ""},
		{"plain", "plain", "plain"},
		{"a&amp;b&lt;c&gt;d&quot;e&apos;f", "a&b<c>d\"e'f", "a&b<c>d\"e'f"},
		{"&#65;&#x42;&#x00043;&#0068;", "ABCD", "ABCD"},
		{"&#x1F600;", "😀", "😀"},
		{"a\r\nb\rc\nd", "a\nb\nc\nd", "a b c d"},
		{"a\tb", "a\tb", "a b"},
		{"&#13;&#10;&#9;", "\r\n\t", "\r\n\t"},
	} {
		got, err := Unescape([]byte("pre:"), []byte(c.in))
		if err != nil || string(got) != "pre:"+c.text {
			t.Errorf("Unescape(%q) = %q, %v; want %q", c.in, got, err, c.text)
		}
		got, err = UnescapeAttr(nil, []byte(c.in))
		if err != nil || string(got) != c.attr {
			t.Errorf("UnescapeAttr(%q) = %q, %v; want %q", c.in, got, err, c.attr)
		}
	}
	for _, bad := range []string{"&", "&;", "&amp", "&foo;", "&#;", "&#x;", "&#xD800;", "&#0;", "&#x110000;", "&#12a;", "a&b"} {
		if _, err := Unescape(nil, []byte(bad)); err != ErrInvalidReference {
			t.Errorf("Unescape(%q) err = %v", bad, err)
		}
		if _, err := UnescapeAttr(nil, []byte(bad)); err != ErrInvalidReference {
			t.Errorf("UnescapeAttr(%q) err = %v", bad, err)
		}
	}
}

func TestWordRefLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"&amp;xyz", 5}, {"&lt;abcd", 4}, {"&gt;abcd", 4}, {"&quot;ab", 6}, {"&apos;ab", 6},
		{"&amp xyz", 0}, {"&am;xyzw", 0}, {"&apo;xyz", 0}, {"&#65;abc", 0}, {"&lt abcd", 0}, {"a&amp;xy", 0},
	} {
		if got := wordRefLen(binary.LittleEndian.Uint64([]byte(c.in))); got != c.want {
			t.Errorf("%q: %d, want %d", c.in, got, c.want)
		}
		if got := predefinedLen([]byte(c.in)); got != c.want && c.in[0] == '&' {
			t.Errorf("predefinedLen(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// naiveMulti is skipMulti's specification: complete, valid multi-byte
// characters, and spaces followed by a byte from 0x80.
func naiveMulti(b []byte, i int) int {
	for i < len(b) {
		if b[i] == ' ' && i+1 < len(b) && b[i+1] >= 0x80 && len(b)-i >= 4 {
			i++
			continue
		}
		if b[i] < 0x80 {
			return i
		}
		n, st := decodeChar(b[i:])
		if st != mbOK {
			return i
		}
		i += n
	}
	return i
}

// TestSkipMulti checks skipMulti on pairs of characters around every
// boundary of the two-byte and three-byte forms, with spaces between, and
// at every distance from the end of the buffer.
func TestSkipMulti(t *testing.T) {
	var units [][]byte
	for _, lead := range []byte{0xC0, 0xC1, 0xC2, 0xD0, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5} {
		for _, c1 := range []byte{0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0} {
			units = append(units, []byte{lead, c1}, []byte{lead, c1, 0xBE}, []byte{lead, c1, 0x80, 0x80})
		}
	}
	units = append(units, []byte(" "), []byte("a"), []byte("é"), []byte("日"), []byte("😀"), []byte("\uFFFF"))
	for _, u := range units {
		for _, v := range units {
			for _, tail := range []string{"", "x", "xyzw"} {
				b := append(append(append([]byte("é"), u...), v...), tail...)
				for i := 0; i < len(b); i++ {
					if got, want := skipMulti(b, i), naiveMulti(b, i); got != want {
						t.Fatalf("skipMulti(% x, %d) = %d, want %d", b, i, got, want)
					}
				}
			}
		}
	}
}
