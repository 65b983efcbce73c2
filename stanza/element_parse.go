package stanza

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hermod-im/hermod/xmlscan"
)

// ErrParse is wrapped by the errors of Parse that are not the scanner's own
// (*xmlscan.Error, for input that is not well-formed XML).
var ErrParse = errors.New("stanza: cannot build element tree")

// Parse builds the element tree of raw, which must hold exactly one element
// (surrounding whitespace and an XML declaration are allowed). The tree owns a copy
// of raw, so the caller may reuse its buffer at once. The tree must be given back
// with Release; at steady state Parse then does not allocate.
//
// Namespace prefixes must be declared inside raw: a stanza cut from a stream whose
// header bound a prefix it uses cannot be parsed alone (such stanzas do not occur in
// practice). An unprefixed element with no default namespace declaration in scope has
// no namespace; use ParseIn to give it the stream's (jabber:client, ...).
//
// The error is an *xmlscan.Error for XML that is not well-formed, restricted or too
// deep (see xmlscan), or wraps ErrParse. Any goroutine may call Parse.
func Parse(raw []byte) (*Element, error) {
	return ParseIn(raw, "")
}

// ParseIn is Parse with defaultNS as the namespace of unprefixed elements that have
// no default namespace declaration in scope, as if raw were a stanza inside a stream
// whose header declared xmlns=defaultNS.
func ParseIn(raw []byte, defaultNS string) (*Element, error) {
	d := getDocument()
	root, err := d.parse(raw, defaultNS)
	if err != nil {
		d.release()
		return nil, err
	}
	return root, nil
}

func (d *document) parse(raw []byte, defaultNS string) (*Element, error) {
	if len(raw) > 1<<30 {
		return nil, fmt.Errorf("%w: input of %d bytes", ErrParse, len(raw))
	}
	d.buf = append(d.buf[:0], raw...)
	// The scanner reads a view of the copy that later appends to d.buf (namespace
	// names) never touch; offsets into it are offsets into d.buf.
	src := d.buf[:len(raw):len(raw)]
	sc := getScanner()
	defer putScanner(sc)

	var root *Element
	done := false
	for {
		tok, err := sc.Next(src)
		if err == xmlscan.ErrNeedMore {
			break
		}
		if err != nil {
			return nil, err
		}
		if done {
			return nil, fmt.Errorf("%w: content after the root element at byte %d", ErrParse, tok.Start)
		}
		switch tok.Kind {
		case xmlscan.StartTag:
			e, err := d.startElement(sc, &tok, src, defaultNS)
			if err != nil {
				return nil, err
			}
			if root == nil {
				root = e
			}
		case xmlscan.EndTag:
			d.finish(d.stack[len(d.stack)-1])
			d.stack = d.stack[:len(d.stack)-1]
		case xmlscan.Text, xmlscan.CDATA:
			if len(d.stack) == 0 {
				if !allSpace(tok.Raw) {
					return nil, fmt.Errorf("%w: text outside the root element at byte %d", ErrParse, tok.Start)
				}
				continue
			}
			d.addText(&tok)
		}
		done = tok.StanzaEnd
	}
	if !done {
		return nil, fmt.Errorf("%w: no complete element", ErrParse)
	}
	return root, nil
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// startElement creates the element of a start tag and pushes it, or finishes it at
// once when it is self-closing.
func (d *document) startElement(sc *xmlscan.Scanner, tok *xmlscan.Token, src []byte, defaultNS string) (*Element, error) {
	e := d.newElement()
	var parent *Element
	if n := len(d.stack); n > 0 {
		parent = d.stack[n-1]
		e.parent = parent
		e.nsDeclared = parent.nsDeclared
	}
	q := int32(tok.Start + 1)
	if len(tok.Prefix) > 0 {
		e.prefix = span{q, q + int32(len(tok.Prefix))}
		q = e.prefix.end + 1
	}
	e.local = span{q, q + int32(len(tok.Local))}

	// The scanner reports attributes as views without positions; walk the tag
	// (already validated) to find the same attributes, in the same order, as spans,
	// and check each against the scanner's view.
	n := sc.NumAttrs()
	a0 := len(d.attrs)
	i := int(e.local.end)
	for k := 0; k < n; k++ {
		p, next, ok := walkAttr(src, i)
		sa := sc.Attr(k)
		if !ok || p.val1-p.val0 != len(sa.Value) || p.name1-p.name0 != len(sa.Prefix)+len(sa.Local)+min(len(sa.Prefix), 1) {
			return nil, fmt.Errorf("%w: attribute walk disagrees with the scanner at byte %d", ErrParse, i)
		}
		var at attr
		if p.colon >= 0 {
			at.prefix = span{int32(p.name0), int32(p.colon)}
			at.local = span{int32(p.colon + 1), int32(p.name1)}
		} else {
			at.local = span{int32(p.name0), int32(p.name1)}
			if string(src[p.name0:p.name1]) == "xmlns" {
				e.nsDeclared = true
			}
		}
		at.space = d.intern(sa.Space)
		at.value = span{int32(p.val0), int32(p.val1)}
		d.attrs = append(d.attrs, at)
		i = next
	}
	if a1 := len(d.attrs); a1 > a0 {
		e.attrs = d.attrs[a0:a1:a1]
	}

	switch {
	case parent != nil && len(tok.Space) > 0 && string(tok.Space) == string(d.bytes(parent.space)):
		e.space = parent.space // the common case: a child in its parent's namespace
	case len(tok.Space) > 0:
		e.space = d.intern(tok.Space)
	case len(tok.Prefix) == 0 && !e.nsDeclared:
		e.space = d.internString(defaultNS)
	}
	e.mark, e.segMark = int32(len(d.pend)), int32(len(d.pendSegs))
	if tok.SelfClosing {
		d.finish(e)
	} else {
		d.stack = append(d.stack, e)
	}
	return e, nil
}

// finish moves the children and text collected since e's start tag into the slabs
// and records e as a child of its parent.
func (d *document) finish(e *Element) {
	if kids := d.pend[e.mark:]; len(kids) > 0 {
		k0 := len(d.kids)
		d.kids = append(d.kids, kids...)
		e.children = d.kids[k0:len(d.kids):len(d.kids)]
	}
	if segs := d.pendSegs[e.segMark:]; len(segs) > 0 {
		s0 := len(d.segs)
		d.segs = append(d.segs, segs...)
		e.text = d.segs[s0:len(d.segs):len(d.segs)]
	}
	d.pend = d.pend[:e.mark]
	d.pendSegs = d.pendSegs[:e.segMark]
	d.pend = append(d.pend, e)
}

// addText records a Text or CDATA token for the innermost open element.
func (d *document) addText(tok *xmlscan.Token) {
	parent := d.stack[len(d.stack)-1]
	seg := textSeg{after: int32(len(d.pend)) - parent.mark}
	start := int32(tok.Start)
	if tok.Kind == xmlscan.CDATA {
		// <![CDATA[ is 9 bytes, ]]> is 3.
		seg.span = span{start + 9, start + int32(len(tok.Raw)) - 3}
		seg.cdata = true
	} else {
		seg.span = span{start, start + int32(len(tok.Raw))}
	}
	d.pendSegs = append(d.pendSegs, seg)
}

// walkAttr finds the next attribute of a start tag from raw[i] on, for a tag the
// scanner has already validated: the name runs to '=' (less whitespace), the value
// between the quotes that follow. ok is false if raw is not shaped so, which only a
// disagreement with the scanner could cause.
func walkAttr(raw []byte, i int) (p attrPos, next int, ok bool) {
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	eq := bytes.IndexByte(raw[i:], '=')
	if eq <= 0 {
		return p, 0, false
	}
	p.name0, p.name1 = i, i+eq
	for p.name1 > p.name0 && isSpace(raw[p.name1-1]) {
		p.name1--
	}
	p.colon = bytes.IndexByte(raw[p.name0:p.name1], ':')
	if p.colon >= 0 {
		p.colon += p.name0
	}
	j := i + eq + 1
	for j < len(raw) && isSpace(raw[j]) {
		j++
	}
	if j >= len(raw) || (raw[j] != '\'' && raw[j] != '"') {
		return p, 0, false
	}
	p.val0 = j + 1
	end := bytes.IndexByte(raw[p.val0:], raw[j])
	if end < 0 {
		return p, 0, false
	}
	p.val1 = p.val0 + end
	return p, p.val1 + 1, true
}
