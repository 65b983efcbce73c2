package xmlscan

import (
	"encoding/binary"
	"math/bits"
)

// Runs of ordinary bytes. Character data and attribute values are mostly
// bytes that need no decision; these functions skip them eight at a time
// when they are ASCII (SWAR: SIMD within a register) and one character at a
// time through valid multi-byte UTF-8, and stop on the first byte the
// caller must judge. Each tests a word for a set of byte values with the
// classic has-zero-byte expression; the lowest flag it raises is exact,
// which is all the scanners need.

// SWAR constants: one in every byte, and every byte's high bit.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// textStops flags (with the high bit of the byte) the bytes of w that stop
// a run of character data: below 0x20 or from 0x80, '<' or '>' (3C and 3E,
// one test with bit 1 set), and '&'. Only its lowest flag is exact: a
// borrow can raise false flags above a true one.
func textStops(w uint64) uint64 {
	v := (w | 0x02*ones) ^ (0x3E * ones)
	a := w ^ (0x26 * ones)
	return ((w - 0x20*ones) | w | ((v - ones) &^ v) | ((a - ones) &^ a)) & high
}

// Predefined entity references as little-endian words, and the masks that
// select their bytes.
const (
	refAmpWord  = '&' | 'a'<<8 | 'm'<<16 | 'p'<<24 | ';'<<32
	refLtWord   = '&' | 'l'<<8 | 't'<<16 | ';'<<24
	refGtWord   = '&' | 'g'<<8 | 't'<<16 | ';'<<24
	refQuotWord = '&' | 'q'<<8 | 'u'<<16 | 'o'<<24 | 't'<<32 | ';'<<40
	refAposWord = '&' | 'a'<<8 | 'p'<<16 | 'o'<<24 | 's'<<32 | ';'<<40
	mask4       = 0xFFFFFFFF
	mask5       = 0xFFFFFFFFFF
	mask6       = 0xFFFFFFFFFFFF
)

// wordRefLen returns the length of the predefined entity reference that
// starts the little-endian word w, or 0.
func wordRefLen(w uint64) int {
	switch {
	case w&mask5 == refAmpWord:
		return 5
	case w&mask4 == refLtWord || w&mask4 == refGtWord:
		return 4
	case w&mask6 == refQuotWord || w&mask6 == refAposWord:
		return 6
	}
	return 0
}

// skipText returns the index of the first byte at or after i that ends a
// run of plain character data: '<', '&', '>', a control character, or the
// start of a multi-byte sequence that is not a complete, valid XML Char
// (the caller decides with decodeChar whether it is incomplete or wrong).
// ']' does not stop it: callers look back for "]]" when they meet '>'.
func skipText(b []byte, i int) int {
	n := len(b)
	for {
		var m uint64
		for n-i >= 8 {
			if m = textStops(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				break
			}
			i += 8
		}
		if m != 0 {
			i += bits.TrailingZeros64(m) >> 3
		} else if i == n {
			return n
		}
		// b[i] is flagged (or in the tail shorter than a word).
		if c := b[i]; c < 0x80 {
			if textClass[c] != clPlain {
				return i
			}
			i++
			continue
		}
		if i = skipMulti(b, i); i == n || b[i] >= 0x80 {
			return i
		}
	}
}

// attrStops is textStops for an attribute value: it flags bytes below 0x20
// or from 0x80, '<', and the quote q together with '&': ' (27) and & (26)
// differ in bit 0 only, " (22) and & in bit 2 only, so with qa, qm = 0x27,
// 0x01 for ' and 0x26, 0x04 for " (in every byte) one test finds both.
func attrStops(w, qa, qm uint64) uint64 {
	qt := (w | qm) ^ qa
	la := w ^ (0x3C * ones)
	return ((w - 0x20*ones) | w | ((qt - ones) &^ qt) | ((la - ones) &^ la)) & high
}

// skipAttr is skipText for an attribute value quoted with q: it stops at q,
// '<', '&', control characters and multi-byte sequences that are not
// complete, valid Chars. The other quote character is plain.
func skipAttr(b []byte, i int, q byte) int {
	n := len(b)
	qa, qm := uint64(0x27*ones), uint64(0x01*ones)
	if q == '"' {
		qa, qm = 0x26*ones, 0x04*ones
	}
	for {
		var m uint64
		for n-i >= 8 {
			if m = attrStops(binary.LittleEndian.Uint64(b[i:]), qa, qm); m != 0 {
				break
			}
			i += 8
		}
		if m != 0 {
			i += bits.TrailingZeros64(m) >> 3
		} else if i == n {
			return n
		}
		if c := b[i]; c < 0x80 {
			if c == q || attrClass[c] != clPlain && attrClass[c] != clQuote {
				return i
			}
			i++
			continue
		}
		if i = skipMulti(b, i); i == n || b[i] >= 0x80 {
			return i
		}
	}
}

// skipMulti skips complete, valid multi-byte characters from b[i], and
// single spaces between them, and returns the index of the first byte that
// is ASCII or does not start one. It reads each character's bytes as one
// word while four bytes are left, and falls back to decodeChar (on which
// TestDecodeCharMatchesUTF8 holds it) near the end of b. Spaces are plain
// in character data and attribute values alike; taking them here keeps
// text in most scripts, words of letters between spaces, in this loop.
func skipMulti(b []byte, i int) int {
	for len(b)-i >= 4 {
		w := binary.LittleEndian.Uint32(b[i:])
		switch c := byte(w); {
		case c < 0x80:
			if c != ' ' || w&0x8000 == 0 {
				return i
			}
			i++ // a space, and non-ASCII follows
		case c < 0xC2: // a continuation byte, or an overlong lead
			return i
		case c < 0xE0:
			if w&0xC000 != 0x8000 {
				return i
			}
			// Two-byte scripts come in runs: take a second
			// character from the same word when there is one.
			if w&0xC0E00000 == 0x80C00000 && w&0x1E0000 != 0 {
				i += 4
				continue
			}
			i += 2
		case c < 0xF0:
			if w&0xC0C000 != 0x808000 {
				return i
			}
			if c == 0xE0 || c >= 0xED {
				c1 := byte(w >> 8)
				if c == 0xE0 && c1 < 0xA0 || // overlong
					c == 0xED && c1 > 0x9F || // surrogate
					c == 0xEF && c1 == 0xBF && byte(w>>16) >= 0xBE { // U+FFFE, U+FFFF
					return i
				}
			}
			i += 3
		case c < 0xF5:
			if w&0xC0C0C000 != 0x80808000 {
				return i
			}
			if c1 := byte(w >> 8); c == 0xF0 && c1 < 0x90 || c == 0xF4 && c1 > 0x8F {
				return i // overlong, or above U+10FFFF
			}
			i += 4
		default:
			return i
		}
	}
	for i < len(b) && b[i] >= 0x80 {
		n, st := decodeChar(b[i:])
		if st != mbOK {
			break
		}
		i += n
	}
	return i
}
