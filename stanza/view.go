package stanza

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Kind says which of the three XMPP stanzas (RFC 6120 section 8) an element is.
type Kind uint8

// The stanza kinds. Other is the zero value: anything that is not a stanza (stream
// features, SASL and stream-management elements, stream errors, ...).
const (
	Other Kind = iota
	Message
	Presence
	IQ
)

// String returns the element name of the kind ("message", "presence", "iq") or
// "other".
func (k Kind) String() string {
	switch k {
	case Message:
		return "message"
	case Presence:
		return "presence"
	case IQ:
		return "iq"
	default:
		return "other"
	}
}

// The namespaces in which message, presence and iq are stanzas.
const (
	NSClient           = "jabber:client"
	NSServer           = "jabber:server"
	NSComponentAccept  = "jabber:component:accept"
	NSComponentConnect = "jabber:component:connect"
)

// Span locates an attribute value in a stanza's raw bytes: raw[Start:End] is the value
// between its quotes, undecoded. The zero Span means the attribute is absent.
type Span struct {
	Start, End int
}

// Header is a view of a stanza's start tag: the fields that routing needs, as slices
// of the stanza's raw bytes, found without building a tree or decoding anything.
//
// Every []byte field aliases the raw bytes given to ParseHeader and is valid only as
// long as they are: a Header must not outlive the buffer it was parsed from, and a
// module that keeps a value must copy it. Attribute values are raw (undecoded, possibly
// holding entity references); a nil value means the attribute is absent, an empty
// non-nil one that it is present and empty. Use the Append* methods for decoded values.
type Header struct {
	// Prefix and Local are the parts of the element's qualified name.
	Prefix, Local []byte
	// Kind is derived from the name: see ParseHeader.
	Kind Kind

	// To, From, Type, ID and Lang are the raw values of the top-level attributes to,
	// from, type, id and xml:lang; Xmlns is the default namespace the element declares
	// itself (present when a stanza arrives over WebSocket framing or from a
	// component), nil otherwise.
	To, From, Type, ID, Lang, Xmlns []byte
	// The spans of those values in the raw bytes.
	ToSpan, FromSpan, TypeSpan, IDSpan, LangSpan, XmlnsSpan Span

	// NameEnd is the index just past the qualified name in the raw bytes, where
	// AppendRewrite inserts attributes.
	NameEnd int
	// TagEnd is the index just past the '>' that ends the start tag.
	TagEnd int
	// SelfClosing is true for a start tag written <x .../>.
	SelfClosing bool
}

// ErrHeader is wrapped by every error ParseHeader returns.
var ErrHeader = errors.New("stanza: malformed start tag")

func headerErr(at int, what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrHeader, what, at)
}

// ParseHeader fills h from the first start tag of raw, which must begin with '<'. It
// reads nothing after that tag's '>', so it accepts a whole stanza, a lone start tag
// (a stream header, whose to/from/id/xml:lang it also finds) or a stanza with an
// unread tail.
//
// It checks the structure of the tag: names, '=' and quotes, whitespace between
// attributes, no '<' in values and no duplicate of the attributes it tracks. It does
// not validate character data (entity references, UTF-8 inside values), which the
// engine's xmlscan.Scanner has already checked; the decoding methods report bad
// references. On an error h holds nothing useful. It never panics on any input.
//
// Kind is Message, Presence or IQ when the element is unprefixed, its local name is
// one of those, and it declares no default namespace other than one of the content
// namespaces (NSClient, NSServer, NSComponentAccept, NSComponentConnect); otherwise
// Other. An unprefixed element inherits the stream's content namespace, which the
// engine knows from the scanner; the engine may overwrite Kind.
//
// ParseHeader does not allocate. Any goroutine may call it; h and raw belong to the
// caller.
func ParseHeader(raw []byte, h *Header) error {
	*h = Header{}
	if len(raw) == 0 || raw[0] != '<' {
		return headerErr(0, "no '<' at start")
	}
	i, colon, err := scanName(raw, 1)
	if err != nil {
		return err
	}
	if colon > 0 {
		h.Prefix, h.Local = raw[1:colon], raw[colon+1:i]
	} else {
		h.Local = raw[1:i]
	}
	h.NameEnd = i
	for {
		ws := i
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) {
			return headerErr(i, "unterminated start tag")
		}
		switch raw[i] {
		case '>':
			h.TagEnd = i + 1
			h.Kind = kindOf(h)
			return nil
		case '/':
			if i+1 >= len(raw) || raw[i+1] != '>' {
				return headerErr(i, "'/' not followed by '>'")
			}
			h.TagEnd = i + 2
			h.SelfClosing = true
			h.Kind = kindOf(h)
			return nil
		}
		if ws == i {
			return headerErr(i, "no whitespace before attribute")
		}
		if i, err = scanAttr(raw, i, h); err != nil {
			return err
		}
	}
}

// scanAttr scans one attribute starting at raw[i], records it in h when it is one of
// the tracked ones, and returns the index after its closing quote.
func scanAttr(raw []byte, i int, h *Header) (int, error) {
	nameStart := i
	i, colon, err := scanName(raw, i)
	if err != nil {
		return 0, err
	}
	name := raw[nameStart:i]
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i >= len(raw) || raw[i] != '=' {
		return 0, headerErr(i, "attribute without '='")
	}
	i++
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i >= len(raw) || (raw[i] != '\'' && raw[i] != '"') {
		return 0, headerErr(i, "attribute value not quoted")
	}
	start := i + 1
	n := bytes.IndexByte(raw[start:], raw[i])
	if n < 0 {
		return 0, headerErr(i, "unterminated attribute value")
	}
	end := start + n
	if lt := bytes.IndexByte(raw[start:end], '<'); lt >= 0 {
		return 0, headerErr(start+lt, "'<' in attribute value")
	}
	var val *[]byte
	var span *Span
	switch {
	case colon < 0:
		switch string(name) {
		case "to":
			val, span = &h.To, &h.ToSpan
		case "from":
			val, span = &h.From, &h.FromSpan
		case "type":
			val, span = &h.Type, &h.TypeSpan
		case "id":
			val, span = &h.ID, &h.IDSpan
		case "xmlns":
			val, span = &h.Xmlns, &h.XmlnsSpan
		}
	case string(name) == "xml:lang":
		val, span = &h.Lang, &h.LangSpan
	}
	if val != nil {
		if *val != nil {
			return 0, headerErr(nameStart, "duplicate attribute "+string(name))
		}
		*val = raw[start:end:end]
		*span = Span{start, end}
	}
	return end + 1, nil
}

// scanName scans a qualified name starting at raw[i] and returns the index after it
// and the index of its colon (-1 when unprefixed). It accepts the ASCII name
// characters of XML 1.0 and any valid UTF-8 beyond ASCII: the scanner has already
// applied the full production, this only keeps garbage out.
func scanName(raw []byte, i int) (end, colon int, err error) {
	start := i
	colon = -1
	for i < len(raw) {
		c := raw[i]
		switch {
		case c >= 0x80:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n <= 1 {
				return 0, 0, headerErr(i, "invalid UTF-8 in name")
			}
			i += n
			continue
		case c == ':':
			if colon >= 0 || i == start {
				return 0, 0, headerErr(i, "misplaced ':' in name")
			}
			colon = i
		case nameByte[c] == 0:
			if i == start {
				return 0, 0, headerErr(i, "name expected")
			}
			if colon == i-1 {
				return 0, 0, headerErr(i, "name ends with ':'")
			}
			return i, colon, nil
		case nameByte[c] == 2 && (i == start || i == colon+1):
			return 0, 0, headerErr(i, "name starts with a digit, '-' or '.'")
		}
		i++
	}
	return 0, 0, headerErr(i, "unterminated start tag")
}

// nameByte marks ASCII name characters: 1 may start a name (or a local part), 2 may
// only continue one.
var nameByte = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = 1, 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 2
	}
	t['_'], t['-'], t['.'] = 1, 2, 2
	return t
}()

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func kindOf(h *Header) Kind {
	if h.Prefix != nil {
		return Other
	}
	if h.Xmlns != nil {
		switch string(h.Xmlns) {
		case NSClient, NSServer, NSComponentAccept, NSComponentConnect:
		default:
			return Other
		}
	}
	switch string(h.Local) {
	case "message":
		return Message
	case "presence":
		return Presence
	case "iq":
		return IQ
	}
	return Other
}

// IsError reports whether the stanza has type='error'. A stanza of type error must
// never be answered with an error (RFC 6120 section 8.3.1), which is why
// AppendErrorReply refuses to; callers check this first to drop the stanza instead.
func (h *Header) IsError() bool {
	return string(h.Type) == "error"
}

// Inner returns the bytes between the end of the start tag and the start of the
// matching end tag of raw (the stanza's payload, verbatim), after checking that raw
// ends with that end tag. For a self-closing element it returns an empty slice. raw
// must be the slice h was parsed from. The result aliases raw.
func (h *Header) Inner(raw []byte) ([]byte, error) {
	if h.TagEnd == 0 || h.TagEnd > len(raw) {
		return nil, headerErr(0, "header does not belong to these bytes")
	}
	if h.SelfClosing {
		return raw[h.TagEnd:h.TagEnd], nil
	}
	// The end tag is the last thing in raw, so the last '<' starts it: neither text
	// nor attribute values of well-formed content hold a literal '<'.
	lt := bytes.LastIndexByte(raw[h.TagEnd:], '<')
	if lt < 0 || raw[len(raw)-1] != '>' {
		return nil, headerErr(len(raw), "no end tag")
	}
	lt += h.TagEnd
	name := raw[1:h.NameEnd]
	tail := raw[lt : len(raw)-1] // "</name" and optional whitespace
	if len(tail) < 2+len(name) || tail[1] != '/' || !bytes.Equal(tail[2:2+len(name)], name) {
		return nil, headerErr(lt, "end tag does not match start tag")
	}
	for _, c := range tail[2+len(name):] {
		if !isSpace(c) {
			return nil, headerErr(lt, "end tag does not match start tag")
		}
	}
	return raw[h.TagEnd:lt], nil
}
