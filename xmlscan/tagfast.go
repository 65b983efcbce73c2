package xmlscan

// Single-pass fast paths for tags that are complete in the buffer.
//
// Most tags arrive whole and are plain: ASCII names, values without
// character references. For those, one straight pass with local variables
// beats the resumable state machine, which saves its state at every step.
// The fast path only ever accepts: on anything it does not handle (the end
// of the buffer, a non-ASCII name, a character reference, an error of any
// kind, a limit), it gives up without side effects and the state machine
// scans the tag from its start. A tag is therefore examined at most twice,
// and every verdict, error and offset comes from the state machine. The
// chunking tests hold the two paths to identical results: a single feed
// takes the fast path, a byte-at-a-time feed the state machine.

// fastName scans an ASCII qualified name from i and returns the index after
// it and its colon position relative to i (0 if none), or ok false.
func fastName(b []byte, i int) (end, colon int, ok bool) {
	n0 := i
	if i >= len(b) || nameClass[b[i]]&nbStart == 0 {
		return 0, 0, false
	}
	for i++; i < len(b) && nameClass[b[i]]&nbChar != 0; i++ {
	}
	if i < len(b) && b[i] == ':' {
		colon = i - n0
		i++
		if i >= len(b) || nameClass[b[i]]&nbStart == 0 {
			return 0, 0, false
		}
		for i++; i < len(b) && nameClass[b[i]]&nbChar != 0; i++ {
		}
	}
	// The name must end at a byte that cannot continue any name.
	if i >= len(b) || nameClass[b[i]]&nbMulti != 0 || b[i] == ':' {
		return 0, 0, false
	}
	return i, colon, true
}

// fastStartTag tries to scan the whole start tag whose name begins at i
// (just after '<'). On success it has set the scanner's tag fields and
// s.pos and returns finishStart's result and true.
func (s *Scanner) fastStartTag(b []byte, i int) (uint8, bool) {
	start := i
	e1, ecolon, ok := fastName(b, i)
	if !ok || e1-i > s.lim.MaxNameLen {
		return s.giveUp(start, i)
	}
	i = e1
	nattr := 0
	self := false
	for {
		sp := i
		for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return s.giveUp(start, i)
		}
		c := b[i]
		if c == '>' {
			i++
			break
		}
		if c == '/' {
			if i+1 < len(b) && b[i+1] == '>' {
				self = true
				i += 2
				break
			}
			return s.giveUp(start, i)
		}
		if i == sp || nattr >= s.lim.MaxAttrs {
			return s.giveUp(start, i)
		}
		a0 := i
		a1, acolon, ok := fastName(b, i)
		if !ok || a1-a0 > s.lim.MaxNameLen {
			return s.giveUp(start, i)
		}
		i = a1
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) || b[i] != '=' {
			return s.giveUp(start, i)
		}
		i++
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) || (b[i] != '"' && b[i] != '\'') {
			return s.giveUp(start, i)
		}
		q := b[i]
		i++
		v0 := i
		amp := false
		for {
			i = skipAttr(b, i)
			if i >= len(b) {
				return s.giveUp(start, i)
			}
			c := b[i]
			if c == q {
				break
			}
			if c == '"' || c == '\'' {
				i++
				continue
			}
			if c == '&' {
				if k := predefinedLen(b[i:]); k > 0 {
					amp = true
					i += k
					continue
				}
			}
			return s.giveUp(start, i)
		}
		if nattr == len(s.attrs) {
			s.attrs = append(s.attrs, attrRec{})
		}
		s.attrs[nattr] = attrRec{n0: a0, colon: acolon, n1: a1, v0: v0, v1: i, amp: amp}
		nattr++
		i++
	}
	s.elem0, s.elemColon, s.elem1 = start, ecolon, e1
	s.nattr = nattr
	s.pos = i
	return s.finishStart(b, self), true
}

// fastEndTag tries to scan the whole end tag whose name begins at i (just
// after "</"). It compares the bytes with the open element's name directly:
// a well-formed end tag has no other name.
func (s *Scanner) fastEndTag(b []byte, i int) (uint8, bool) {
	top := &s.open[len(s.open)-1]
	j := i + top.nameLen
	if !top.inBuf || j >= len(b) || string(b[i:j]) != string(b[top.nameOff:top.nameOff+top.nameLen]) {
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
	s.elem0, s.elemColon, s.elem1 = i, top.colon, i+top.nameLen
	s.pos = j + 1
	return s.finishEnd(b, true), true
}

// giveUp abandons a fast path that examined b[start:i], counting that work
// (the state machine examines those bytes again).
func (s *Scanner) giveUp(start, i int) (uint8, bool) {
	s.work += int64(max(i, start) - start)
	return 0, false
}
