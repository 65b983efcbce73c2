package stanza

import (
	"bytes"

	"github.com/hermod-im/hermod/xmlscan"
	"github.com/valyala/bytebufferpool"
)

// Serialisation writes each element with its own prefix and attributes (raw values,
// copied verbatim) and adds exactly the namespace declarations the output needs: a
// subtree written out of its document, a copied child, or a built element declares
// what its ancestors declared in the original. Declarations an element carried are
// kept as they were.

// AppendXML appends e and its subtree to dst as XML, for a context where no default
// namespace is declared. It allocates only when dst must grow (and beyond 16
// namespace bindings in scope or 32 levels of nesting, for its stacks).
func (e *Element) AppendXML(dst []byte) []byte {
	return e.AppendXMLIn(dst, "")
}

// AppendXMLIn is AppendXML for a context whose default namespace is defaultNS, such
// as a stream with xmlns='jabber:client': an element in that namespace is then
// written without redeclaring it.
func (e *Element) AppendXMLIn(dst []byte, defaultNS string) []byte {
	// Iterative rather than recursive, with stacks in local arrays: a recursive
	// writer makes escape analysis move its state to the heap.
	var bindBuf [16]binding
	var frameBuf [32]xmlFrame
	binds := bindBuf[:0]
	frames := frameBuf[:0]
	var open bool
	if dst, binds, open = openTag(dst, binds, e, defaultNS); !open {
		return dst
	}
	frames = append(frames, xmlFrame{e: e})
	for len(frames) > 0 {
		f := &frames[len(frames)-1]
		el := f.e
		for ; f.si < len(el.text) && int(el.text[f.si].after) <= f.ci; f.si++ {
			dst = appendSeg(dst, el.doc, el.text[f.si])
		}
		if f.ci < len(el.children) {
			c := el.children[f.ci]
			f.ci++
			mark := len(binds)
			if dst, binds, open = openTag(dst, binds, c, defaultNS); open {
				frames = append(frames, xmlFrame{e: c, mark: mark})
			} else {
				binds = binds[:mark]
			}
			continue
		}
		for ; f.si < len(el.text); f.si++ { // segments recorded after the last child
			dst = appendSeg(dst, el.doc, el.text[f.si])
		}
		dst = append(dst, '<', '/')
		dst = appendQName(dst, el.doc.bytes(el.prefix), el.doc.bytes(el.local))
		dst = append(dst, '>')
		binds = binds[:f.mark]
		frames = frames[:len(frames)-1]
	}
	return dst
}

// WriteXML is AppendXML into a pooled buffer: it appends to bb.B.
func (e *Element) WriteXML(bb *bytebufferpool.ByteBuffer) {
	bb.B = e.AppendXML(bb.B)
}

// binding is a namespace declaration in scope while writing.
type binding struct {
	prefix, ns []byte
}

// xmlFrame is an open element while writing: the next child and text segment to
// write and the binding-stack height to return to when it closes.
type xmlFrame struct {
	e      *Element
	ci, si int
	mark   int
}

// boundTo reports whether prefix is bound in scope and whether to ns. The empty
// prefix is always bound: to rootNS unless a declaration in binds says otherwise.
func boundTo(binds []binding, rootNS string, prefix, ns []byte) (bound, same bool) {
	if string(prefix) == "xml" {
		return true, string(ns) == NSXML
	}
	for i := len(binds) - 1; i >= 0; i-- {
		if bytes.Equal(binds[i].prefix, prefix) {
			return true, bytes.Equal(binds[i].ns, ns)
		}
	}
	if len(prefix) == 0 {
		return true, string(ns) == rootNS
	}
	return false, false
}

// declare writes a declaration binding prefix to ns and records it.
func declare(dst []byte, binds []binding, prefix, ns []byte) ([]byte, []binding) {
	dst = append(dst, " xmlns"...)
	if len(prefix) > 0 {
		dst = append(dst, ':')
		dst = append(dst, prefix...)
	}
	dst = append(dst, '=', '\'')
	dst = EscapeAttr(dst, ns)
	dst = append(dst, '\'')
	return dst, append(binds, binding{prefix, ns})
}

func appendQName(dst, prefix, local []byte) []byte {
	if len(prefix) > 0 {
		dst = append(dst, prefix...)
		dst = append(dst, ':')
	}
	return append(dst, local...)
}

// openTag writes e's start tag with the declarations the output needs, pushing them
// on binds. An element without content is closed as <x/> and open is false.
func openTag(dst []byte, binds []binding, e *Element, rootNS string) (_ []byte, _ []binding, open bool) {
	d := e.doc
	prefix, local := d.bytes(e.prefix), d.bytes(e.local)
	dst = append(dst, '<')
	dst = appendQName(dst, prefix, local)

	// The element's own attributes, declarations included, as they were.
	for i := range e.attrs {
		a := &e.attrs[i]
		ap, al, av := d.bytes(a.prefix), d.bytes(a.local), d.bytes(a.value)
		dst = append(dst, ' ')
		dst = appendQName(dst, ap, al)
		dst = append(dst, '=')
		dst = appendQuoted(dst, av)
		switch {
		case len(ap) == 0 && string(al) == "xmlns":
			binds = append(binds, binding{nil, declaredNS(av)})
		case string(ap) == "xmlns":
			binds = append(binds, binding{al, declaredNS(av)})
		}
	}
	// Then whatever the output lacks for the element's name and attributes. An
	// unprefixed element in no namespace under a default one gets xmlns=''.
	space := d.bytes(e.space)
	if _, same := boundTo(binds, rootNS, prefix, space); !same {
		dst, binds = declare(dst, binds, prefix, space)
	}
	for i := range e.attrs {
		a := &e.attrs[i]
		ap := d.bytes(a.prefix)
		if len(ap) == 0 || string(ap) == "xml" || string(ap) == "xmlns" {
			continue
		}
		as := d.bytes(a.space)
		if _, same := boundTo(binds, rootNS, ap, as); !same {
			dst, binds = declare(dst, binds, ap, as)
		}
	}
	if len(e.children) == 0 && len(e.text) == 0 {
		return append(dst, '/', '>'), binds, false
	}
	return append(dst, '>'), binds, true
}

func appendSeg(dst []byte, d *document, s textSeg) []byte {
	raw := d.bytes(s.span)
	if !s.cdata {
		return append(dst, raw...)
	}
	dst = append(dst, "<![CDATA["...)
	dst = append(dst, raw...)
	return append(dst, "]]>"...)
}

// appendQuoted appends a raw attribute value between quotes it does not contain.
func appendQuoted(dst, raw []byte) []byte {
	q := byte('\'')
	if bytes.IndexByte(raw, '\'') >= 0 {
		q = '"'
	}
	dst = append(dst, q)
	dst = append(dst, raw...)
	return append(dst, q)
}

// declaredNS returns the namespace name a raw declaration value stands for.
func declaredNS(raw []byte) []byte {
	if !needsDecoding(raw) {
		return raw
	}
	ns, _ := xmlscan.UnescapeAttr(nil, raw) // rare: a namespace name with references
	return ns
}
