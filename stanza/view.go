package stanza

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/hermod-im/hermod/xmlscan"
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
		var p attrPos
		if p, i, err = scanAttr(raw, i); err != nil {
			return err
		}
		if err = h.track(raw, p); err != nil {
			return err
		}
	}
}

// attrPos locates one attribute of a start tag in the tag's raw bytes.
type attrPos struct {
	name0, colon, name1 int // the qualified name; colon is -1 when unprefixed
	val0, val1          int // the raw value between the quotes
}

// scanAttr scans one attribute starting at raw[i] and returns where it is and the
// index after its closing quote.
func scanAttr(raw []byte, i int) (attrPos, int, error) {
	var p attrPos
	p.name0 = i
	i, colon, err := scanName(raw, i)
	if err != nil {
		return p, 0, err
	}
	p.colon, p.name1 = colon, i
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i >= len(raw) || raw[i] != '=' {
		return p, 0, headerErr(i, "attribute without '='")
	}
	i++
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i >= len(raw) || (raw[i] != '\'' && raw[i] != '"') {
		return p, 0, headerErr(i, "attribute value not quoted")
	}
	p.val0 = i + 1
	n := bytes.IndexByte(raw[p.val0:], raw[i])
	if n < 0 {
		return p, 0, headerErr(i, "unterminated attribute value")
	}
	p.val1 = p.val0 + n
	if lt := bytes.IndexByte(raw[p.val0:p.val1], '<'); lt >= 0 {
		return p, 0, headerErr(p.val0+lt, "'<' in attribute value")
	}
	return p, p.val1 + 1, nil
}

// track records the attribute at p in h when it is one of the tracked ones.
func (h *Header) track(raw []byte, p attrPos) error {
	name := raw[p.name0:p.name1]
	var val *[]byte
	var span *Span
	switch {
	case p.colon < 0:
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
	if val == nil {
		return nil
	}
	if *val != nil {
		return headerErr(p.name0, "duplicate attribute "+string(name))
	}
	*val = raw[p.val0:p.val1:p.val1]
	*span = Span{p.val0, p.val1}
	return nil
}

// scanName scans a qualified name starting at raw[i] and returns the index after it
// and the index of its colon (-1 when unprefixed). It accepts the ASCII name
// characters of XML 1.0 and any valid UTF-8 beyond ASCII: the scanner has already
// applied the full production, this only keeps garbage out.
func scanName(raw []byte, i int) (end, colon int, err error) {
	start := i
	colon = -1
	for i < len(raw) {
		// Fast path: ASCII letters, digits, '-', '.' and '_'.
		for i < len(raw) && nameFast[raw[i]] {
			i++
		}
		if i >= len(raw) {
			break
		}
		switch c := raw[i]; {
		case c >= 0x80:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n <= 1 {
				return 0, 0, headerErr(i, "invalid UTF-8 in name")
			}
			i += n
		case c == ':':
			if colon >= 0 || i == start {
				return 0, 0, headerErr(i, "misplaced ':' in name")
			}
			colon = i
			i++
		default:
			if i == start {
				return 0, 0, headerErr(i, "name expected")
			}
			if colon == i-1 {
				return 0, 0, headerErr(i, "name ends with ':'")
			}
			if c0 := raw[start]; c0 < 0x80 && nameByte[c0] == 2 {
				return 0, 0, headerErr(start, "name starts with a digit, '-' or '.'")
			}
			if colon >= 0 {
				if c1 := raw[colon+1]; c1 < 0x80 && nameByte[c1] == 2 {
					return 0, 0, headerErr(colon+1, "local name starts with a digit, '-' or '.'")
				}
			}
			return i, colon, nil
		}
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

// nameFast marks the bytes scanName's fast loop consumes: nameByte's, nothing else.
var nameFast = func() (t [256]bool) {
	for c := range nameByte {
		t[c] = nameByte[c] != 0
	}
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

// AppendTo appends the decoded value of the to attribute (references resolved,
// attribute-value normalisation applied, see xmlscan.UnescapeAttr) to dst. It returns
// dst unchanged for an absent attribute, and an error wrapping
// xmlscan.ErrInvalidReference for a malformed reference, which cannot happen for
// bytes the scanner accepted. It allocates only when dst must grow.
func (h *Header) AppendTo(dst []byte) ([]byte, error) { return appendDecoded(dst, h.To, "to") }

// AppendFrom is AppendTo for the from attribute.
func (h *Header) AppendFrom(dst []byte) ([]byte, error) { return appendDecoded(dst, h.From, "from") }

// AppendType is AppendTo for the type attribute.
func (h *Header) AppendType(dst []byte) ([]byte, error) { return appendDecoded(dst, h.Type, "type") }

// AppendID is AppendTo for the id attribute.
func (h *Header) AppendID(dst []byte) ([]byte, error) { return appendDecoded(dst, h.ID, "id") }

// AppendLang is AppendTo for the xml:lang attribute.
func (h *Header) AppendLang(dst []byte) ([]byte, error) {
	return appendDecoded(dst, h.Lang, "xml:lang")
}

func appendDecoded(dst, raw []byte, name string) ([]byte, error) {
	if !needsDecoding(raw) {
		return append(dst, raw...), nil
	}
	out, err := xmlscan.UnescapeAttr(dst, raw)
	if err != nil {
		return out, fmt.Errorf("stanza: decoding %s: %w", name, err)
	}
	return out, nil
}

// needsDecoding reports whether a raw attribute value differs from its decoded form:
// it holds a reference or a character that attribute-value normalisation changes.
func needsDecoding(raw []byte) bool {
	for _, c := range raw {
		if c == '&' || c == '\t' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}
