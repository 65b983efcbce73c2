package xmlscan

// The stanza-level read: the routing path needs the stream header, whole
// stanzas, whitespace and the stream's end, not the elements inside stanzas.
// NextStanza runs the same state machine as Next, with every rule enforced,
// and only skips building tokens for the events inside a stanza.

// NextStanza scans buf from where the previous call stopped and returns the
// next event at the stream's top level, skipping (after validating) the
// elements, text and CDATA inside stanzas:
//
//   - the stream header, as Next returns it (a StartTag at depth 0, its
//     attributes readable through Attr);
//   - a complete stanza: a StartTag token for the stanza's top element
//     (Depth 1, or 0 when Framed) with StanzaEnd set, Stanza holding the
//     whole stanza's bytes, Raw its start tag, Prefix, Local and Space its
//     name, and its attributes readable through NumAttrs and Attr;
//     SelfClosing tells whether it was written <x/>;
//   - text between stanzas (whitespace keepalives), as Next returns it;
//   - the stream's end (an EndTag with StreamEnd).
//
// The caller's obligations are those of Next: between calls it may only
// append to buf, or drop a prefix of at most Keep() bytes and report it with
// Shift. It returns ErrNeedMore when buf holds no further complete event (a
// partial stanza's state is kept, and its bytes are not scanned again),
// ErrBufferShrunk as Next does, and otherwise an *Error, at the same offset
// as Next would report it. Calls to Next and NextStanza may be mixed.
//
// Call NextStanza on the scanner's goroutine. It does not allocate once the
// scanner's buffers have grown to the stream's needs.
func (s *Scanner) NextStanza(buf []byte) (Token, error) {
	var t Token
	if s.err != nil {
		return t, s.err
	}
	if s.pos > len(buf) {
		return t, ErrBufferShrunk
	}
	s.wake()
	s.shown = 0
	for {
		switch s.advance(buf) {
		case rToken:
		case rMore:
			return t, ErrNeedMore
		default:
			return t, s.err
		}
		tk := &s.tk
		switch {
		case tk.stanza && !tk.self:
			s.fillStanza(buf, &t)
			return t, nil
		case tk.stanza || !s.inStanza:
			s.fill(buf, &t)
			return t, nil
		}
		// An event inside a stanza: validated, nothing to report.
		s.tok = tk.end
		if s.state == stContent && s.inStanza {
			switch s.stanzaLoop(buf) {
			case rToken:
				s.fillStanza(buf, &t)
				return t, nil
			case rErr:
				return t, s.err
			}
		}
	}
}

// stanzaLoop scans the tokens of the open stanza that follow s.pos, as long
// as they are complete in buf and the fast paths accept them, without
// building tokens for them. It returns rToken when an end tag completes the
// stanza (s.tk describes it), or rNext at a token boundary (s.tok == s.pos,
// state stContent) from which the state machine takes over: at the end of
// the input, or at anything the fast paths leave to it (errors included),
// so every verdict and offset still comes from the state machine.
func (s *Scanner) stanzaLoop(buf []byte) uint8 {
	b := buf
	if len(buf)-s.stz > s.lim.MaxStanzaBytes {
		b = buf[:s.stz+s.lim.MaxStanzaBytes]
	}
	start := s.pos
	for {
		// fastToken inline: text needs no token here.
		i := s.pos
		if i+1 >= len(b) {
			break
		}
		var r uint8
		var ok bool
		switch c := b[i+1]; {
		case b[i] != '<':
			var j int
			if j, ok = fastText(b, i); ok {
				s.pos, s.tok = j, j
				continue
			}
			s.work += int64(j - i) // examined again by stepText
		case c == '/':
			r, ok = s.fastEndTag(b, i+2, true)
		case nameClass[c]&nbStart != 0 && len(s.open) < s.lim.MaxDepth:
			s.nattr = 0
			r, ok = s.fastStartTag(b, i+1, true)
		}
		if !ok {
			break
		}
		if r == rErr {
			// A namespace or attribute error found by finishStart,
			// which the state machine shares.
			return rErr
		}
		s.tok = s.pos
		if len(s.open) == s.stanzaAt {
			// The stanza's end tag: fastEndTag described it in s.tk.
			s.work += int64(s.pos - start)
			return rToken
		}
	}
	s.work += int64(s.pos - start)
	return rNext
}

// fillStanza writes the stanza that the end tag in s.tk completes, described
// by its saved start tag, into *t.
func (s *Scanner) fillStanza(buf []byte, t *Token) {
	tp := &s.top
	n0 := s.stz + 1
	t.Kind = StartTag
	t.Depth = s.stanzaAt
	t.SelfClosing = false
	t.StanzaEnd = true
	t.StreamEnd = false
	t.Prefix, t.Space = nil, nil
	if tp.colon > 0 {
		t.Prefix = buf[n0 : n0+tp.colon]
		t.Local = buf[n0+tp.colon+1 : n0+tp.nameLen]
	} else {
		t.Local = buf[n0 : n0+tp.nameLen]
	}
	if tp.spLen > 0 {
		t.Space = s.arena[tp.spOff : tp.spOff+tp.spLen : tp.spOff+tp.spLen]
	}
	t.Raw = buf[s.stz : s.stz+len(tp.tag)]
	t.Stanza = buf[s.stz:s.tk.end]
	t.Start = s.stz
	s.shown = tp.nattr
	s.shownTop = true
	s.inStanza = false
	s.tok = s.tk.end
}
