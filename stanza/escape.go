package stanza

import "unicode/utf8"

// Escaping for the XML that Hermod writes. Everything the server writes into a stream
// passes through EscapeText or EscapeAttr, so a hostile string (a nickname, a status
// text, a resourcepart) can never break the recipient's stream: markup characters
// become references and characters XML 1.0 cannot carry become U+FFFD.

// byte classes for the escape tables.
const (
	clsCopy  = iota // written as is
	clsRef          // written as a reference (see escapeRef)
	clsBad          // not an XML 1.0 Char: replaced by U+FFFD
	clsMulti        // first byte of a multi-byte UTF-8 sequence, or an invalid byte
)

// attrClass and textClass classify every byte value for the two contexts. They are
// constant tables built by a pure function, not mutable state.
var (
	attrClass = buildClass("&<>\"'\t\n\r")
	textClass = buildClass("&<>\r")
)

func buildClass(refs string) [256]uint8 {
	var t [256]uint8
	for c := 0; c < 0x20; c++ {
		t[c] = clsBad
	}
	// \t \n \r are Chars; they are copied unless the context lists them in refs.
	t['\t'], t['\n'], t['\r'] = clsCopy, clsCopy, clsCopy
	for c := 0x80; c < 0x100; c++ {
		t[c] = clsMulti
	}
	for i := 0; i < len(refs); i++ {
		t[refs[i]] = clsRef
	}
	return t
}

// escapeRef returns the reference written for a byte of class clsRef. \t \n \r are
// written as character references in attribute values because attribute-value
// normalisation would otherwise turn them into spaces; \r is a reference in text too
// because line-end normalisation would otherwise drop it.
func escapeRef(c byte) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '"':
		return "&quot;"
	case '\'':
		return "&apos;"
	case '\t':
		return "&#x9;"
	case '\n':
		return "&#xA;"
	default: // '\r'
		return "&#xD;"
	}
}

const replacementUTF8 = "\uFFFD"

// EscapeText appends s to dst escaped as XML character data: & < > become entity
// references (escaping every '>' also rules out "]]>"), \r becomes &#xD;, and bytes
// that are not valid UTF-8 or encode a character outside XML 1.0's Char production
// become U+FFFD. It allocates only when dst must grow. Safe from any goroutine.
func EscapeText[S ~string | ~[]byte](dst []byte, s S) []byte {
	return escape(dst, s, &textClass)
}

// EscapeAttr appends s to dst escaped for an attribute value delimited by either ' or
// ": & < > " ' become entity references, \t \n \r become character references, and
// invalid characters become U+FFFD as in EscapeText. It allocates only when dst must
// grow. Safe from any goroutine.
func EscapeAttr[S ~string | ~[]byte](dst []byte, s S) []byte {
	return escape(dst, s, &attrClass)
}

func escape[S ~string | ~[]byte](dst []byte, s S, class *[256]uint8) []byte {
	last := 0 // s[last:i] is pending, to be copied as is
	for i := 0; i < len(s); {
		c := s[i]
		switch class[c] {
		case clsCopy:
			i++
			continue
		case clsRef:
			dst = append(dst, s[last:i]...)
			dst = append(dst, escapeRef(c)...)
			i++
		case clsBad:
			dst = append(dst, s[last:i]...)
			dst = append(dst, replacementUTF8...)
			i++
		default:
			r, n := decodeRune(s[i:])
			if r != utf8.RuneError && isXMLChar(r) {
				i += n
				continue
			}
			dst = append(dst, s[last:i]...)
			dst = append(dst, replacementUTF8...)
			i += n
		}
		last = i
	}
	return append(dst, s[last:]...)
}

// isXMLChar reports whether r is in XML 1.0's Char production.
func isXMLChar(r rune) bool {
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
		return r >= 0x10000 && r <= utf8.MaxRune
	}
}

// decodeRune decodes the UTF-8 sequence at the start of s like utf8.DecodeRune, for
// strings and byte slices alike without converting either. An invalid or truncated
// sequence yields (utf8.RuneError, 1); a literal U+FFFD yields (utf8.RuneError, 3).
func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	n := len(s)
	if n == 0 {
		return utf8.RuneError, 0
	}
	c0 := s[0]
	if c0 < 0x80 {
		return rune(c0), 1
	}
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	var size int
	var r rune
	switch {
	case c0 < 0xC2:
		return utf8.RuneError, 1
	case c0 < 0xE0:
		size, r = 2, rune(c0&0x1F)
	case c0 < 0xF0:
		size, r = 3, rune(c0&0x0F)
		if c0 == 0xE0 {
			lo = 0xA0 // no overlong forms
		} else if c0 == 0xED {
			hi = 0x9F // no surrogates
		}
	case c0 < 0xF5:
		size, r = 4, rune(c0&0x07)
		if c0 == 0xF0 {
			lo = 0x90
		} else if c0 == 0xF4 {
			hi = 0x8F // nothing above U+10FFFF
		}
	default:
		return utf8.RuneError, 1
	}
	if n < size || s[1] < lo || s[1] > hi {
		return utf8.RuneError, 1
	}
	for k := 1; k < size; k++ {
		if k > 1 && (s[k] < 0x80 || s[k] > 0xBF) {
			return utf8.RuneError, 1
		}
		r = r<<6 | rune(s[k]&0x3F)
	}
	return r, size
}
