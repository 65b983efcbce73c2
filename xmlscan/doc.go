// Package xmlscan is the push-style, resumable, zero-allocation XML
// tokenizer through which every byte an XMPP server receives passes.
//
// One XMPP stream is one never-ending XML document: an optional XML
// declaration, the stream header <stream:stream ...> (depth 0, open until the
// stream ends), stanzas as its depth-1 children, and </stream:stream>. Bytes
// arrive in arbitrary chunks; the [Scanner] keeps its parse state between
// reads, in the manner of nats-server's protocol parser, so a token split
// across reads resumes where it stopped instead of being scanned again, and
// no goroutine is needed per connection.
//
// The package imports nothing of Hermod and must not: it knows XML, XMPP's
// restrictions on XML (RFC 6120 section 11) and RFC 7395 framing, and nothing
// about stanzas, routing or sessions. It never allocates per token, never
// copies stanza bytes (only the start tags whose attributes it reports),
// never panics on any input, and never blocks.
//
// # The read loop
//
// The caller owns the buffer. It appends what it reads, calls [Scanner.Next]
// until [ErrNeedMore], handles tokens (a token with StanzaEnd carries the
// whole stanza's bytes in Token.Stanza), and drops bytes the scanner no
// longer needs with [Scanner.Keep] and [Scanner.Shift]:
//
//	buf = append(buf, data...)
//	for {
//		tok, err := sc.Next(buf)
//		if err == xmlscan.ErrNeedMore {
//			break
//		}
//		if err != nil {
//			return err // *xmlscan.Error: send <stream:error> with its Code
//		}
//		if tok.StanzaEnd {
//			route(tok.Stanza)
//			n := sc.Keep()
//			buf = buf[:copy(buf, buf[n:])]
//			sc.Shift(n)
//		}
//	}
//
// Inside a stanza Keep returns the stanza's start, so the stanza stays whole
// in the buffer until its last token; MaxStanzaBytes bounds how much that is.
//
// # Stanzas
//
// The routing path does not need the elements inside stanzas.
// [Scanner.NextStanza] runs the same state machine with every rule enforced,
// but reports only top-level events: the stream header, each complete stanza
// as one StartTag token (StanzaEnd set, Stanza its bytes, the top element's
// name, namespace and attributes), whitespace between stanzas, and the
// stream's end. The read loop is the one above with NextStanza in place of
// Next; it costs about a third less than calling Next for every token (see
// BENCHMARKS.md).
//
// # Fast paths
//
// Most tokens arrive whole and plain: ASCII names, no prefixes, predefined
// entity references, valid UTF-8. Single-pass fast paths scan those with
// local variables, eight bytes at a time where they can, and give up on
// anything else (the end of the buffer, an error, a limit, anything
// unusual) without side effects, so the resumable state machine scans that
// token from its start. Every verdict and error offset therefore comes from
// the state machine, and the chunking tests hold both paths to the same
// tokens: one feed takes the fast paths, a byte-at-a-time feed the state
// machine.
//
// # Tokens
//
// A [Token] is a start tag, an end tag, character data or a CDATA section.
// Its slices alias the caller's buffer (Space may alias the scanner's arena)
// and are valid only until the buffer changes or Next, NextStanza, Shift,
// Reset, Recycle or Compact is called again. The attributes of the last start tag are read with
// [Scanner.NumAttrs], [Scanner.Attr] and [Scanner.AttrValue] from a copy of
// the tag that the scanner owns; values are raw, and [Unescape] or
// [UnescapeAttr] decode them into a buffer the caller sizes. Raw slices of
// consecutive tokens from Next are contiguous in the stream, so a stanza is
// exactly the bytes the client sent, ready to route unchanged.
//
// Whitespace between stanzas (keepalives) comes back as Text at depth 0 as
// soon as it arrives, possibly in several pieces; everything else comes back
// whole. The XML declaration and whitespace outside the stream header
// produce no tokens.
//
// The scanner keeps no reference to the caller's buffer once a call returns,
// so the buffer may be pooled and reused freely, and an idle connection's
// scanner pins nothing of it. [Scanner.Compact] also releases the scanner's
// own spare capacity while a connection is idle.
//
// # Namespaces
//
// Namespace declarations are scoped per element and prefixes are resolved,
// so every tag carries its namespace name in Token.Space. Bindings live in a
// scanner-owned arena that is reused, not allocated per element; the stream
// header's bindings (xmlns='jabber:client', xmlns:stream=...) therefore
// survive after the caller shifts the header's bytes away.
//
// # Errors
//
// A violation is a fatal [*Error] carrying the RFC 6120 stream error
// condition ([Code.String] gives "not-well-formed", "restricted-xml",
// "policy-violation", "bad-namespace-prefix" or "unsupported-encoding") and
// the absolute stream offset of the offending construct. The scanner then
// stays dead: every later call returns the same error. Errors and tokens do
// not depend on how the bytes were split into reads.
//
// The scanner enforces restricted XML (no comments, processing instructions,
// DTDs, or entity references other than the five predefined ones), XML 1.0
// well-formedness (UTF-8, the Char production, names, matching tags, unique
// attributes, no "]]>" in text, nothing after the stream's end), Namespaces
// in XML, and the configured [Limits]. Where it is stricter than
// encoding/xml, the reasons are listed beside FuzzDifferential.
//
// # Streams and framing
//
// [Scanner.Reset] starts a new stream in the same buffer (after STARTTLS or
// SASL success, or for a new BOSH body). With Limits.Framed, the scanner
// reads RFC 7395 (XMPP over WebSocket) framing: every top-level element is a
// complete unit and a stanza is a depth-0 element.
//
// # Concurrency
//
// A Scanner belongs to one goroutine at a time, normally the connection's
// event loop. [Unescape] and [UnescapeAttr] are safe from any goroutine.
package xmlscan
