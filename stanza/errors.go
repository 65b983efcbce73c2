package stanza

import "github.com/valyala/bytebufferpool"

// StreamError is a stream-level error (RFC 6120 section 4.9): the server sends it as
// <stream:error/> and closes the stream.
type StreamError struct {
	Condition StreamCondition
	// Host is the character data of see-other-host: the host (and optional port) the
	// peer should connect to instead. Ignored for every other condition.
	Host string
	// Text is an optional human-readable description, in language Lang (optional).
	Text, Lang string
	// App is an optional application-specific condition element, as well-formed raw
	// XML with its own namespace declaration; it is written verbatim.
	App []byte
}

// Error returns "stream error: <condition>" followed by ": <text>" when there is text.
func (e *StreamError) Error() string {
	s := "stream error: " + e.Condition.String()
	if e.Condition == StreamSeeOtherHost && e.Host != "" {
		s += " " + e.Host
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// AppendXML appends the <stream:error/> element to dst for a stream whose header
// bound the stream prefix (TCP, BOSH). It allocates only when dst must grow.
func (e *StreamError) AppendXML(dst []byte) []byte {
	return e.appendXML(dst, false)
}

// AppendFramedXML appends the <stream:error/> element declaring the stream prefix
// itself, as RFC 7395 (WebSocket) framing needs, since no enclosing header binds it.
func (e *StreamError) AppendFramedXML(dst []byte) []byte {
	return e.appendXML(dst, true)
}

func (e *StreamError) appendXML(dst []byte, declare bool) []byte {
	dst = append(dst, "<stream:error"...)
	if declare {
		dst = append(dst, " xmlns:stream='"+NSStreams+"'"...)
	}
	dst = append(dst, '>')
	var content string
	if e.Condition == StreamSeeOtherHost {
		content = e.Host
	}
	dst = appendCondition(dst, e.Condition.String(), NSStreamErrors, content)
	dst = appendErrorText(dst, NSStreamErrors, e.Text, e.Lang)
	dst = append(dst, e.App...)
	return append(dst, "</stream:error>"...)
}

// StanzaError is the <error/> child of a stanza of type error (RFC 6120 section 8.3).
type StanzaError struct {
	// Type is the error type; zero means Condition.DefaultType().
	Type      ErrorType
	Condition StanzaCondition
	// URI is the character data of gone and redirect: the XMPP URI of the new or
	// alternative address. Ignored for every other condition.
	URI string
	// Text is an optional human-readable description, in language Lang (optional).
	Text, Lang string
	// By is the optional JID of the entity that generated the error.
	By string
	// App is an optional application-specific condition element, as well-formed raw
	// XML with its own namespace declaration; it is written verbatim.
	App []byte
}

// EffectiveType returns Type, or the condition's default type when Type is zero.
func (e *StanzaError) EffectiveType() ErrorType {
	if e.Type == 0 || e.Type >= numErrorTypes {
		return e.Condition.DefaultType()
	}
	return e.Type
}

// Error returns "stanza error: <type> <condition>" followed by ": <text>" when there
// is text.
func (e *StanzaError) Error() string {
	s := "stanza error: " + e.EffectiveType().String() + " " + e.Condition.String()
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// AppendXML appends the <error/> element to dst. It allocates only when dst must
// grow.
func (e *StanzaError) AppendXML(dst []byte) []byte {
	dst = append(dst, "<error"...)
	dst = appendAttr(dst, "type", e.EffectiveType().String())
	if e.By != "" {
		dst = appendAttr(dst, "by", e.By)
	}
	dst = append(dst, '>')
	var content string
	if e.Condition == Gone || e.Condition == Redirect {
		content = e.URI
	}
	dst = appendCondition(dst, e.Condition.String(), NSStanzaErrors, content)
	dst = appendErrorText(dst, NSStanzaErrors, e.Text, e.Lang)
	dst = append(dst, e.App...)
	return append(dst, "</error>"...)
}

// appendCondition writes <name xmlns='ns'/> or, with content, <name xmlns='ns'>content</name>.
func appendCondition(dst []byte, name, ns, content string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, " xmlns='"...)
	dst = append(dst, ns...)
	if content == "" {
		return append(dst, "'/>"...)
	}
	dst = append(dst, "'>"...)
	dst = EscapeText(dst, content)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, '>')
}

func appendErrorText(dst []byte, ns, text, lang string) []byte {
	if text == "" {
		return dst
	}
	dst = append(dst, "<text xmlns='"...)
	dst = append(dst, ns...)
	dst = append(dst, '\'')
	if lang != "" {
		dst = appendAttr(dst, "xml:lang", lang)
	}
	dst = append(dst, '>')
	dst = EscapeText(dst, text)
	return append(dst, "</text>"...)
}

// AppendErrorReply appends to dst the error reply to the stanza raw, whose header h
// ParseHeader filled (RFC 6120 section 8.3.1): the same element with to and from
// swapped, the same id, type='error', the original payload (the children of raw,
// verbatim, which lets the sender see what failed; ejabberd does the same) and then
// e's <error/> element. When raw's end tag cannot be found the payload is left out.
//
// A stanza of type error must never be answered with an error: for such a stanza
// (h.IsError()) AppendErrorReply returns dst unchanged. Callers check h.IsError()
// first and drop the stanza.
//
// It allocates only when dst must grow. Any goroutine may call it.
func AppendErrorReply(dst, raw []byte, h *Header, e StanzaError) []byte {
	if h.IsError() {
		return dst
	}
	dst = AppendReplyStart(dst, h, "error")
	dst = append(dst, '>')
	if inner, err := h.Inner(raw); err == nil {
		dst = append(dst, inner...)
	}
	dst = e.AppendXML(dst)
	dst = append(dst, "</"...)
	if h.Prefix != nil {
		dst = append(dst, h.Prefix...)
		dst = append(dst, ':')
	}
	dst = append(dst, h.Local...)
	return append(dst, '>')
}

// WriteErrorReply is AppendErrorReply into a pooled buffer: it appends to bb.B.
func WriteErrorReply(bb *bytebufferpool.ByteBuffer, raw []byte, h *Header, e StanzaError) {
	bb.B = AppendErrorReply(bb.B, raw, h, e)
}
