package stanza

import "errors"

// Builder writes the XML the server generates (replies, pushes, notifications) by
// appending to a byte slice, with every attribute value and text escaped. It keeps
// the names of open elements as offsets into its own output, so building does not
// allocate while B has capacity (and nesting stays within builderInline levels).
//
// Use it as a value:
//
//	var b stanza.Builder
//	b.Reset(dst)                 // or b.Reset(bb.B) for a *bytebufferpool.ByteBuffer
//	b.Start("iq").Attr("type", "result").Attr("id", id)
//	b.Start("query").Xmlns("jabber:iq:roster").End()
//	b.End()
//	out, err := b.Finish()       // and bb.B = out for a ByteBuffer
//
// An element with nothing inside is closed as <x/>. Misuse (an attribute after
// content, End with nothing open, an invalid name) is recorded: later calls do
// nothing, and Err and Finish report the first such error. A Builder belongs to one
// goroutine at a time.
type Builder struct {
	// B is the output so far. It may be read at any time and must not be changed
	// while elements are open.
	B []byte

	open  bool // a start tag is unfinished: attributes may still follow
	depth int
	names [builderInline]nameRef // names of the first builderInline open elements
	more  []nameRef              // names beyond builderInline levels
	err   error
}

// builderInline is how deep a Builder nests without allocating.
const builderInline = 16

// nameRef locates an open element's qualified name in B.
type nameRef struct{ start, end int }

// Errors recorded by a Builder.
var (
	ErrBuilderState = errors.New("stanza: Builder used out of order")
	ErrBuilderName  = errors.New("stanza: Builder given an invalid XML name")
)

// Reset discards the Builder's state and makes it append to dst.
func (b *Builder) Reset(dst []byte) {
	more := b.more[:0]
	*b = Builder{B: dst, more: more}
}

// Err returns the first misuse recorded, or nil.
func (b *Builder) Err() error { return b.err }

// Depth returns the number of open elements.
func (b *Builder) Depth() int { return b.depth }

// Finish closes a pending start tag and returns B. It reports the first misuse, or
// ErrBuilderState when elements are still open.
func (b *Builder) Finish() ([]byte, error) {
	if b.err == nil && b.depth > 0 {
		b.err = errors.Join(ErrBuilderState, errors.New("elements left open"))
	}
	return b.B, b.err
}

func (b *Builder) fail(err error) *Builder {
	if b.err == nil {
		b.err = err
	}
	return b
}

// closeTag finishes a pending start tag with '>' because content follows.
func (b *Builder) closeTag() {
	if b.open {
		b.B = append(b.B, '>')
		b.open = false
	}
}

func (b *Builder) push(r nameRef) {
	if b.depth < builderInline {
		b.names[b.depth] = r
	} else {
		b.more = append(b.more, r)
	}
	b.depth++
}

func (b *Builder) pop() nameRef {
	b.depth--
	if b.depth < builderInline {
		return b.names[b.depth]
	}
	r := b.more[len(b.more)-1]
	b.more = b.more[:len(b.more)-1]
	return r
}

// Start opens the element name (a qualified name such as "iq" or "stream:features")
// inside the current one. Attributes may follow until content or End.
func (b *Builder) Start(name string) *Builder {
	if b.err != nil {
		return b
	}
	if !validName(name) {
		return b.fail(ErrBuilderName)
	}
	b.closeTag()
	b.B = append(b.B, '<')
	start := len(b.B)
	b.B = append(b.B, name...)
	b.push(nameRef{start, len(b.B)})
	b.open = true
	return b
}

// StartReply opens the reply to the stanza whose header is h, as AppendReplyStart
// writes it: same element, to and from swapped, same id, type='typ'.
func (b *Builder) StartReply(h *Header, typ string) *Builder {
	if b.err != nil {
		return b
	}
	b.closeTag()
	nameStart := len(b.B) + 1 // after '<'
	nameLen := len(h.Local)
	if h.Prefix != nil {
		nameLen += len(h.Prefix) + 1
	}
	b.B = AppendReplyStart(b.B, h, typ)
	b.push(nameRef{nameStart, nameStart + nameLen})
	b.open = true
	return b
}

// Attr adds the attribute name='value' (value escaped) to the open start tag.
func (b *Builder) Attr(name, value string) *Builder {
	if !b.attrOK(name) {
		return b
	}
	b.B = appendAttr(b.B, name, value)
	return b
}

// AttrBytes is Attr with the value as bytes.
func (b *Builder) AttrBytes(name string, value []byte) *Builder {
	if !b.attrOK(name) {
		return b
	}
	b.B = appendAttr(b.B, name, value)
	return b
}

// AttrRaw adds an attribute whose value is already escaped, such as a value taken
// from a Header; it is copied verbatim. raw must not contain '<' nor both kinds of
// quote, which no value read from well-formed XML does.
func (b *Builder) AttrRaw(name string, raw []byte) *Builder {
	if !b.attrOK(name) {
		return b
	}
	b.B = appendRawAttr(b.B, name, raw)
	return b
}

// Xmlns declares the default namespace ns on the open start tag.
func (b *Builder) Xmlns(ns string) *Builder {
	return b.Attr("xmlns", ns)
}

// XmlnsPrefix binds prefix to ns on the open start tag.
func (b *Builder) XmlnsPrefix(prefix, ns string) *Builder {
	if b.err != nil {
		return b
	}
	if !validNCName(prefix) {
		return b.fail(ErrBuilderName)
	}
	if !b.open {
		return b.fail(ErrBuilderState)
	}
	b.B = append(b.B, " xmlns:"...)
	b.B = append(b.B, prefix...)
	b.B = append(b.B, '=', '\'')
	b.B = EscapeAttr(b.B, ns)
	b.B = append(b.B, '\'')
	return b
}

func (b *Builder) attrOK(name string) bool {
	switch {
	case b.err != nil:
		return false
	case !validName(name):
		b.fail(ErrBuilderName)
		return false
	case !b.open:
		b.fail(ErrBuilderState)
		return false
	}
	return true
}

// Text adds character data, escaped, to the current element.
func (b *Builder) Text(s string) *Builder {
	if b.err != nil {
		return b
	}
	if b.depth == 0 {
		return b.fail(ErrBuilderState)
	}
	b.closeTag()
	b.B = EscapeText(b.B, s)
	return b
}

// TextBytes is Text with the text as bytes.
func (b *Builder) TextBytes(s []byte) *Builder {
	if b.err != nil {
		return b
	}
	if b.depth == 0 {
		return b.fail(ErrBuilderState)
	}
	b.closeTag()
	b.B = EscapeText(b.B, s)
	return b
}

// Raw adds xml verbatim as content of the current element, or at the top level when
// no element is open. xml must be well-formed (for example a payload taken from a
// received stanza, an Element's serialisation or an App error element): Raw is how
// already-encoded XML is inserted without re-escaping.
func (b *Builder) Raw(xml []byte) *Builder {
	if b.err != nil {
		return b
	}
	b.closeTag()
	b.B = append(b.B, xml...)
	return b
}

// StanzaError adds e's <error/> element as content of the current element.
func (b *Builder) StanzaError(e StanzaError) *Builder {
	if b.err != nil {
		return b
	}
	b.closeTag()
	b.B = e.AppendXML(b.B)
	return b
}

// End closes the current element: "/>" when nothing was written inside it, an end
// tag otherwise.
func (b *Builder) End() *Builder {
	if b.err != nil {
		return b
	}
	if b.depth == 0 {
		return b.fail(ErrBuilderState)
	}
	r := b.pop()
	if b.open {
		b.B = append(b.B, '/', '>')
		b.open = false
		return b
	}
	b.B = append(b.B, '<', '/')
	b.B = append(b.B, b.B[r.start:r.end]...)
	b.B = append(b.B, '>')
	return b
}

// validName reports whether s is a qualified name: an NCName, optionally prefixed by
// another and a colon. Non-ASCII is accepted when it is valid UTF-8.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return validNCName(s[:i]) && validNCName(s[i+1:])
		}
	}
	return validNCName(s)
}

func validNCName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, n := decodeRune(s[i:])
			if r == 0xFFFD && n == 1 {
				return false
			}
			i += n
			continue
		}
		if nameByte[c] == 0 || (i == 0 && nameByte[c] == 2) {
			return false
		}
		i++
	}
	return true
}
