package xmlscan

// Start and end tags. A start tag is scanned as a sequence of resumable
// states (name, space, attribute name, '=', quote, value, '/'), so a tag split
// anywhere continues where it stopped. Attribute positions are recorded as
// indexes; namespace processing runs once, when the tag is complete.

// scanName continues the qualified name that starts at s.nameStart from index
// i. It returns the index after the name and rNext, the index to resume at
// and rMore, or rErr. The name ends at the first byte that cannot continue
// it; the caller judges that byte.
func (s *Scanner) scanName(b []byte, i int) (int, uint8) {
	limit := s.nameStart + s.lim.MaxNameLen // the name must end at or before limit
	for i < len(b) {
		c := b[i]
		cl := nameClass[c]
		atStart := i == s.nameStart || (s.colon > 0 && i == s.nameStart+s.colon+1)
		switch {
		case atStart && cl&nbStart != 0:
			// fall through to the common advance below
		case atStart && cl&nbMulti == 0:
			if i == s.nameStart {
				return i, s.fail(NotWellFormed, i, msgBadNameStart)
			}
			return i, s.fail(NotWellFormed, s.nameStart, msgBadQName) // empty local part
		case cl&nbMulti != 0:
			r, n, st := decodeChar(b[i:])
			switch st {
			case mbIncomplete:
				if len(b)-s.nameStart >= s.lim.MaxNameLen {
					return i, s.fail(PolicyViolation, limit, msgNameLen)
				}
				return i, rMore
			case mbBadUTF8:
				return i, s.fail(NotWellFormed, i, msgBadUTF8)
			}
			ok := isNameRune(r)
			if atStart {
				ok = isNameStartRune(r)
			}
			if !ok {
				if atStart {
					return i, s.fail(NotWellFormed, i, msgBadNameStart)
				}
				return i, s.fail(NotWellFormed, i, msgBadNameChar)
			}
			if i+n > limit {
				return i, s.fail(PolicyViolation, limit, msgNameLen)
			}
			i += n
			continue
		case c == ':':
			if s.colon > 0 {
				return i, s.fail(NotWellFormed, s.nameStart, msgBadQName)
			}
			if i >= limit {
				return i, s.fail(PolicyViolation, limit, msgNameLen)
			}
			s.colon = i - s.nameStart
			i++
			continue
		case cl&nbChar == 0:
			return i, rNext
		}
		// An ASCII name byte: take the run of them.
		if i >= limit {
			return i, s.fail(PolicyViolation, limit, msgNameLen)
		}
		i++
		end := min(len(b), limit)
		for i < end && nameClass[b[i]]&nbChar != 0 {
			i++
		}
	}
	return i, rMore
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
		for i < len(b) && attrClass[b[i]] == clPlain {
			i++
		}
		if i == len(b) {
			return i, rMore
		}
		c := b[i]
		switch attrClass[c] {
		case clQuote:
			if c != s.quote {
				i++
				continue
			}
			a := &s.attrs[s.nattr]
			a.v1 = i
			s.nattr++
			s.sawSpace = false
			s.state = stTagSpace
			return i + 1, rNext
		case clAmp:
			s.attrs[s.nattr].amp = true
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
			_, n, st := decodeChar(b[i:])
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
	return s.finishEnd(b)
}

// finishEnd matches the end tag against the open element and pops it.
func (s *Scanner) finishEnd(b []byte) uint8 {
	top := s.open[len(s.open)-1]
	if string(b[s.elem0:s.elem1]) != string(s.arena[top.nameOff:top.nameOff+top.nameLen]) {
		return s.fail(NotWellFormed, s.tok, msgMismatch)
	}
	s.popElem()
	depth := len(s.open)
	s.tk = pending{
		kind:   EndTag,
		depth:  depth,
		stanza: depth == s.stanzaAt,
		n0:     s.elem0, colon: s.elemColon, n1: s.elem1,
		spOff: top.spOff, spLen: top.spLen,
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
