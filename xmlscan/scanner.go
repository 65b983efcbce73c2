package xmlscan

// Limits bounds what one stream may make the scanner hold or do. Every limit
// exceeded is a PolicyViolation. Zero or negative fields mean the default;
// fields above the ceilings (MaxLimit, MaxStanzaLimit) are clamped to them.
type Limits struct {
	// MaxDepth bounds element nesting, counting the stream header; default 32.
	MaxDepth int
	// MaxAttrs bounds attributes per element, xmlns declarations included;
	// default 64.
	MaxAttrs int
	// MaxNameLen bounds the bytes of one qualified name; default 256.
	MaxNameLen int
	// MaxStanzaBytes bounds the bytes of one stanza (a depth-1 element, or a
	// depth-0 one when Framed), of the stream header, and of any single
	// token outside stanzas; default 262144. Whitespace between stanzas is
	// not bounded by it: it is handed out in pieces as it arrives.
	MaxStanzaBytes int
	// Framed selects RFC 7395 (XMPP over WebSocket) framing: every
	// top-level element (<open/>, a stanza, <close/>) is a complete unit, a
	// stanza is a depth-0 element and there is no enclosing stream header.
	Framed bool
}

// Defaults and ceilings of Limits. The ceilings keep index arithmetic and
// the arena's 32-bit offsets far from overflow.
const (
	DefaultMaxDepth       = 32
	DefaultMaxAttrs       = 64
	DefaultMaxNameLen     = 256
	DefaultMaxStanzaBytes = 256 << 10
	MaxLimit              = 1 << 20 // ceiling of MaxDepth, MaxAttrs, MaxNameLen
	MaxStanzaLimit        = 1 << 29 // ceiling of MaxStanzaBytes
)

// DefaultLimits returns the limits used for zero fields of a Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:       DefaultMaxDepth,
		MaxAttrs:       DefaultMaxAttrs,
		MaxNameLen:     DefaultMaxNameLen,
		MaxStanzaBytes: DefaultMaxStanzaBytes,
	}
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultMaxAttrs
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = DefaultMaxNameLen
	}
	if l.MaxStanzaBytes <= 0 {
		l.MaxStanzaBytes = DefaultMaxStanzaBytes
	}
	l.MaxDepth = min(l.MaxDepth, MaxLimit)
	l.MaxAttrs = min(l.MaxAttrs, MaxLimit)
	l.MaxNameLen = min(l.MaxNameLen, MaxLimit)
	l.MaxStanzaBytes = min(l.MaxStanzaBytes, MaxStanzaLimit)
	return l
}

// Kind is the kind of a Token.
type Kind uint8

// Token kinds.
const (
	None     Kind = iota
	StartTag      // <a ...> or <a .../>
	EndTag        // </a>
	Text          // character data (raw: entity references not decoded)
	CDATA         // <![CDATA[...]]> (Raw includes the delimiters)
)

// String returns the kind's name, for tests and logs.
func (k Kind) String() string {
	switch k {
	case StartTag:
		return "StartTag"
	case EndTag:
		return "EndTag"
	case Text:
		return "Text"
	case CDATA:
		return "CDATA"
	default:
		return "None"
	}
}

// Token is one piece of the stream. Its byte slices alias the caller's buffer
// (and, for Space, the scanner's arena): they are valid only until the caller
// changes those bytes of buf (a Shift that moves them) or calls Next,
// NextStanza, Shift, Reset, Recycle or Compact again. Copy what must live
// longer.
type Token struct {
	Kind Kind
	// Depth is the element depth: stream header 0, stanza 1, its children
	// 2... (one less with Framed). For Text and CDATA, the depth of the
	// enclosing element.
	Depth int
	// SelfClosing: a StartTag written as <x/>; no EndTag follows.
	SelfClosing bool
	// StanzaEnd: this token completes a stanza; Stanza is then set.
	StanzaEnd bool
	// StreamEnd: the EndTag of the stream header, or a self-closing header.
	// Only whitespace may follow.
	StreamEnd bool
	// Prefix and Local are the qualified name parts of a StartTag or EndTag.
	Prefix, Local []byte
	// Space is the resolved namespace name of a StartTag or EndTag (empty
	// for no namespace), decoded (entity references resolved).
	Space []byte
	// Raw is the token's bytes as received: `<a x='1'>`, `</a>`, the text,
	// or the whole CDATA section. The Raw slices of consecutive tokens are
	// contiguous in the stream, apart from the XML declaration and
	// whitespace outside the stream header, which produce no token.
	Raw []byte
	// Stanza, when StanzaEnd, is the whole stanza's bytes.
	Stanza []byte
	// Start is the index of Raw[0] in buf.
	Start int
}

// Data returns the character data of a Text or CDATA token: Raw for Text
// (still escaped: see Unescape), the content between the delimiters for
// CDATA (never escaped), nil for tags.
func (t *Token) Data() []byte {
	switch t.Kind {
	case Text:
		return t.Raw
	case CDATA:
		return t.Raw[len("<![CDATA[") : len(t.Raw)-len("]]>")]
	default:
		return nil
	}
}

// Scanner states. Each names the point where scanning resumes; the scanner
// never needs to rescan a token from its start.
const (
	stStart     uint8 = iota // stream start: an XML declaration may follow
	stDecl                   // inside <?xml ... ?>
	stMisc                   // outside any element before the header (or, Framed, between elements)
	stEpilog                 // after the stream header's end tag
	stContent                // inside an element, between tokens
	stLT                     // at '<'
	stBang                   // after "<!"
	stCDATA                  // inside a CDATA section
	stText                   // inside character data
	stTextRef                // inside a reference in character data
	stElemName               // inside a start tag's name
	stTagSpace               // inside a start tag, after the name or an attribute
	stAttrName               // inside an attribute name
	stAttrEq                 // after an attribute name, before '='
	stAttrQuote              // after '=', before the opening quote
	stAttrValue              // inside a quoted attribute value
	stAttrRef                // inside a reference in an attribute value
	stTagSlash               // after '/' in a start tag
	stEndName                // inside an end tag's name
	stEndSpace               // after an end tag's name
)

// step results.
const (
	rMore  = iota // out of input; state saved
	rNext         // state changed; keep going
	rToken        // s.tk describes a complete token [s.tok, s.tk.end)
	rErr          // s.err is set
)

// attrRec records one attribute of the start tag being scanned, as indexes
// into buf (adjusted by Shift) and the resolved namespace in the arena.
type attrRec struct {
	n0, colon, n1 int // name [n0,n1); colon index relative to n0, 0 if none
	v0, v1        int // raw value [v0,v1)
	spOff, spLen  int32
	amp           bool // value contains a reference
	decl          bool // xmlns or xmlns:p
}

// pending describes the token about to be returned.
type pending struct {
	kind                 Kind
	depth                int
	self, stanza, stream bool
	top                  bool // the start tag of a stanza (saved in s.top)
	n0, colon, n1        int  // name for tags
	spOff, spLen         int32
	end                  int // index after the token's last byte (s.pos, or less for partial text)
}

// Scanner is a resumable, push-style XML tokenizer for one XMPP stream. It
// holds the parse state between calls, so the caller feeds bytes as they
// arrive and never blocks.
//
// A Scanner belongs to one goroutine at a time (the connection's event loop);
// none of its methods are safe for concurrent use.
type Scanner struct {
	// tokenState is what only a token in progress needs; nil after Compact
	// released it at a quiet point, until the next call needs it again.
	*tokenState

	lim        Limits
	stanzaAt   int // open-element count at which a start tag begins a stanza
	state      uint8
	rb         uint8 // consecutive ']' just before pos in text or CDATA (capped at 2)
	pos        int   // next byte to examine
	tok        int   // start of the token being scanned (== pos between tokens)
	stz        int   // start of the current stanza, when inStanza
	inStanza   bool  // a stanza has started and not yet ended
	off        int64 // absolute stream offset of buf[0]
	work       int64 // bytes examined, for the linearity tests
	err        *Error
	open       []openElem
	binds      []binding
	arena      []byte
	arenaBase  int
	bindsBase  int
	xmlnsSpOff int32
	defOff     int32 // default namespace in scope (arena range; empty: none)
	defLen     int32
}

// tokenState is the part of a Scanner's state that describes the token being
// scanned or last returned. Between stanzas, with no partial token, none of it
// matters, so an idle connection's scanner need not hold it (Compact).
type tokenState struct {
	shown     int       // attributes visible through Attr (0 unless last token was a StartTag)
	shownTop  bool      // Attr reads s.top rather than s.attrs and s.tag
	sawSpace  bool      // whitespace seen since the last attribute
	quote     byte      // of the attribute value being scanned
	refPhase  uint8     // where in a character or entity reference
	refVal    uint32    // value of the character reference so far
	refStart  int       // buf index of the reference's '&'
	tag       []byte    // copy of the last start tag returned, for Attr
	tagBase   int       // buf index that tag[0] had
	top       stanzaTop // the start tag of the current or last stanza
	tk        pending
	nameStart int // name being scanned
	colon     int // its colon, relative to nameStart; 0 if none
	elem0     int // element name of the tag being scanned
	elemColon int
	elem1     int
	attrs     []attrRec
	nattr     int
}

// newTokenState returns token state with room for a few attributes.
func newTokenState() *tokenState { return &tokenState{attrs: make([]attrRec, 0, 8)} }

// reset empties token state for reuse by another token stream, keeping its buffers.
func (ts *tokenState) reset() {
	*ts = tokenState{
		attrs: ts.attrs[:0],
		tag:   ts.tag[:0],
		top:   stanzaTop{attrs: ts.top.attrs[:0], tag: ts.top.tag[:0]},
	}
}

// wake gives a compacted scanner its token state back.
func (s *Scanner) wake() {
	if s.tokenState == nil {
		s.tokenState = newTokenState()
	}
}

// New returns a Scanner expecting the start of a stream. Zero fields of l
// take their defaults. It may be called from any goroutine.
func New(l Limits) *Scanner {
	s := &Scanner{lim: l.withDefaults()}
	if s.lim.Framed {
		s.stanzaAt = 0
	} else {
		s.stanzaAt = 1
	}
	s.tokenState = newTokenState()
	s.open = make([]openElem, 0, 8)
	s.initNamespaces()
	return s
}

// Limits returns the scanner's limits with defaults filled in.
func (s *Scanner) Limits() Limits { return s.lim }

// Reset restarts the stream at the current position (after STARTTLS, after
// SASL success, or for a new BOSH body or WebSocket frame): an optional XML
// declaration and a new stream header are expected next. Bytes of a token
// that was not yet complete are scanned again as the start of the new stream;
// an unfinished stanza is abandoned. Buffers and limits are kept; offsets
// keep counting. Reset also clears a previous error.
//
// To continue with a fresh buffer (STARTTLS, where buffered plaintext must
// be discarded), call Reset and then Shift(Keep()): the scanner then holds no
// position in the old buffer and the next Next may be given a new one.
func (s *Scanner) Reset() {
	s.pos = s.tok
	s.restart()
}

// Recycle prepares the scanner for a new connection, keeping its buffers and
// limits: offsets restart at zero and the next Next starts at buf[0].
func (s *Scanner) Recycle() {
	s.pos, s.tok, s.off, s.work = 0, 0, 0, 0
	s.restart()
}

func (s *Scanner) restart() {
	s.wake()
	s.tok = s.pos
	s.stz = 0
	s.inStanza = false
	s.state = stStart
	s.err = nil
	s.shown = 0
	s.nattr = 0
	s.rb = 0
	s.refPhase = 0
	s.open = s.open[:0]
	s.binds = s.binds[:s.bindsBase]
	s.arena = s.arena[:s.arenaBase]
	s.defOff, s.defLen = 0, 0
}

// Keep returns the earliest index of buf the scanner still needs: the start
// of the stanza it is inside, or else of the partial token it is in the
// middle of, or else the index where scanning will resume. The caller may
// drop up to Keep() bytes and must then call Shift. Call it on the scanner's
// goroutine.
func (s *Scanner) Keep() int {
	if s.inStanza {
		return s.stz
	}
	return s.tok
}

// Shift tells the scanner that the caller dropped the first n bytes of its
// buffer, so that every index moves down by n. n must be between 0 and
// Keep(); otherwise Shift returns an error and changes nothing. Shift
// invalidates the last token and its attributes. Call it on the scanner's
// goroutine.
func (s *Scanner) Shift(n int) error {
	if n < 0 || n > s.Keep() {
		return &shiftError{n: n, keep: s.Keep()}
	}
	if n == 0 {
		return nil
	}
	s.off += int64(n)
	s.pos -= n
	s.tok -= n
	s.stz -= n
	for k := range s.open {
		if e := &s.open[k]; e.inBuf {
			e.nameOff -= n
		}
	}
	if s.tokenState == nil {
		return nil // compacted between tokens: nothing else points into buf
	}
	s.nameStart -= n
	s.elem0 -= n
	s.elem1 -= n
	s.refStart -= n
	if s.inStartTag() {
		// The attributes of the partial start tag. The record of the
		// attribute in progress is adjusted too: it may hold its name
		// and the start of its value.
		for k := range s.attrs[:min(s.nattr+1, len(s.attrs))] {
			a := &s.attrs[k]
			a.n0 -= n
			a.n1 -= n
			a.v0 -= n
			a.v1 -= n
		}
	}
	s.shown = 0
	return nil
}

// inStartTag reports whether the scanner stopped inside a start tag.
func (s *Scanner) inStartTag() bool { return s.state >= stElemName && s.state <= stTagSlash }

type shiftError struct{ n, keep int }

func (e *shiftError) Error() string {
	return "xmlscan: Shift(" + itoa(e.n) + ") outside [0, Keep()=" + itoa(e.keep) + "]"
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Offset returns the absolute stream offset of buf[0]: the sum of all shifts.
func (s *Scanner) Offset() int64 { return s.off }

// Depth returns the number of open elements (the stream header included).
func (s *Scanner) Depth() int { return len(s.open) }

// Err returns the fatal error the scanner stopped on, or nil.
func (s *Scanner) Err() *Error { return s.err }

func (s *Scanner) fail(c Code, at int, msg string) uint8 {
	s.err = &Error{Code: c, Offset: s.off + int64(at), Msg: msg}
	return rErr
}

// Next scans buf from where the previous call stopped and returns the next
// complete token. Between calls the caller may only append bytes to buf, or
// drop a prefix of at most Keep() bytes and report it with Shift.
//
// It returns ErrNeedMore when buf holds no further complete token, and
// ErrBufferShrunk when buf is shorter than the position already reached.
// Any other error is an *Error: the stream is broken and every later call
// returns the same *Error. Whitespace (and any text) between stanzas is
// returned as Text tokens at depth 0 as soon as it arrives, possibly in
// several pieces; every other token is returned whole.
//
// Call Next on the scanner's goroutine. It does not allocate once the
// scanner's arena and attribute table have grown to the stream's needs.
func (s *Scanner) Next(buf []byte) (Token, error) {
	var t Token
	err := s.NextInto(buf, &t)
	return t, err
}

// NextInto is Next writing the token into *t instead of returning it: the
// Token is large, and filling the caller's variable in place saves copying
// it on every call. On an error *t is left unchanged. The same rules as for
// Next apply; call it on the scanner's goroutine.
func (s *Scanner) NextInto(buf []byte, t *Token) error {
	if s.err != nil {
		return s.err
	}
	if s.pos > len(buf) {
		return ErrBufferShrunk
	}
	s.wake()
	s.shown = 0
	if s.state == stContent && s.inStanza {
		// Inside a stanza's content, most tokens are complete and
		// plain: try the fast paths before the state machine.
		b := buf
		if len(buf)-s.stz > s.lim.MaxStanzaBytes {
			b = buf[:s.stz+s.lim.MaxStanzaBytes]
		}
		start := s.pos
		r, ok := s.fastToken(b)
		s.work += int64(s.pos - start)
		if ok {
			if r == rErr {
				return s.err
			}
			s.fill(buf, t)
			return nil
		}
	}
	switch s.advance(buf) {
	case rToken:
		s.fill(buf, t)
		return nil
	case rMore:
		return ErrNeedMore
	default:
		return s.err
	}
}

// advance runs the state machine until a token is complete (rToken: s.tk
// describes [s.tok, s.tk.end)), the input runs out (rMore), or the stream
// breaks (rErr, s.err set).
func (s *Scanner) advance(buf []byte) uint8 {
	for {
		// Window the buffer so that no stanza, and no token outside
		// stanzas, can grow past MaxStanzaBytes: scanning stops at the
		// limit and the limit error is reported at the same offset
		// however the bytes were chunked. Steps that move s.tok outside
		// a stanza return rNext so that the window is recomputed.
		b := buf
		base := s.tok
		if s.inStanza {
			base = s.stz
		}
		if len(buf)-base > s.lim.MaxStanzaBytes {
			b = buf[:base+s.lim.MaxStanzaBytes]
		}
		start := s.pos
		var r uint8
		switch s.state {
		case stContent:
			r = s.stepContent(b)
		case stText, stTextRef:
			r = s.stepText(b)
		case stLT:
			r = s.stepLT(b)
		case stElemName, stTagSpace, stAttrName, stAttrEq, stAttrQuote, stAttrValue, stAttrRef, stTagSlash:
			r = s.stepStartTag(b)
		case stEndName, stEndSpace:
			r = s.stepEndTag(b)
		case stMisc:
			r = s.stepMisc(b)
		case stEpilog:
			r = s.stepEpilog(b)
		case stBang:
			r = s.stepBang(b)
		case stCDATA:
			r = s.stepCDATA(b)
		case stStart:
			r = s.stepStart(b)
		case stDecl:
			r = s.stepDecl(b)
		}
		switch r {
		case rToken:
			s.work += int64(s.pos - start)
			return rToken
		case rNext:
			s.work += int64(s.pos - start)
		case rMore:
			s.work += int64(len(b) - start)
			if len(b) < len(buf) {
				s.fail(PolicyViolation, len(b), msgStanzaBytes)
				return rErr
			}
			return rMore
		default:
			return rErr
		}
	}
}

// fill writes the token that advance or fastToken completed into *t,
// makes the attributes of a start tag visible, and moves past the token.
// Every field of *t is written once: *t may hold the previous token.
func (s *Scanner) fill(buf []byte, t *Token) {
	tk := &s.tk
	start := s.tok
	t.Kind = tk.kind
	t.Depth = tk.depth
	t.SelfClosing = tk.self
	t.StanzaEnd = tk.stanza
	t.StreamEnd = tk.stream
	t.Raw = buf[start:tk.end]
	t.Start = start
	if tk.kind > EndTag {
		// Character data never completes a stanza.
		t.Prefix, t.Local, t.Space, t.Stanza = nil, nil, nil, nil
		s.tok = tk.end
		return
	}
	name := buf[tk.n0:tk.n1]
	if tk.colon > 0 {
		t.Prefix = name[:tk.colon]
		t.Local = name[tk.colon+1:]
	} else {
		t.Prefix = nil
		t.Local = name
	}
	if tk.spLen > 0 {
		t.Space = s.arena[tk.spOff : tk.spOff+tk.spLen : tk.spOff+tk.spLen]
	} else {
		t.Space = nil
	}
	if tk.stanza {
		t.Stanza = buf[s.stz:tk.end]
		s.inStanza = false
	} else {
		t.Stanza = nil
	}
	if tk.kind == StartTag && s.nattr > 0 {
		s.showAttrs(buf, tk)
	}
	s.tok = tk.end
}

// textDepth is the depth reported for character data at the current point.
func (s *Scanner) textDepth() int { return len(s.open) - 1 }

// stepContent starts the next token inside an element.
func (s *Scanner) stepContent(b []byte) uint8 {
	i := s.pos
	if i == len(b) {
		return rMore
	}
	// Chain straight into the next step: s.tok does not move, so the
	// window stays valid. The common tags skip stepLT.
	if b[i] == '<' {
		if i+1 < len(b) && len(s.open) > 0 {
			switch c := b[i+1]; {
			case c == '/':
				if r, ok := s.fastEndTag(b, i+2, false); ok {
					return r
				}
			case nameClass[c]&nbStart != 0 && len(s.open) < s.lim.MaxDepth && len(s.open) != s.stanzaAt:
				s.nattr = 0
				if r, ok := s.fastStartTag(b, i+1, false); ok {
					return r
				}
			}
		}
		s.state = stLT
		return s.stepLT(b)
	}
	s.rb = 0
	s.state = stText
	return s.stepText(b)
}

// stepMisc skips whitespace outside any element: before the stream header,
// or between top-level elements when Framed.
func (s *Scanner) stepMisc(b []byte) uint8 {
	i := s.pos
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	s.pos, s.tok = i, i
	if i == len(b) {
		return rMore
	}
	if b[i] == '<' {
		s.state = stLT
		return rNext
	}
	return s.fail(NotWellFormed, i, msgTextOutside)
}

// stepEpilog skips whitespace after the stream's end; anything else is an error.
func (s *Scanner) stepEpilog(b []byte) uint8 {
	i := s.pos
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	s.pos, s.tok = i, i
	if i == len(b) {
		return rMore
	}
	return s.fail(NotWellFormed, i, msgAfterEnd)
}

// stepLT decides what markup starts at the '<' at s.pos.
func (s *Scanner) stepLT(b []byte) uint8 {
	i := s.pos
	if i+1 >= len(b) {
		return rMore
	}
	switch c := b[i+1]; c {
	case '/':
		if len(s.open) == 0 {
			return s.fail(NotWellFormed, i, msgEndNoOpen)
		}
		if r, ok := s.fastEndTag(b, i+2, false); ok {
			return r
		}
		s.nameStart, s.colon = i+2, 0
		s.pos = i + 2
		s.state = stEndName
		return s.stepEndTag(b)
	case '!':
		s.pos = i + 2
		s.state = stBang
		return rNext
	case '?':
		return s.fail(RestrictedXML, i, msgPI)
	default:
		if len(s.open) >= s.lim.MaxDepth {
			return s.fail(PolicyViolation, i, msgDepth)
		}
		if len(s.open) == s.stanzaAt {
			s.inStanza = true
			s.stz = i
		}
		if r, ok := s.fastStartTag(b, i+1, false); ok {
			return r
		}
		s.nameStart, s.colon = i+1, 0
		s.nattr = 0
		s.pos = i + 1
		s.state = stElemName
		return s.stepStartTag(b)
	}
}

// stepBang handles "<!": a CDATA section inside an element, or restricted
// markup (comments, DOCTYPE and other declarations).
func (s *Scanner) stepBang(b []byte) uint8 {
	const open = "<![CDATA["
	i := s.pos
	for ; i < len(b); i++ {
		k := i - s.tok
		c := b[i]
		if k == 2 {
			switch {
			case c == '-':
				return s.fail(RestrictedXML, s.tok, msgComment)
			case c >= 'A' && c <= 'Z':
				// DOCTYPE, ENTITY, ELEMENT, ATTLIST, NOTATION
				return s.fail(RestrictedXML, s.tok, msgDTD)
			case c != '[':
				return s.fail(NotWellFormed, s.tok, msgBadMarkup)
			case len(s.open) == 0:
				return s.fail(NotWellFormed, s.tok, msgTextOutside)
			}
			continue
		}
		if c != open[k] {
			return s.fail(NotWellFormed, s.tok, msgBadCDATAOpen)
		}
		if k == len(open)-1 {
			s.pos = i + 1
			s.rb = 0
			s.state = stCDATA
			return rNext
		}
	}
	s.pos = i
	return rMore
}
