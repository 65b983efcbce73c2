package xmlscan

// Start and end tags. A start tag is scanned as a sequence of resumable
// states (name, space, attribute name, '=', quote, value, '/'), so a tag split
// anywhere continues where it stopped. Attribute positions are recorded as
// indexes; namespace processing runs once, when the tag is complete.

// scanName continues the qualified name that starts at s.nameStart from index
// i. It returns the index after the name and rNext, the index to resume at
// and rMore, or rErr. The name ends at the first byte that cannot continue
// it; the caller judges that byte. A name longer than MaxNameLen fails at
// the offset MaxNameLen bytes into it, however the bytes were split.
func (s *Scanner) scanName(b []byte, i int) (int, uint8) {
	limit := s.nameStart + s.lim.MaxNameLen // the name must end at or before limit
	end := min(len(b), limit)
	for {
		if i == s.nameStart || (s.colon > 0 && i == s.nameStart+s.colon+1) {
			// A NameStartChar must come first, and after the colon.
			if i == len(b) {
				return i, rMore
			}
			c := b[i]
			cl := nameClass[c]
			switch {
			case cl&nbStart != 0:
				if i >= limit {
					return i, s.fail(PolicyViolation, limit, msgNameLen)
				}
				i++
			case cl&nbMulti != 0:
				j, r := s.nameRune(b, i, limit, true)
				if r != rNext {
					return j, r
				}
				i = j
			case i == s.nameStart && c != ':':
				return i, s.fail(NotWellFormed, i, msgBadNameStart)
			default:
				// A colon first, or nothing valid after the colon:
				// an XML Name perhaps, but not a QName.
				return i, s.fail(NotWellFormed, s.nameStart, msgBadQName)
			}
		}
		for i < end && nameClass[b[i]]&nbChar != 0 {
			i++
		}
		if i == len(b) {
			return i, rMore
		}
		c := b[i]
		cl := nameClass[c]
		switch {
		case cl&nbChar != 0: // at the limit and the name goes on
			return i, s.fail(PolicyViolation, limit, msgNameLen)
		case c == ':':
			if s.colon > 0 {
				return i, s.fail(NotWellFormed, s.nameStart, msgBadQName)
			}
			if i >= limit {
				return i, s.fail(PolicyViolation, limit, msgNameLen)
			}
			s.colon = i - s.nameStart
			i++
		case cl&nbMulti != 0:
			j, r := s.nameRune(b, i, limit, false)
			if r != rNext {
				return j, r
			}
			i = j
		default:
			return i, rNext
		}
	}
}

// nameRune checks the non-ASCII character at b[i] in a name.
func (s *Scanner) nameRune(b []byte, i, limit int, first bool) (int, uint8) {
	r, n, st := decodeRune(b[i:])
	switch st {
	case mbIncomplete:
		if len(b) >= limit {
			// The character would end past the limit.
			return i, s.fail(PolicyViolation, limit, msgNameLen)
		}
		return i, rMore
	case mbBadUTF8:
		return i, s.fail(NotWellFormed, i, msgBadUTF8)
	}
	if first && !isNameStartRune(r) {
		return i, s.fail(NotWellFormed, i, msgBadNameStart)
	}
	if !first && !isNameRune(r) {
		return i, s.fail(NotWellFormed, i, msgBadNameChar)
	}
	if i+n > limit {
		return i, s.fail(PolicyViolation, limit, msgNameLen)
	}
	return i + n, rNext
}

// stepStartTag continues a start tag from s.pos.
func (s *Scanner) stepStartTag(b []byte) uint8 {
	i := s.pos
	for {
		switch s.state {
		case stElemName:
			j, r := s.scanName(b, i)
			if r != rNext {
				s.pos = j
				return r
			}
			i = j
			s.elem0, s.elemColon, s.elem1 = s.nameStart, s.colon, i
			s.sawSpace = false
			s.state = stTagSpace

		case stTagSpace:
			for i < len(b) && isSpace(b[i]) {
				i++
				s.sawSpace = true
			}
			if i == len(b) {
				s.pos = i
				return rMore
			}
			switch c := b[i]; c {
			case '>':
				s.pos = i + 1
				return s.finishStart(b, false)
			case '/':
				i++
				s.state = stTagSlash
			default:
				if !s.sawSpace {
					if nameClass[c]&(nbStart|nbMulti) != 0 {
						return s.fail(NotWellFormed, i, msgAttrNoSpace)
					}
					return s.fail(NotWellFormed, i, msgExpectGT)
				}
				if s.nattr >= s.lim.MaxAttrs {
					return s.fail(PolicyViolation, i, msgAttrs)
				}
				s.nameStart, s.colon = i, 0
				s.state = stAttrName
			}

		case stAttrName:
			j, r := s.scanName(b, i)
			if r != rNext {
				s.pos = j
				return r
			}
			i = j
			if s.nattr == len(s.attrs) {
				s.attrs = append(s.attrs, attrRec{})
			}
			s.attrs[s.nattr] = attrRec{n0: s.nameStart, colon: s.colon, n1: i}
			s.state = stAttrEq

		case stAttrEq:
			for i < len(b) && isSpace(b[i]) {
				i++
			}
			if i == len(b) {
				s.pos = i
				return rMore
			}
			if b[i] != '=' {
				return s.fail(NotWellFormed, i, msgAttrNoEq)
			}
			i++
			s.state = stAttrQuote

		case stAttrQuote:
			for i < len(b) && isSpace(b[i]) {
				i++
			}
			if i == len(b) {
				s.pos = i
				return rMore
			}
			if c := b[i]; c != '"' && c != '\'' {
				return s.fail(NotWellFormed, i, msgAttrNoQuote)
			}
			s.quote = b[i]
			i++
			s.attrs[s.nattr].v0 = i
			s.state = stAttrValue

		case stAttrRef:
			j, r := s.scanRef(b, i)
			if r != rNext {
				s.pos = j
				return r
			}
			i = j
			s.state = stAttrValue

		case stAttrValue:
			j, r := s.scanAttrValue(b, i)
			if r != rNext {
				s.pos = j
				return r
			}
			i = j

		case stTagSlash:
			if i == len(b) {
				s.pos = i
				return rMore
			}
			if b[i] != '>' {
				return s.fail(NotWellFormed, i, msgExpectGT)
			}
			s.pos = i + 1
			return s.finishStart(b, true)
		}
	}
}

// scanAttrValue scans a quoted value from i up to and including the closing
// quote, or into a reference (switching to stAttrRef).
func (s *Scanner) scanAttrValue(b []byte, i int) (int, uint8) {
	for {
		i = skipAttr(b, i, s.quote)
		if i == len(b) {
			return i, rMore
		}
		c := b[i]
		switch attrClass[c] {
		case clQuote: // s.quote: skipAttr passes the other one
			a := &s.attrs[s.nattr]
			a.v1 = i
			s.nattr++
			s.sawSpace = false
			s.state = stTagSpace
			return i + 1, rNext
		case clAmp:
			s.attrs[s.nattr].amp = true
			if n := refLen(b[i:]); n > 0 {
				i += n
				continue
			}
			s.refStart = i
			s.refPhase = refAmp
			j, r := s.scanRef(b, i+1)
			if r == rMore {
				s.state = stAttrRef
			}
			if r != rNext {
				return j, r
			}
			i = j
		case clLT:
			return i, s.fail(NotWellFormed, i, msgLTInAttr)
		case clCtl:
			return i, s.fail(NotWellFormed, i, msgBadChar)
		default: // clNonASCI
			n, st := decodeChar(b[i:])
			switch st {
			case mbIncomplete:
				return i, rMore
			case mbBadUTF8:
				return i, s.fail(NotWellFormed, i, msgBadUTF8)
			case mbBadChar:
				return i, s.fail(NotWellFormed, i, msgBadChar)
			}
			i += n
		}
	}
}

// stepEndTag continues an end tag from s.pos.
func (s *Scanner) stepEndTag(b []byte) uint8 {
	i := s.pos
	if s.state == stEndName {
		j, r := s.scanName(b, i)
		if r != rNext {
			s.pos = j
			return r
		}
		i = j
		s.elem0, s.elemColon, s.elem1 = s.nameStart, s.colon, i
		s.state = stEndSpace
	}
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) {
		s.pos = i
		return rMore
	}
	if b[i] != '>' {
		return s.fail(NotWellFormed, i, msgExpectGT)
	}
	s.pos = i + 1
	return s.finishEnd(b, false)
}

// finishEnd matches the end tag against the open element (unless the
// caller did) and pops it.
func (s *Scanner) finishEnd(b []byte, matched bool) uint8 {
	top := &s.open[len(s.open)-1]
	name := s.arena
	if top.inBuf {
		name = b
	}
	if !matched && string(b[s.elem0:s.elem1]) != string(name[top.nameOff:top.nameOff+top.nameLen]) {
		return s.fail(NotWellFormed, s.tok, msgMismatch)
	}
	spOff, spLen := top.spOff, top.spLen
	s.popElem(top)
	depth := len(s.open)
	s.tk = pending{
		kind:   EndTag,
		depth:  depth,
		stanza: depth == s.stanzaAt,
		n0:     s.elem0, colon: s.elemColon, n1: s.elem1,
		spOff: spOff, spLen: spLen,
		end: s.pos,
	}
	s.afterElement(depth)
	return rToken
}

// afterElement sets the state after an element at depth closed.
func (s *Scanner) afterElement(depth int) {
	switch {
	case depth > 0:
		s.state = stContent
	case s.lim.Framed:
		s.state = stMisc
	default:
		s.tk.stream = true
		s.state = stEpilog
	}
}
