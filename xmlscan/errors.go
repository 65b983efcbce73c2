package xmlscan

import (
	"errors"
	"strconv"
)

// ErrNeedMore is returned by [Scanner.Next] when the buffer holds no further
// complete token. It is not an error of the stream: append more bytes and call
// Next again. The scanner has kept its state; nothing will be rescanned apart
// from at most a few bytes of a split UTF-8 sequence or markup delimiter.
var ErrNeedMore = errors.New("xmlscan: need more input")

// ErrBufferShrunk is returned by [Scanner.Next] when buf is shorter than the
// position the scanner already reached: the caller dropped bytes without
// telling the scanner through [Scanner.Shift]. It is a caller bug, not a
// stream error, and does not kill the scanner.
var ErrBufferShrunk = errors.New("xmlscan: buffer shorter than the scan position (bytes dropped without Shift?)")

// ErrInvalidReference is returned by [Unescape] for a malformed or forbidden
// entity or character reference.
var ErrInvalidReference = errors.New("xmlscan: invalid entity or character reference")

// Code classifies a fatal stream error by the RFC 6120 section 4.9.3 stream
// error condition that the server should send before closing the stream.
type Code uint8

// The stream error conditions the scanner can detect. The zero Code is
// reserved and prints as "undefined-condition".
const (
	// NotWellFormed: the input violates XML 1.0 or Namespaces in XML 1.0
	// well-formedness (RFC 6120 section 4.9.3.13).
	NotWellFormed Code = iota + 1
	// RestrictedXML: a comment, processing instruction, DTD or reference to
	// an entity other than the five predefined ones (RFC 6120 sections
	// 4.9.3.18 and 11.1).
	RestrictedXML
	// PolicyViolation: a configured limit was exceeded (RFC 6120 section
	// 4.9.3.14).
	PolicyViolation
	// BadNamespacePrefix: an unbound prefix, or a reserved prefix or
	// namespace name used against the rules of Namespaces in XML
	// (RFC 6120 section 4.9.3.2).
	BadNamespacePrefix
	// UnsupportedEncoding: the XML declaration names an encoding other than
	// UTF-8 (RFC 6120 sections 4.9.3.22 and 11.6).
	UnsupportedEncoding
)

// String returns the RFC 6120 stream error condition name, the local name of
// the element to put inside <stream:error/>.
func (c Code) String() string {
	switch c {
	case NotWellFormed:
		return "not-well-formed"
	case RestrictedXML:
		return "restricted-xml"
	case PolicyViolation:
		return "policy-violation"
	case BadNamespacePrefix:
		return "bad-namespace-prefix"
	case UnsupportedEncoding:
		return "unsupported-encoding"
	default:
		return "undefined-condition"
	}
}

// Error is a fatal stream error found by the scanner. Once a Scanner has
// returned an *Error it returns the same value from every later call to Next
// until Reset or Recycle.
type Error struct {
	Code   Code
	Offset int64  // absolute stream byte offset of the offending construct
	Msg    string // human-readable detail, constant per rule (no input echoed)
}

// Error formats the error; it allocates, so call it only when logging.
func (e *Error) Error() string {
	return "xmlscan: " + e.Code.String() + " at offset " +
		strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// Messages, one per rule. They are constants so that tests and the
// differential fuzzer can recognise which rule fired, and so that no input
// bytes are echoed back into logs.
const (
	msgBadUTF8          = "invalid UTF-8"
	msgBadChar          = "character outside the XML Char production"
	msgBadCharRef       = "character reference to a character outside the XML Char production"
	msgSurrogateRef     = "character reference to a surrogate code point"
	msgMalformedRef     = "malformed character or entity reference"
	msgUndefinedEntity  = "reference to an entity other than amp, lt, gt, quot, apos"
	msgCDATAEnd         = "]]> in character data"
	msgLTInAttr         = "< in attribute value"
	msgBadNameStart     = "invalid name start character"
	msgBadNameChar      = "invalid name character"
	msgBadQName         = "name is not a valid QName (empty prefix or local part, or several colons)"
	msgAttrNoSpace      = "attributes must be separated by whitespace"
	msgAttrNoEq         = "expected = after attribute name"
	msgAttrNoQuote      = "attribute value must be quoted"
	msgExpectGT         = "expected >"
	msgDupAttr          = "duplicate attribute"
	msgDupExpanded      = "duplicate attribute (same namespace and local name)"
	msgMismatch         = "end tag does not match the open element"
	msgEndNoOpen        = "end tag without an open element"
	msgTextOutside      = "character data outside the root element"
	msgAfterEnd         = "content after the end of the stream"
	msgBadMarkup        = "invalid markup after <"
	msgBadCDATAOpen     = "invalid <![ sequence (only <![CDATA[ is allowed)"
	msgComment          = "comments are not allowed"
	msgPI               = "processing instructions are not allowed"
	msgDTD              = "document type and markup declarations are not allowed"
	msgBadDecl          = "malformed XML declaration"
	msgBadVersion       = "XML version other than 1.0"
	msgBadEncoding      = "encoding other than UTF-8"
	msgUnboundPrefix    = "unbound namespace prefix"
	msgXMLNSPrefix      = "the xmlns prefix must not be declared or used on elements"
	msgXMLPrefix        = "the xml prefix must be bound only to its namespace, and only it"
	msgReservedNS       = "reserved namespace name bound to a prefix or as default"
	msgEmptyPrefixed    = "a prefixed namespace declaration must not be empty"
	msgDepth            = "element nesting deeper than MaxDepth"
	msgAttrs            = "more attributes than MaxAttrs"
	msgNameLen          = "name longer than MaxNameLen"
	msgStanzaBytes      = "stanza or token larger than MaxStanzaBytes"
	msgIncompleteHeader = "stream header must be a start tag"
)
