package xmlscan

// Character data, CDATA sections and references.
//
// The loops skip runs of ordinary ASCII with one table lookup per byte and
// stop only on bytes that need a decision. A reference is validated by a
// small resumable state machine (refPhase) so that even a reference split
// across many reads, or padded with leading zeros, is examined once.

// stepText scans character data from s.pos. Inside a stanza it returns the
// text as one token when the next '<' arrives; outside stanzas (whitespace
// keepalives between stanzas) it hands out what it has as soon as the input
// runs out, so the caller sees keepalives without waiting for the next stanza.
func (s *Scanner) stepText(b []byte) uint8 {
	i := s.pos
	if s.state == stTextRef {
		j, r := s.scanRef(b, i)
		if r != rNext {
			s.pos = j
			if r == rErr {
				return s.textFail(s.refStart)
			}
			if !s.inStanza && s.refStart > s.tok {
				return s.emitPartialText(s.refStart)
			}
			return r
		}
		i = j
		s.rb = 0
		s.state = stText
	}
	for {
		start := i
		i = skipText(b, i)
		if i > start {
			s.rb = brackets(b, start, i, s.rb)
		}
		if i == len(b) {
			break
		}
		switch textClass[b[i]] {
		case clLT:
			s.pos = i
			s.state = stContent
			if i == s.tok {
				// Everything before the '<' was handed out already.
				return rNext
			}
			s.tk = pending{kind: Text, depth: s.textDepth(), end: i}
			return rToken
		case clAmp:
			s.rb = 0
			if n := refLen(b[i:]); n > 0 {
				i += n
				continue
			}
			s.refStart = i
			s.refPhase = refAmp
			j, r := s.scanRef(b, i+1)
			if r != rNext {
				s.pos = j
				s.state = stTextRef
				if r == rErr {
					return s.textFail(s.refStart)
				}
				if !s.inStanza && s.refStart > s.tok {
					return s.emitPartialText(s.refStart)
				}
				return r
			}
			i = j
			s.rb = 0
		case clGT:
			if s.rb >= 2 {
				s.fail(NotWellFormed, i-2, msgCDATAEnd)
				return s.textFail(i)
			}
			s.rb = 0
			i++
		case clCtl:
			s.fail(NotWellFormed, i, msgBadChar)
			return s.textFail(i)
		default: // clNonASCI
			n, st := decodeChar(b[i:])
			switch st {
			case mbIncomplete:
				// Resume at the lead byte: at most three bytes are
				// examined again.
				s.pos = i
				if !s.inStanza && i > s.tok {
					return s.emitPartialText(i)
				}
				return rMore
			case mbBadUTF8:
				s.fail(NotWellFormed, i, msgBadUTF8)
				return s.textFail(i)
			case mbBadChar:
				s.fail(NotWellFormed, i, msgBadChar)
				return s.textFail(i)
			}
			i += n
			s.rb = 0
		}
	}
	s.pos = i
	if !s.inStanza && i > s.tok {
		return s.emitPartialText(i)
	}
	return rMore
}

// textFail follows s.fail for an error at the construct starting at x in
// character data. Outside stanzas, text is handed out as it arrives, so
// whether the valid text before an error had already been handed out would
// depend on how the bytes were split. To keep tokens independent of
// chunking, that text is always handed out first: the error is withdrawn
// for now, and found again at x on the next call.
func (s *Scanner) textFail(x int) uint8 {
	if s.inStanza || x <= s.tok {
		return rErr
	}
	s.err = nil
	s.pos = x
	s.state = stText
	s.refPhase = 0
	return s.emitPartialText(x)
}

// emitPartialText returns the text [s.tok, end) as a token while scanning
// resumes at s.pos (end < s.pos when a reference is still open).
func (s *Scanner) emitPartialText(end int) uint8 {
	s.tk = pending{kind: Text, depth: s.textDepth(), end: end}
	return rToken
}

// stepCDATA scans a CDATA section's content until "]]>".
func (s *Scanner) stepCDATA(b []byte) uint8 {
	i := s.pos
	for {
		start := i
		for i < len(b) && cdataClass[b[i]] == clPlain {
			i++
		}
		if i > start {
			s.rb = 0
		}
		if i == len(b) {
			s.pos = i
			return rMore
		}
		switch cdataClass[b[i]] {
		case clRBrack:
			if s.rb < 2 {
				s.rb++
			}
			i++
		case clGT:
			if s.rb >= 2 {
				s.pos = i + 1
				s.state = stContent
				s.tk = pending{kind: CDATA, depth: s.textDepth(), end: i + 1}
				return rToken
			}
			s.rb = 0
			i++
		case clCtl:
			return s.fail(NotWellFormed, i, msgBadChar)
		default: // clNonASCI
			n, st := decodeChar(b[i:])
			switch st {
			case mbIncomplete:
				s.pos = i
				return rMore
			case mbBadUTF8:
				return s.fail(NotWellFormed, i, msgBadUTF8)
			case mbBadChar:
				return s.fail(NotWellFormed, i, msgBadChar)
			}
			i += n
			s.rb = 0
		}
	}
}

// Reference phases.
const (
	refAmp    = 1 // after '&'
	refHash   = 2 // after "&#"
	refDec    = 3 // in decimal digits
	refX      = 4 // after "&#x"
	refHex    = 5 // in hex digits
	refEntity = 6 // in an entity name
)

// maxCharRef is above every Unicode code point; values saturate there so
// that long digit strings cannot overflow.
const maxCharRef = 0x110000

// scanRef continues the reference that starts at s.refStart, from index i.
// It returns the index after the reference and rNext when the reference is
// complete and valid, the index to resume at and rMore when input ran out,
// or rErr.
func (s *Scanner) scanRef(b []byte, i int) (int, uint8) {
	for ; i < len(b); i++ {
		c := b[i]
		switch s.refPhase {
		case refAmp:
			switch {
			case c == '#':
				s.refPhase = refHash
			case nameClass[c]&(nbStart|nbMulti) != 0 || c == ':':
				s.refPhase = refEntity
				if !isPredefinedPrefix(b[s.refStart+1 : i+1]) {
					return i, s.fail(RestrictedXML, s.refStart, msgUndefinedEntity)
				}
			default:
				return i, s.fail(NotWellFormed, s.refStart, msgMalformedRef)
			}
		case refHash:
			switch {
			case c == 'x':
				s.refPhase = refX
				s.refVal = 0
			case c >= '0' && c <= '9':
				s.refPhase = refDec
				s.refVal = uint32(c - '0')
			default:
				return i, s.fail(NotWellFormed, s.refStart, msgMalformedRef)
			}
		case refDec:
			switch {
			case c >= '0' && c <= '9':
				s.refVal = min(s.refVal*10+uint32(c-'0'), maxCharRef)
			case c == ';':
				return s.endCharRef(i)
			default:
				return i, s.fail(NotWellFormed, s.refStart, msgMalformedRef)
			}
		case refX, refHex:
			d := hexVal(c)
			switch {
			case d >= 0:
				s.refVal = min(s.refVal*16+uint32(d), maxCharRef)
				s.refPhase = refHex
			case c == ';' && s.refPhase == refHex:
				return s.endCharRef(i)
			default:
				return i, s.fail(NotWellFormed, s.refStart, msgMalformedRef)
			}
		case refEntity:
			switch {
			case c == ';':
				if predefinedEntity(b[s.refStart+1:i]) == 0 {
					// A complete reference to a name that is not
					// predefined (a prefix such as "am").
					return i, s.fail(RestrictedXML, s.refStart, msgUndefinedEntity)
				}
				s.refPhase = 0
				return i + 1, rNext
			case nameClass[c]&(nbChar|nbMulti) != 0 || c == ':':
				if !isPredefinedPrefix(b[s.refStart+1 : i+1]) {
					return i, s.fail(RestrictedXML, s.refStart, msgUndefinedEntity)
				}
			default:
				return i, s.fail(NotWellFormed, s.refStart, msgMalformedRef)
			}
		}
	}
	return i, rMore
}

func (s *Scanner) endCharRef(i int) (int, uint8) {
	if s.refVal >= 0xD800 && s.refVal <= 0xDFFF {
		return i, s.fail(NotWellFormed, s.refStart, msgSurrogateRef)
	}
	if s.refVal >= maxCharRef || !isChar(rune(s.refVal)) {
		return i, s.fail(NotWellFormed, s.refStart, msgBadCharRef)
	}
	s.refPhase = 0
	return i + 1, rNext
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	default:
		return -1
	}
}

// isPredefinedPrefix reports whether name is a prefix of one of the five
// predefined entity names.
func isPredefinedPrefix(name []byte) bool {
	switch string(name) {
	case "a", "am", "amp", "ap", "apo", "apos", "l", "lt", "g", "gt", "q", "qu", "quo", "quot":
		return true
	}
	return false
}

// brackets returns how many of the bytes just before i are ']' (at most
// two: enough to recognise "]]>"), for a run of character data [start, i)
// that follows prev such brackets.
func brackets(b []byte, start, i int, prev uint8) uint8 {
	switch {
	case b[i-1] != ']':
		return 0
	case i-start >= 2:
		if b[i-2] == ']' {
			return 2
		}
		return 1
	default:
		return min(prev+1, 2)
	}
}

// refLen returns the length of the complete, valid reference at b[0] ==
// '&' (predefined entity or character reference), or 0: the caller then
// runs the resumable reference scanner, which also finds the errors.
func refLen(b []byte) int {
	if n := predefinedLen(b); n > 0 {
		return n
	}
	return charRefLen(b)
}

// charRefLen returns the length of the complete character reference at
// b[0] == '&' ("&#65;", "&#x41;") when it names an XML Char, else 0.
func charRefLen(b []byte) int {
	if len(b) < 4 || b[1] != '#' {
		return 0
	}
	i, base := 2, uint32(10)
	if b[2] == 'x' {
		i, base = 3, 16
	}
	d0 := i
	v := uint32(0)
	for ; i < len(b); i++ {
		d := hexVal(b[i])
		if d < 0 || uint32(d) >= base {
			break
		}
		v = min(v*base+uint32(d), maxCharRef)
	}
	if i == d0 || i == len(b) || b[i] != ';' || (v >= 0xD800 && v <= 0xDFFF) || v >= maxCharRef || !isChar(rune(v)) {
		return 0
	}
	return i + 1
}

// predefinedLen returns the length of the predefined entity reference at
// b[0] == '&' when it is complete in b, else 0 (the caller then runs the
// resumable state machine, which also handles character references).
func predefinedLen(b []byte) int {
	if len(b) < 6 {
		return 0
	}
	switch b[1] {
	case 'a':
		if b[2] == 'm' && b[3] == 'p' && b[4] == ';' {
			return 5
		}
		if b[2] == 'p' && b[3] == 'o' && b[4] == 's' && b[5] == ';' {
			return 6
		}
	case 'l', 'g':
		if b[2] == 't' && b[3] == ';' {
			return 4
		}
	case 'q':
		if b[2] == 'u' && b[3] == 'o' && b[4] == 't' && b[5] == ';' {
			return 6
		}
	}
	return 0
}

// predefinedEntity returns the character a predefined entity name stands
// for, or 0.
func predefinedEntity(name []byte) byte {
	switch string(name) {
	case "amp":
		return '&'
	case "lt":
		return '<'
	case "gt":
		return '>'
	case "quot":
		return '"'
	case "apos":
		return '\''
	}
	return 0
}
