package xmlscan

import (
	"encoding/binary"
	"math/bits"
)

// Single-pass fast paths for tokens that are complete in the buffer.
//
// Most tokens arrive whole and are plain: text of valid UTF-8 with
// predefined or character references, tags with ASCII names, no namespace
// prefixes, and no declarations other than a default namespace on a few
// elements. For those, one straight pass with local variables beats the
// resumable state machine, which saves its state at every step, and the
// namespace work reduces to taking the default namespace. A fast path only
// ever accepts: on anything it does not handle (the end of the buffer, a
// non-ASCII name, an unusual reference, a duplicate attribute, an error of
// any kind, a limit), it gives up without side effects and the state
// machine scans the token from its start. A token is therefore examined at
// most twice, and every verdict, error and offset comes from the state
// machine or from finishStart, which both paths share. The chunking tests
// hold the two paths to identical results: a single feed takes the fast
// paths, a byte-at-a-time feed the state machine.

// fastToken tries the fast paths for the token at s.pos, a token boundary
// in the content of an open stanza (state stContent), reading no further
// than b. On success s.tk describes the token and s.pos is after it; on
// failure nothing has changed but the work count.
func (s *Scanner) fastToken(b []byte) (uint8, bool) {
	i := s.pos
	if i+1 >= len(b) {
		return 0, false
	}
	if b[i] != '<' {
		j, ok := fastText(b, i)
		if !ok {
			s.work += int64(j - i) // examined again by stepText
			return 0, false
		}
		s.pos = j
		s.tk = pending{kind: Text, depth: len(s.open) - 1, end: j}
		return rToken, true
	}
	switch c := b[i+1]; {
	case c == '/':
		return s.fastEndTag(b, i+2, false)
	case nameClass[c]&nbStart != 0 && len(s.open) < s.lim.MaxDepth:
		s.nattr = 0
		return s.fastStartTag(b, i+1, false)
	}
	return 0, false
}

// fastText skips the character data at b[i:] up to the '<' that ends it and
// returns that index and true. It returns false and the index it reached on
// anything it leaves to stepText: the end of b, a reference it does not
// accept, "]]>", a control character, or a multi-byte sequence that is
// incomplete or invalid. It is skipText and the reference checks in one
// loop, for text that is complete in the buffer.
func fastText(b []byte, i int) (int, bool) {
	start, n := i, len(b)
	for {
		var m uint64
		for n-i >= 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			if m = textStops(w); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if m == 0 && i == n {
			return i, false
		}
		switch c := b[i]; {
		case c == '<':
			return i, true
		case c >= 0x80:
			if i = skipMulti(b, i); i == n || b[i] >= 0x80 {
				return i, false
			}
		case c == '&':
			k := 0
			if n-i >= 8 {
				k = wordRefLen(binary.LittleEndian.Uint64(b[i:]))
			}
			if k == 0 {
				if k = charRefLen(b[i:]); k == 0 {
					return i, false
				}
			}
			i += k
		case c == '>':
			// The text starts at a token boundary: brackets before
			// start belong to markup, not to a "]]>".
			if i-start >= 2 && b[i-1] == ']' && b[i-2] == ']' {
				return i, false
			}
			i++
		case c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			return i, false
		}
	}
}

// fastStartTag tries to scan the whole start tag whose name begins at start
// (just after '<'). On success it has set the scanner's tag fields, s.pos
// and s.tk, and returns rToken (or finishStart's error) and true. With
// quiet, for a tag inside a stanza that nobody will see, it may leave s.tk
// unset.
func (s *Scanner) fastStartTag(b []byte, start int, quiet bool) (uint8, bool) {
	ts := s.tokenState // one load for the attribute loop, not one per access
	n := len(b)
	i := start
	// The element name: an ASCII QName.
	if i >= n || nameClass[b[i]]&nbStart == 0 {
		return s.giveUp(start, i)
	}
	for i++; i < n && nameClass[b[i]]&nbChar != 0; i++ {
	}
	ecolon := 0
	if i < n && b[i] == ':' {
		ecolon = i - start
		if i++; i >= n || nameClass[b[i]]&nbStart == 0 {
			return s.giveUp(start, i)
		}
		for i++; i < n && nameClass[b[i]]&nbChar != 0; i++ {
		}
	}
	e1 := i
	if e1-start > s.lim.MaxNameLen {
		return s.giveUp(start, i)
	}
	// ns is set when a prefix or a prefix declaration needs the general
	// namespace processing; decl is the index of an xmlns attribute.
	ns := ecolon > 0
	decl := -1
	nattr := 0
	self := false
	for {
		sp := i
		for i < n && b[i] <= ' ' && isSpace(b[i]) {
			i++
		}
		if i >= n {
			return s.giveUp(start, i)
		}
		c := b[i]
		if c == '>' {
			i++
			break
		}
		if c == '/' {
			if i+1 < n && b[i+1] == '>' {
				self = true
				i += 2
				break
			}
			return s.giveUp(start, i)
		}
		// An attribute, after whitespace: an ASCII QName, '=', a quoted
		// value with no character the fast path does not accept.
		if i == sp || nattr >= s.lim.MaxAttrs || nameClass[c]&nbStart == 0 {
			return s.giveUp(start, i)
		}
		a0 := i
		for i++; i < n && nameClass[b[i]]&nbChar != 0; i++ {
		}
		acolon := 0
		if i < n && b[i] == ':' {
			acolon = i - a0
			if i++; i >= n || nameClass[b[i]]&nbStart == 0 {
				return s.giveUp(start, i)
			}
			for i++; i < n && nameClass[b[i]]&nbChar != 0; i++ {
			}
			ns = true
		}
		a1 := i
		if a1-a0 > s.lim.MaxNameLen {
			return s.giveUp(start, i)
		}
		if c == 'x' && a1-a0 == 5 && acolon == 0 && string(b[a0:a1]) == "xmlns" {
			decl = nattr
		}
		if i < n && b[i] != '=' {
			for i < n && b[i] <= ' ' && isSpace(b[i]) {
				i++
			}
			if i >= n || b[i] != '=' {
				return s.giveUp(start, i)
			}
		}
		for i++; i < n && b[i] <= ' ' && isSpace(b[i]); i++ {
		}
		if i >= n || (b[i] != '"' && b[i] != '\'') {
			return s.giveUp(start, i)
		}
		q := b[i]
		qa, qm := uint64(0x27*ones), uint64(0x01*ones)
		if q == '"' {
			qa, qm = 0x26*ones, 0x04*ones
		}
		i++
		v0 := i
		amp := false
	value:
		for {
			// skipAttr inline: words of plain ASCII, then one decision.
			if n-i >= 8 {
				if m := attrStops(binary.LittleEndian.Uint64(b[i:]), qa, qm); m == 0 {
					i += 8
					continue
				} else {
					i += bits.TrailingZeros64(m) >> 3
				}
			} else if i >= n {
				return s.giveUp(start, i)
			}
			switch c := b[i]; {
			case c == q:
				break value
			case c == '&':
				k := 0
				if n-i >= 8 {
					k = wordRefLen(binary.LittleEndian.Uint64(b[i:]))
				}
				if k == 0 {
					if k = charRefLen(b[i:]); k == 0 {
						return s.giveUp(start, i)
					}
				}
				amp = true
				i += k
			case c >= 0x80:
				if i = skipMulti(b, i); i == n || b[i] >= 0x80 {
					return s.giveUp(start, i)
				}
			case attrClass[c] == clPlain || attrClass[c] == clQuote:
				i++ // tab, line end, the other quote, or the tail of b
			default:
				return s.giveUp(start, i) // '<' or a control character
			}
		}
		if nattr == len(ts.attrs) {
			ts.attrs = append(ts.attrs, attrRec{})
		}
		a := &ts.attrs[nattr]
		a.n0, a.colon, a.n1, a.v0, a.v1 = a0, acolon, a1, v0, i
		a.spOff, a.spLen, a.amp, a.decl = 0, 0, amp, false
		nattr++
		i++
	}
	ts.nattr = nattr
	if ns || !s.inStanza || decl >= 0 && !s.plainDefault(b, decl) {
		// Prefixes or their declarations, a default namespace
		// declaration that needs decoding or checking, or the stream
		// header, whose name goes to the arena: the general path.
		s.elem0, s.elemColon, s.elem1 = start, ecolon, e1
		s.pos = i
		return s.finishStart(b, self), true
	}
	// No prefixes: the element is in the default namespace (its own
	// declaration's, if any), its attributes in none, and only a repeated
	// name makes a duplicate, which the state machine will report.
	if nattr > 1 {
		attrs := ts.attrs[:nattr]
		for j := 1; j < len(attrs); j++ {
			aj := &attrs[j]
			for k := range attrs[:j] {
				ak := &attrs[k]
				if ak.n1-ak.n0 == aj.n1-aj.n0 && string(b[ak.n0:ak.n1]) == string(b[aj.n0:aj.n1]) {
					return s.giveUp(start, i)
				}
			}
		}
	}
	s.pos = i
	depth := len(s.open)
	arenaMark := len(s.arena)
	spOff, spLen := s.defOff, s.defLen
	if decl >= 0 {
		// The declaration's namespace name goes to the arena: the
		// scope outlives the bytes when the caller shifts.
		a := &ts.attrs[decl]
		a.decl = true
		a.spOff, a.spLen = s.xmlnsSpOff, int32(len(nsXMLNS))
		s.arena = append(s.arena, b[a.v0:a.v1]...)
		spOff, spLen = int32(arenaMark), int32(a.v1-a.v0)
	}
	if !quiet {
		ts.tk = pending{
			kind: StartTag, depth: depth, self: self,
			stanza: self && depth == s.stanzaAt,
			n0:     start, n1: e1,
			spOff: spOff, spLen: spLen,
			end: i,
		}
	}
	if self {
		// The declaration's scope ends with the element; its bytes stay
		// in the arena's spare capacity until the next push, so Space
		// remains readable until the next call.
		s.arena = s.arena[:arenaMark]
		s.afterElement(depth)
		return rToken, true
	}
	s.open = append(s.open, openElem{
		nameOff: start, nameLen: e1 - start, inBuf: true,
		spOff: spOff, spLen: spLen,
		arenaMark: int32(arenaMark), bindMark: int32(len(s.binds)),
		prevDefOff: s.defOff, prevDefLen: s.defLen,
	})
	s.defOff, s.defLen = spOff, spLen
	if depth == s.stanzaAt {
		s.elem0, s.elemColon, s.elem1 = start, 0, e1
		s.saveTop(b, spOff, spLen)
	}
	s.state = stContent
	return rToken, true
}

// plainDefault reports whether attribute k, an xmlns declaration, binds the
// default namespace to a name that needs neither decoding nor a check
// against the reserved names: the fast path binds it itself.
func (s *Scanner) plainDefault(b []byte, k int) bool {
	a := &s.attrs[k]
	n := a.v1 - a.v0
	return !a.amp && n != len(nsXML) && n != len(nsXMLNS)
}

// fastEndTag tries to scan the whole end tag whose name begins at i (just
// after "</"). It compares the bytes with the open element's name directly:
// a well-formed end tag has no other name. With quiet it sets s.tk only
// for the end tag of a stanza.
func (s *Scanner) fastEndTag(b []byte, i int, quiet bool) (uint8, bool) {
	depth := len(s.open) - 1
	top := &s.open[depth]
	j := i + top.nameLen
	if !top.inBuf || j >= len(b) || !equalAt(b, i, top.nameOff, top.nameLen) {
		return s.giveUp(i, i)
	}
	for b[j] != '>' {
		if !isSpace(b[j]) {
			return s.giveUp(i, j)
		}
		if j++; j == len(b) {
			return s.giveUp(i, j)
		}
	}
	s.pos = j + 1
	if stanza := depth == s.stanzaAt; !quiet || stanza {
		s.tk = pending{
			kind: EndTag, depth: depth, stanza: stanza,
			n0: i, colon: top.colon, n1: i + top.nameLen,
			spOff: top.spOff, spLen: top.spLen,
			end: j + 1,
		}
	}
	s.popElem(top)
	s.afterElement(depth)
	return rToken, true
}

// equalAt reports whether b[i:i+n] equals b[j:j+n], for j < i and i+n <=
// len(b); names of up to eight bytes are compared as one word.
func equalAt(b []byte, i, j, n int) bool {
	if n <= 8 && len(b)-i >= 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ binary.LittleEndian.Uint64(b[j:])
		return x<<(64-8*n) == 0
	}
	return string(b[i:i+n]) == string(b[j:j+n])
}

// giveUp abandons a fast path that examined b[start:i], counting that work
// (the state machine examines those bytes again).
func (s *Scanner) giveUp(start, i int) (uint8, bool) {
	s.work += int64(max(i, start) - start)
	return 0, false
}
