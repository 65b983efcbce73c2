package stanza

import (
	"bytes"

	"github.com/valyala/bytebufferpool"
)

// Rewriting works on raw bytes: the router stamps a stanza's from (and sometimes to)
// by copying the stanza with those values replaced or inserted, never by building a
// tree. Everything outside the replaced values is copied byte for byte.

// AppendRewrite appends raw to dst with the top-level from attribute set to from and
// the to attribute set to to, and returns the extended slice. A nil from or to leaves
// that attribute as it is; a non-nil one replaces the existing value (keeping its
// quotes) or, when the attribute is absent, is inserted right after the element name.
// Values are escaped for an attribute (EscapeAttr), so they are given decoded, e.g. a
// JID's string form. h must have been filled by ParseHeader from raw.
//
// It allocates only when dst must grow. Any goroutine may call it.
func AppendRewrite(dst, raw []byte, h *Header, from, to []byte) []byte {
	type edit struct {
		span Span
		val  []byte
	}
	var edits [2]edit
	n := 0
	pos := h.NameEnd
	dst = append(dst, raw[:pos]...)
	if from != nil {
		if h.From == nil {
			dst = appendAttr(dst, "from", from)
		} else {
			edits[n] = edit{h.FromSpan, from}
			n++
		}
	}
	if to != nil {
		if h.To == nil {
			dst = appendAttr(dst, "to", to)
		} else {
			edits[n] = edit{h.ToSpan, to}
			n++
		}
	}
	if n == 2 && edits[1].span.Start < edits[0].span.Start {
		edits[0], edits[1] = edits[1], edits[0]
	}
	for _, e := range edits[:n] {
		dst = append(dst, raw[pos:e.span.Start]...)
		dst = EscapeAttr(dst, e.val)
		pos = e.span.End
	}
	return append(dst, raw[pos:]...)
}

// WriteRewrite is AppendRewrite into a pooled buffer: it appends to bb.B.
func WriteRewrite(bb *bytebufferpool.ByteBuffer, raw []byte, h *Header, from, to []byte) {
	bb.B = AppendRewrite(bb.B, raw, h, from, to)
}

// appendAttr appends ` name='value'` with value escaped.
func appendAttr[S ~string | ~[]byte](dst []byte, name string, value S) []byte {
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, '=', '\'')
	dst = EscapeAttr(dst, value)
	return append(dst, '\'')
}

// appendRawAttr appends ` name='raw'` where raw is a value taken undecoded from a
// parsed tag. It is copied as is (its references stay valid), delimited by whichever
// quote it does not contain: a raw value never holds its own delimiter.
func appendRawAttr(dst []byte, name string, raw []byte) []byte {
	q := byte('\'')
	if bytes.IndexByte(raw, '\'') >= 0 {
		q = '"'
	}
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, '=', q)
	dst = append(dst, raw...)
	return append(dst, q)
}

// AppendReplyStart appends the unfinished start tag of a reply to the stanza whose
// header is h: the same element name, its own default namespace declaration if it had
// one, from set to the request's to and to set to its from (each omitted when the
// request lacked the other), the request's id, and type='typ'. The caller continues
// with more attributes or closes the tag with "/>" or ">". Values are copied raw, so
// an id with references comes back exactly as sent.
//
// It allocates only when dst must grow. Any goroutine may call it.
func AppendReplyStart(dst []byte, h *Header, typ string) []byte {
	dst = append(dst, '<')
	if h.Prefix != nil {
		dst = append(dst, h.Prefix...)
		dst = append(dst, ':')
	}
	dst = append(dst, h.Local...)
	if h.Xmlns != nil {
		dst = appendRawAttr(dst, "xmlns", h.Xmlns)
	}
	if h.To != nil {
		dst = appendRawAttr(dst, "from", h.To)
	}
	if h.From != nil {
		dst = appendRawAttr(dst, "to", h.From)
	}
	if h.ID != nil {
		dst = appendRawAttr(dst, "id", h.ID)
	}
	return appendAttr(dst, "type", typ)
}

// AppendIQResult appends the result to the iq whose header is h (RFC 6120 section
// 8.2.3): <iq type='result'> with to and from swapped and the same id, holding payload
// verbatim, or self-closing when payload is empty. payload must be well-formed XML
// (for example built with a Builder). h is usually an IQ of type get or set; the
// function does not check.
//
// It allocates only when dst must grow. Any goroutine may call it.
func AppendIQResult(dst []byte, h *Header, payload []byte) []byte {
	dst = AppendReplyStart(dst, h, "result")
	if len(payload) == 0 {
		return append(dst, '/', '>')
	}
	dst = append(dst, '>')
	dst = append(dst, payload...)
	dst = append(dst, "</"...)
	if h.Prefix != nil {
		dst = append(dst, h.Prefix...)
		dst = append(dst, ':')
	}
	dst = append(dst, h.Local...)
	return append(dst, '>')
}
