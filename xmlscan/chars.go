package xmlscan

import "unicode/utf8"

// Byte classes for the scanning loops. Each loop skips bytes whose class is
// zero with a table lookup and stops on anything that needs a decision, so the
// common case (ASCII letters, digits, punctuation) costs one load and one
// compare per byte.
const (
	clPlain   = 0
	clLT      = 1 // <
	clAmp     = 2 // &
	clRBrack  = 3 // ]  (CDATA only: start of a possible ]]>)
	clGT      = 4 // >  (text and CDATA: end of a possible ]]>)
	clQuote   = 5 // ' or "  (attribute values only)
	clCtl     = 6 // C0 control other than tab, LF, CR: never a Char
	clNonASCI = 7 // first byte of a multi-byte UTF-8 sequence (or garbage)
)

// textClass classifies bytes of character data between tags. ']' is plain:
// the scanners look back for "]]" when they meet '>'.
var textClass = func() (t [256]uint8) {
	fillCommon(&t)
	t['<'] = clLT
	t['&'] = clAmp
	t['>'] = clGT
	return t
}()

// attrClass classifies bytes inside a quoted attribute value.
var attrClass = func() (t [256]uint8) {
	fillCommon(&t)
	t['<'] = clLT
	t['&'] = clAmp
	t['\''] = clQuote
	t['"'] = clQuote
	return t
}()

// cdataClass classifies bytes inside a CDATA section, where only ]]> ends it.
var cdataClass = func() (t [256]uint8) {
	fillCommon(&t)
	t[']'] = clRBrack
	t['>'] = clGT
	return t
}()

func fillCommon(t *[256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = clCtl
	}
	t['\t'], t['\n'], t['\r'] = clPlain, clPlain, clPlain
	for c := 0x80; c < 0x100; c++ {
		t[c] = clNonASCI
	}
}

// Name byte flags. Colons are deliberately not name bytes here: the name
// scanner handles them itself to enforce the QName production.
const (
	nbStart = 1 << iota // ASCII NameStartChar (letters, _)
	nbChar              // ASCII NameChar (start chars, digits, -, .)
	nbMulti             // first byte of a non-ASCII sequence: decode and check
)

var nameClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = nbStart | nbChar
		t[c-'a'+'A'] = nbStart | nbChar
	}
	t['_'] = nbStart | nbChar
	for c := '0'; c <= '9'; c++ {
		t[c] = nbChar
	}
	t['-'], t['.'] = nbChar, nbChar
	for c := 0x80; c < 0x100; c++ {
		t[c] = nbMulti
	}
	return t
}()

// isSpace reports whether c is XML whitespace (production S).
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r'
}

// isChar reports whether r is in the XML 1.0 Char production. Callers pass
// only runes decoded from valid UTF-8 or character references.
func isChar(r rune) bool {
	switch {
	case r < 0x20:
		return r == 0x9 || r == 0xA || r == 0xD
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	default:
		return r >= 0x10000 && r <= 0x10FFFF
	}
}

// multiStatus results of decodeChar.
const (
	mbOK         = iota
	mbIncomplete // the sequence continues past the end of the buffer
	mbBadUTF8    // not valid UTF-8 (including surrogates and overlongs)
	mbBadChar    // valid UTF-8 but not an XML Char (U+FFFE, U+FFFF)
)

// decodeChar validates the multi-byte UTF-8 sequence at b[0] (b[0] >= 0x80)
// and returns its length and a status. It never reads past len(b): a
// prefix that is valid so far reports mbIncomplete so the caller can wait
// for more bytes, while a prefix that is already invalid reports mbBadUTF8
// at once, so the verdict does not depend on how the bytes were split.
// Overlong forms, surrogates and code points above U+10FFFF are invalid
// (RFC 3629); U+FFFE and U+FFFF are valid UTF-8 but not XML Chars.
func decodeChar(b []byte) (int, int) {
	c0 := b[0]
	n := 0
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c0 < 0xC2:
		return 1, mbBadUTF8
	case c0 < 0xE0:
		n = 2
	case c0 < 0xF0:
		n = 3
		if c0 == 0xE0 {
			lo = 0xA0
		} else if c0 == 0xED {
			hi = 0x9F
		}
	case c0 < 0xF5:
		n = 4
		if c0 == 0xF0 {
			lo = 0x90
		} else if c0 == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1, mbBadUTF8
	}
	if len(b) < 2 {
		return 0, mbIncomplete
	}
	if b[1] < lo || b[1] > hi {
		return 1, mbBadUTF8
	}
	for k := 2; k < n; k++ {
		if len(b) <= k {
			return 0, mbIncomplete
		}
		if b[k]&0xC0 != 0x80 {
			return 1, mbBadUTF8
		}
	}
	if n == 3 && c0 == 0xEF && b[1] == 0xBF && b[2] >= 0xBE {
		return 3, mbBadChar
	}
	return n, mbOK
}

// decodeRune is decodeChar that also returns the rune, for names.
func decodeRune(b []byte) (rune, int, int) {
	n, st := decodeChar(b)
	if st != mbOK {
		return 0, n, st
	}
	r, _ := utf8.DecodeRune(b[:n])
	return r, n, st
}

// isNameStartRune reports whether a non-ASCII rune is a NameStartChar of
// XML 1.0 fifth edition (section 2.3).
func isNameStartRune(r rune) bool {
	switch {
	case r < 0xC0:
		return false
	case r <= 0xD6:
		return true
	case r == 0xD7:
		return false
	case r <= 0xF6:
		return true
	case r == 0xF7:
		return false
	case r <= 0x2FF:
		return true
	case r < 0x370:
		return false
	case r <= 0x37D:
		return true
	case r == 0x37E:
		return false
	case r <= 0x1FFF:
		return true
	case r == 0x200C || r == 0x200D:
		return true
	case r < 0x2070:
		return false
	case r <= 0x218F:
		return true
	case r < 0x2C00:
		return false
	case r <= 0x2FEF:
		return true
	case r < 0x3001:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xF900:
		return false
	case r <= 0xFDCF:
		return true
	case r < 0xFDF0:
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false
	default:
		return r <= 0xEFFFF
	}
}

// isNameRune reports whether a non-ASCII rune is a NameChar.
func isNameRune(r rune) bool {
	return isNameStartRune(r) || r == 0xB7 || (r >= 0x300 && r <= 0x36F) ||
		r == 0x203F || r == 0x2040
}
