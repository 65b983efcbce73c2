package stanza

import (
	"errors"
	"strconv"
)

// Building and changing trees. Values given here are decoded text; they are stored
// escaped, exactly as parsed values are, so reading and serialising treat both alike.
// Misuse (an invalid name, declaring namespaces by hand) changes nothing and is
// recorded for Err.

// ErrElementName is recorded by the building methods for an invalid name.
var ErrElementName = errors.New("stanza: invalid element or attribute name")

// nsXMLNS is the namespace of namespace declarations themselves.
const nsXMLNS = "http://www.w3.org/2000/xmlns/"

// NewElement returns the root of a new tree: the element {space}local, without
// attributes or content. local must be an NCName (no prefix): serialisation declares
// space as the default namespace where needed. Give the tree back with Release. Any
// goroutine may call it.
func NewElement(space, local string) *Element {
	d := getDocument()
	e := d.newElement()
	d.name(e, space, local)
	return e
}

// name sets e's namespace and local name, recording an invalid name.
func (d *document) name(e *Element, space, local string) {
	if !validNCName(local) {
		d.fail(ErrElementName)
		local = "invalid"
	}
	e.local = d.addString(local)
	e.space = d.internString(space)
}

// NewChild appends a new child element {space}local to e and returns it.
func (e *Element) NewChild(space, local string) *Element {
	c := e.doc.newElement()
	e.doc.name(c, space, local)
	c.parent = e
	e.children = append(e.children, c)
	return c
}

// SetAttr sets the attribute {space}local to value (decoded text; it is escaped when
// stored), replacing an existing value. space is empty for an unprefixed attribute and
// NSXML for xml:lang and the like; an attribute in another namespace gets a generated
// prefix, declared when the tree is serialised. Namespace declarations cannot be set:
// serialisation writes the ones needed. Returns e.
func (e *Element) SetAttr(space, local, value string) *Element {
	d := e.doc
	if !validNCName(local) || space == nsXMLNS || (space == "" && local == "xmlns") {
		d.fail(ErrElementName)
		return e
	}
	start := len(d.buf)
	d.buf = EscapeAttr(d.buf, value)
	v := span{int32(start), int32(len(d.buf))}
	if a := e.findAttr(space, local); a != nil {
		a.value = v
		return e
	}
	at := attr{local: d.addString(local), value: v}
	if space != "" {
		at.space = d.internString(space)
		at.prefix = d.prefixFor(e, space)
	}
	e.attrs = append(e.attrs, at)
	return e
}

// prefixFor picks the prefix of a new attribute in namespace space on e: xml for
// NSXML, the prefix an attribute of e already uses for space, or a generated one
// that neither e's name nor its other attributes use.
func (d *document) prefixFor(e *Element, space string) span {
	if space == NSXML {
		return d.addString("xml")
	}
	for _, a := range e.attrs {
		if a.prefix.len() > 0 && string(d.bytes(a.space)) == space {
			return a.prefix
		}
	}
	for {
		d.nGen++
		start := len(d.buf)
		d.buf = append(d.buf, "ns"...)
		d.buf = strconv.AppendInt(d.buf, int64(d.nGen), 10)
		p := span{int32(start), int32(len(d.buf))}
		if !e.usesPrefix(d.bytes(p)) {
			return p
		}
	}
}

func (e *Element) usesPrefix(p []byte) bool {
	if string(e.doc.bytes(e.prefix)) == string(p) {
		return true
	}
	for _, a := range e.attrs {
		// xmlns:p declares p on e, which a generated prefix must not shadow.
		if string(e.doc.bytes(a.prefix)) == string(p) ||
			(string(e.doc.bytes(a.prefix)) == "xmlns" && string(e.doc.bytes(a.local)) == string(p)) {
			return true
		}
	}
	return false
}

// RemoveAttr removes the attribute {space}local and reports whether it was there.
func (e *Element) RemoveAttr(space, local string) bool {
	for i := range e.attrs {
		a := &e.attrs[i]
		if string(e.doc.bytes(a.local)) == local && string(e.doc.bytes(a.space)) == space {
			// Copy into a fresh array: e.attrs may be a window of the shared slab.
			n := make([]attr, 0, len(e.attrs)-1)
			n = append(n, e.attrs[:i]...)
			e.attrs = append(n, e.attrs[i+1:]...)
			return true
		}
	}
	return false
}

// SetText replaces e's character data with s (decoded text; it is escaped when
// stored). Child elements are kept, and the text is placed before them. Returns e.
func (e *Element) SetText(s string) *Element {
	e.text = e.text[:0]
	if s == "" {
		return e
	}
	d := e.doc
	start := len(d.buf)
	d.buf = EscapeText(d.buf, s)
	e.text = append(e.text, textSeg{span: span{int32(start), int32(len(d.buf))}})
	return e
}

// AddText appends s (decoded text) to e's character data, after e's current
// children. Returns e.
func (e *Element) AddText(s string) *Element {
	if s == "" {
		return e
	}
	d := e.doc
	start := len(d.buf)
	d.buf = EscapeText(d.buf, s)
	e.text = append(e.text, textSeg{span: span{int32(start), int32(len(d.buf))}, after: int32(len(e.children))})
	return e
}

// AddChild appends a deep copy of c (which may belong to another tree, or to this
// one) to e's children and returns the copy. c is unchanged and still owned by its
// holder, who releases it as usual.
func (e *Element) AddChild(c *Element) *Element {
	cp := e.doc.copyTree(c)
	cp.parent = e
	e.children = append(e.children, cp)
	return cp
}

// copyTree copies the subtree at src into d.
func (d *document) copyTree(src *Element) *Element {
	sd := src.doc
	e := d.newElement()
	e.prefix = d.add(sd.bytes(src.prefix))
	e.local = d.add(sd.bytes(src.local))
	e.space = d.intern(sd.bytes(src.space))
	if len(src.attrs) > 0 {
		e.attrs = make([]attr, len(src.attrs))
		for i, a := range src.attrs {
			e.attrs[i] = attr{
				prefix: d.add(sd.bytes(a.prefix)),
				local:  d.add(sd.bytes(a.local)),
				space:  d.intern(sd.bytes(a.space)),
				value:  d.add(sd.bytes(a.value)),
			}
		}
	}
	if len(src.text) > 0 {
		e.text = make([]textSeg, len(src.text))
		for i, s := range src.text {
			e.text[i] = textSeg{span: d.add(sd.bytes(s.span)), after: s.after, cdata: s.cdata}
		}
	}
	if len(src.children) > 0 {
		e.children = make([]*Element, len(src.children))
		for i, c := range src.children {
			cc := d.copyTree(c)
			cc.parent = e
			e.children[i] = cc
		}
	}
	return e
}
