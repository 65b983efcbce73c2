package xmlscan

// Compact releases the spare capacity of the scanner's buffers, keeping
// exactly what the open elements and a partly scanned token need: the
// arena's live namespace bindings and element names, the open-element stack,
// and the attributes of an unfinished start tag or stanza start tag. It also
// drops the copies through which Attr reads the last start tag, so it
// invalidates the last token's attributes and Space.
//
// Call it on the scanner's goroutine when a connection goes idle (after
// ErrNeedMore, with no stanza pending). Scanning afterwards is correct at any
// point, but the first stanza after Compact allocates again as the buffers
// regrow.
func (s *Scanner) Compact() {
	if s.tokenState != nil && s.betweenTokens() {
		// Nothing of a token is pending: the next call starts a new one.
		s.tokenState = nil
	}
	if s.tokenState != nil {
		s.compactToken()
	}
	s.open = shrink(s.open, len(s.open))
	s.binds = shrink(s.binds, len(s.binds))
	s.arena = shrink(s.arena, len(s.arena))
}

// betweenTokens reports whether the scanner stopped at a token boundary
// outside any stanza, where its token state is dead.
func (s *Scanner) betweenTokens() bool {
	if s.pos != s.tok || s.inStanza || s.err != nil {
		return false
	}
	switch s.state {
	case stStart, stMisc, stContent, stEpilog, stText:
		return true
	}
	return false
}

// compactToken shrinks the token state of a scanner stopped inside a token or
// a stanza.
func (s *Scanner) compactToken() {
	s.shown = 0
	s.shownTop = false
	s.tag = nil
	need := 0
	if s.inStartTag() {
		// A start tag is being scanned: its complete attributes, and the
		// record of the one in progress if it was begun.
		need = min(s.nattr+1, len(s.attrs))
	} else {
		s.nattr = 0
	}
	s.attrs = shrink(s.attrs, need)
	if s.inStanza && len(s.open) > s.stanzaAt {
		// The stanza's start tag is complete and saved for NextStanza.
		s.top.tag = shrink(s.top.tag, len(s.top.tag))
		s.top.attrs = shrink(s.top.attrs, s.top.nattr)
	} else {
		s.top = stanzaTop{}
	}
}

// shrink returns x[:n] in storage of about n elements (nil for none),
// reallocating only when that saves memory.
func shrink[T any](x []T, n int) []T {
	switch {
	case n == 0:
		return nil
	case cap(x) <= n+n/4:
		return x[:n]
	}
	return append([]T(nil), x[:n]...)
}
