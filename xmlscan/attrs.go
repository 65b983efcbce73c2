package xmlscan

// Attributes of the last start tag. The scanner keeps no reference to the
// caller's buffer between calls (a connection's buffer may be pooled and
// reused, and an idle scanner must not pin it), so the attributes are read
// from a copy of the tag's bytes: the start tag returned by Next or
// NextStanza for an element with attributes is copied into a scanner-owned
// buffer, and a stanza's start tag is copied once when it completes.

// Attr is one attribute of a start tag. Its slices alias scanner-owned
// copies (of the tag's bytes, and the arena for Space): they are valid until
// the next Next, NextStanza, Shift, Reset, Recycle or Compact.
type Attr struct {
	Prefix, Local []byte
	Space         []byte // resolved namespace; empty for unprefixed attributes
	Value         []byte // raw value between the quotes: see Unescape
}

// stanzaTop is the start tag of the stanza being scanned (or the last one),
// saved when the tag completes so that NextStanza can report the stanza's
// name and attributes once its end tag arrives.
type stanzaTop struct {
	attrs   []attrRec // buf indexes as of the save
	tag     []byte    // copy of the start tag
	base    int       // buf index that tag[0] had
	nattr   int
	colon   int // of the name, which starts at tag[1]
	nameLen int
	spOff   int32 // resolved namespace
	spLen   int32
}

// saveTop saves the start tag [s.tok, s.pos) that opens a stanza.
func (s *Scanner) saveTop(b []byte, spOff, spLen int32) {
	t := &s.top
	t.tag = append(t.tag[:0], b[s.tok:s.pos]...)
	t.base = s.tok
	t.attrs = append(t.attrs[:0], s.attrs[:s.nattr]...)
	t.nattr = s.nattr
	t.colon = s.elemColon
	t.nameLen = s.elem1 - s.elem0
	t.spOff, t.spLen = spOff, spLen
	s.tk.top = true
}

// showAttrs makes the attributes of the start tag in s.tk visible through
// Attr, copying the tag's bytes unless it is a stanza's, saved already.
func (s *Scanner) showAttrs(buf []byte, tk *pending) {
	s.shown = s.nattr
	if tk.top {
		s.shownTop = true
		return
	}
	s.shownTop = false
	s.tag = append(s.tag[:0], buf[s.tok:tk.end]...)
	s.tagBase = s.tok
}

// shownView returns where the visible attributes are: their records, the
// copied bytes, and the buf index of the copy's first byte.
func (s *Scanner) shownView() ([]attrRec, []byte, int) {
	if s.shownTop {
		return s.top.attrs[:s.shown], s.top.tag, s.top.base
	}
	return s.attrs[:s.shown], s.tag, s.tagBase
}

// NumAttrs returns the number of attributes of the last token returned by
// Next or NextStanza if it was a StartTag, namespace declarations included,
// else 0. Call it on the scanner's goroutine.
func (s *Scanner) NumAttrs() int {
	if s.tokenState == nil {
		return 0
	}
	return s.shown
}

// Attr returns attribute i (0 <= i < NumAttrs()) of the last StartTag, in
// document order. Namespace declarations are included, as encoding/xml's
// RawToken reports them: xmlns='u' has Local "xmlns" and no Prefix, xmlns:p
// has Prefix "xmlns" and Local "p"; both have the xmlns namespace as Space.
// It returns the zero Attr if i is out of range. Call it on the scanner's
// goroutine.
func (s *Scanner) Attr(i int) Attr {
	if i < 0 || i >= s.NumAttrs() {
		return Attr{}
	}
	attrs, b, base := s.shownView()
	a := &attrs[i]
	n0, n1, v0, v1 := a.n0-base, a.n1-base, a.v0-base, a.v1-base
	at := Attr{Value: b[v0:v1:v1]}
	if a.colon > 0 {
		at.Prefix = b[n0 : n0+a.colon : n0+a.colon]
		at.Local = b[n0+a.colon+1 : n1 : n1]
	} else {
		at.Local = b[n0:n1:n1]
	}
	if a.spLen > 0 {
		at.Space = s.arena[a.spOff : a.spOff+a.spLen : a.spOff+a.spLen]
	}
	return at
}

// AttrValue returns the raw value of the last StartTag's attribute with the
// given namespace name (empty for unprefixed attributes) and local name. It
// does not allocate. Call it on the scanner's goroutine.
func (s *Scanner) AttrValue(space, local string) ([]byte, bool) {
	if s.tokenState == nil {
		return nil, false
	}
	attrs, b, base := s.shownView()
	for k := range attrs {
		a := &attrs[k]
		n0 := a.n0 - base
		if a.colon > 0 {
			n0 += a.colon + 1
		}
		if string(b[n0:a.n1-base]) == local && string(s.arena[a.spOff:a.spOff+a.spLen]) == space {
			v0, v1 := a.v0-base, a.v1-base
			return b[v0:v1:v1], true
		}
	}
	return nil, false
}
