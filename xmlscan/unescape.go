package xmlscan

import (
	"bytes"
	"unicode/utf8"
)

// Unescape appends the decoded form of a raw attribute value or character
// data to dst and returns the extended slice: the five predefined entity
// references and decimal and hexadecimal character references are replaced,
// and line ends are normalised as XML 1.0 section 2.11 requires (CR LF and a
// lone CR become LF). It never allocates beyond growing dst, and not at all
// when dst has room. On a malformed or forbidden reference it returns dst
// extended with what was decoded so far, and ErrInvalidReference.
//
// Raw values taken from the scanner's tokens were validated already, so
// Unescape cannot fail on them. It is safe to call from any goroutine.
func Unescape(dst, raw []byte) ([]byte, error) {
	for len(raw) > 0 {
		k := indexAmpCR(raw)
		if k < 0 {
			return append(dst, raw...), nil
		}
		dst = append(dst, raw[:k]...)
		raw = raw[k:]
		if raw[0] == '\r' {
			dst = append(dst, '\n')
			raw = raw[1:]
			if len(raw) > 0 && raw[0] == '\n' {
				raw = raw[1:]
			}
			continue
		}
		semi := bytes.IndexByte(raw, ';')
		if semi < 2 {
			return dst, ErrInvalidReference
		}
		ref := raw[1:semi]
		raw = raw[semi+1:]
		if ref[0] != '#' {
			c := predefinedEntity(ref)
			if c == 0 {
				return dst, ErrInvalidReference
			}
			dst = append(dst, c)
			continue
		}
		r, ok := parseCharRef(ref[1:])
		if !ok {
			return dst, ErrInvalidReference
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, nil
}

// UnescapeAttr is Unescape followed by the attribute-value normalisation of
// XML 1.0 section 3.3.3 for CDATA-typed attributes (all attributes, without
// a DTD): literal tab, LF and CR (after line-end normalisation) become
// spaces, while the same characters written as character references are
// kept. It is safe to call from any goroutine.
func UnescapeAttr(dst, raw []byte) ([]byte, error) {
	for len(raw) > 0 {
		k := indexAttrSpecial(raw)
		if k < 0 {
			return append(dst, raw...), nil
		}
		dst = append(dst, raw[:k]...)
		switch raw[k] {
		case '&':
			semi := bytes.IndexByte(raw[k:], ';')
			if semi < 0 {
				return dst, ErrInvalidReference
			}
			var err error
			if dst, err = Unescape(dst, raw[k:k+semi+1]); err != nil {
				return dst, err
			}
			raw = raw[k+semi+1:]
		case '\r':
			dst = append(dst, ' ')
			raw = raw[k+1:]
			if len(raw) > 0 && raw[0] == '\n' {
				raw = raw[1:]
			}
		default: // tab or LF
			dst = append(dst, ' ')
			raw = raw[k+1:]
		}
	}
	return dst, nil
}

func indexAmpCR(b []byte) int {
	a := bytes.IndexByte(b, '&')
	if a < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if c := bytes.IndexByte(b[:a], '\r'); c >= 0 {
		return c
	}
	return a
}

func indexAttrSpecial(b []byte) int {
	for k, c := range b {
		if c == '&' || c == '\r' || c == '\n' || c == '\t' {
			return k
		}
	}
	return -1
}

// parseCharRef parses the digits of a character reference after '#':
// decimal, or hexadecimal after 'x'. Leading zeros are allowed, as in XML.
func parseCharRef(d []byte) (rune, bool) {
	base := uint32(10)
	if len(d) > 0 && d[0] == 'x' {
		base = 16
		d = d[1:]
	}
	if len(d) == 0 {
		return 0, false
	}
	var v uint32
	for _, c := range d {
		var x int
		if base == 10 {
			if c < '0' || c > '9' {
				return 0, false
			}
			x = int(c - '0')
		} else if x = hexVal(c); x < 0 {
			return 0, false
		}
		v = min(v*base+uint32(x), maxCharRef)
	}
	if v >= maxCharRef || !isChar(rune(v)) {
		return 0, false
	}
	return rune(v), true
}
