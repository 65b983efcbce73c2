package stanza

import (
	"iter"

	"github.com/hermod-im/hermod/xmlscan"
)

// NSXML is the namespace bound to the xml prefix (xml:lang).
const NSXML = "http://www.w3.org/XML/1998/namespace"

// Element is a node of an element tree: built by Parse for the modules that must look
// inside a stanza, or by NewElement for XML the server composes.
//
// A tree owns its bytes (Parse copies its input, so the caller may reuse its buffer)
// and lives in pooled memory until Release. Every []byte an Element returns aliases
// that memory: it is valid until Release and must not be modified. A tree belongs to
// one goroutine at a time; a tree that is only read may be shared between goroutines
// as long as none releases or modifies it.
type Element struct {
	doc                  *document
	parent               *Element
	prefix, local, space span
	attrs                []attr     // capped sub-slice of doc.attrs, or its own array
	children             []*Element // capped sub-slice of doc.kids, or its own array
	text                 []textSeg  // capped sub-slice of doc.segs, or its own array

	// Used only while parsing.
	mark, segMark int32 // len(doc.pend) and len(doc.pendSegs) at the start tag
	nsDeclared    bool  // a default namespace declaration is in scope
}

// attr is one attribute; value is raw (escaped as it appears in XML).
type attr struct {
	prefix, local, space, value span
}

// textSeg is one piece of character data: escaped text, or the content of a CDATA
// section. after is the number of child elements that precede it, which keeps mixed
// content in order.
type textSeg struct {
	span
	after int32
	cdata bool
}

// Attr is an attribute as an Element reports it. The slices alias the tree.
type Attr struct {
	Prefix, Local []byte
	// Space is the resolved namespace, empty for an unprefixed attribute.
	Space []byte
	// Value is the raw value, with references still escaped; see Element.Attr.
	Value []byte
}

// Local returns the element's local name.
func (e *Element) Local() []byte { return e.doc.bytes(e.local) }

// Prefix returns the element's namespace prefix, empty when it has none.
func (e *Element) Prefix() []byte { return e.doc.bytes(e.prefix) }

// Space returns the element's resolved namespace, empty for no namespace.
func (e *Element) Space() []byte { return e.doc.bytes(e.space) }

// Is reports whether the element is {space}local.
func (e *Element) Is(space, local string) bool {
	return string(e.doc.bytes(e.local)) == local && string(e.doc.bytes(e.space)) == space
}

// Parent returns the enclosing element, nil for the root.
func (e *Element) Parent() *Element { return e.parent }

// Children returns the child elements in document order. The slice belongs to the
// tree: do not modify it.
func (e *Element) Children() []*Element { return e.children[:len(e.children):len(e.children)] }

// Child returns the first child element {space}local, or nil.
func (e *Element) Child(space, local string) *Element {
	for _, c := range e.children {
		if c.Is(space, local) {
			return c
		}
	}
	return nil
}

// ChildrenNamed yields the child elements {space}local in document order.
func (e *Element) ChildrenNamed(space, local string) iter.Seq[*Element] {
	return func(yield func(*Element) bool) {
		for _, c := range e.children {
			if c.Is(space, local) && !yield(c) {
				return
			}
		}
	}
}

// Find returns the first descendant {space}local in document order (depth first,
// e itself excluded), or nil. An empty space matches any namespace.
func (e *Element) Find(space, local string) *Element {
	for _, c := range e.children {
		if string(c.doc.bytes(c.local)) == local && (space == "" || string(c.doc.bytes(c.space)) == space) {
			return c
		}
		if f := c.Find(space, local); f != nil {
			return f
		}
	}
	return nil
}

// Walk calls f for e and each of its descendants in document order, skipping the
// descendants of an element for which f returns false.
func (e *Element) Walk(f func(*Element) bool) {
	if !f(e) {
		return
	}
	for _, c := range e.children {
		c.Walk(f)
	}
}

// NumAttrs returns the number of attributes, namespace declarations included.
func (e *Element) NumAttrs() int { return len(e.attrs) }

// AttrAt returns attribute i (0 <= i < NumAttrs()) in document order; it panics when
// i is out of range, like a slice index. Declarations (xmlns, xmlns:p) are included,
// with Space set to the xmlns namespace as the scanner reports them.
func (e *Element) AttrAt(i int) Attr {
	a := &e.attrs[i]
	d := e.doc
	return Attr{Prefix: d.bytes(a.prefix), Local: d.bytes(a.local), Space: d.bytes(a.space), Value: d.bytes(a.value)}
}

func (e *Element) findAttr(space, local string) *attr {
	for i := range e.attrs {
		a := &e.attrs[i]
		if string(e.doc.bytes(a.local)) == local && string(e.doc.bytes(a.space)) == space {
			return a
		}
	}
	return nil
}

// AttrRaw returns the raw (still escaped) value of the attribute {space}local, where
// space is empty for an unprefixed attribute. It does not allocate.
func (e *Element) AttrRaw(space, local string) ([]byte, bool) {
	a := e.findAttr(space, local)
	if a == nil {
		return nil, false
	}
	return e.doc.bytes(a.value), true
}

// AppendAttr appends the decoded value of the attribute {space}local to dst. It
// allocates only when dst must grow.
func (e *Element) AppendAttr(dst []byte, space, local string) ([]byte, bool) {
	a := e.findAttr(space, local)
	if a == nil {
		return dst, false
	}
	raw := e.doc.bytes(a.value)
	if !needsDecoding(raw) {
		return append(dst, raw...), true
	}
	// Values in a tree were checked by the scanner or escaped by SetAttr, so
	// decoding cannot fail; on the impossible error the prefix decoded so far stays.
	dst, _ = xmlscan.UnescapeAttr(dst, raw)
	return dst, true
}

// Attr returns the decoded value of the attribute {space}local, where space is empty
// for an unprefixed attribute (xml:lang is {NSXML}lang). It allocates the string.
func (e *Element) Attr(space, local string) (string, bool) {
	a := e.findAttr(space, local)
	if a == nil {
		return "", false
	}
	raw := e.doc.bytes(a.value)
	if !needsDecoding(raw) {
		return string(raw), true
	}
	var buf [128]byte
	out, _ := xmlscan.UnescapeAttr(buf[:0], raw)
	return string(out), true
}

// AppendText appends the element's character data to dst, decoded: its text and
// CDATA sections concatenated in order (not those of its descendants), references
// resolved and line ends normalised. It allocates only when dst must grow.
func (e *Element) AppendText(dst []byte) []byte {
	for _, s := range e.text {
		raw := e.doc.bytes(s.span)
		if s.cdata {
			dst = appendNormalisedLines(dst, raw)
			continue
		}
		// Text in a tree was checked by the scanner or escaped by SetText.
		dst, _ = xmlscan.Unescape(dst, raw)
	}
	return dst
}

// Text returns the element's decoded character data as AppendText does. It allocates
// the string unless there is no text.
func (e *Element) Text() string {
	switch len(e.text) {
	case 0:
		return ""
	case 1:
		if raw := e.doc.bytes(e.text[0].span); !e.text[0].cdata && !needsDecoding(raw) {
			return string(raw)
		}
	}
	var buf [256]byte
	return string(e.AppendText(buf[:0]))
}

// ChildText returns the decoded text of the first child {space}local, and whether
// there is such a child. It is the common way to read <body/>, <status/> and the like.
func (e *Element) ChildText(space, local string) (string, bool) {
	c := e.Child(space, local)
	if c == nil {
		return "", false
	}
	return c.Text(), true
}

// appendNormalisedLines appends raw with CR LF and lone CR replaced by LF (XML 1.0
// section 2.11), which CDATA content needs and entity decoding does not provide.
func appendNormalisedLines(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\r' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '\n')
		if i+1 < len(raw) && raw[i+1] == '\n' {
			i++
		}
	}
	return dst
}

// Err returns the first misuse of the building methods (NewChild, SetAttr, ...) on
// this tree, or nil. A misused method changes nothing.
func (e *Element) Err() error { return e.doc.err }

// Release returns the whole tree that e belongs to (not only e's subtree) to the
// pool. Neither e nor any element, slice or value obtained from the tree may be used
// afterwards. Call it exactly once per tree, from the goroutine that holds it.
func (e *Element) Release() {
	if e == nil || e.doc == nil {
		return
	}
	e.doc.release()
}

// String returns the element serialised as AppendXML does, for logs and tests.
func (e *Element) String() string { return string(e.AppendXML(nil)) }
