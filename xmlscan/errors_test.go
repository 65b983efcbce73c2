package xmlscan

import (
	"errors"
	"strings"
	"testing"
)

// errCase is one input that must fail. Unless raw is set the input follows
// streamHeader, and at is relative to the end of the header.
type errCase struct {
	name string
	in   string
	code Code
	msg  string
	at   int
	raw  bool
	lim  Limits
	hdr  string // replaces streamHeader when set
}

// smallHeader keeps the header within the small limits of the limit cases.
const smallHeader = "<s xmlns='jabber:client'>"

var errCases = []errCase{
	// Restricted XML (RFC 6120 section 11.1).
	{name: "comment", in: "<a><!-- x --></a>", code: RestrictedXML, msg: msgComment, at: 3},
	{name: "comment between stanzas", in: "<!---->", code: RestrictedXML, msg: msgComment},
	{name: "comment before header", in: "<!-- x -->" + streamHeader, code: RestrictedXML, msg: msgComment, raw: true},
	{name: "doctype", in: "<!DOCTYPE stream>" + streamHeader, code: RestrictedXML, msg: msgDTD, raw: true},
	{name: "entity declaration", in: "<a><!ENTITY x 'y'></a>", code: RestrictedXML, msg: msgDTD, at: 3},
	{name: "processing instruction", in: "<a><?php x ?></a>", code: RestrictedXML, msg: msgPI, at: 3},
	{name: "xml declaration mid-stream", in: "<?xml version='1.0'?>", code: RestrictedXML, msg: msgPI},
	{name: "xml declaration after whitespace", in: " <?xml version='1.0'?>" + streamHeader, code: RestrictedXML, msg: msgPI, at: 1, raw: true},
	{name: "pi named xml-stylesheet at start", in: "<?xml-stylesheet href='x'?>" + streamHeader, code: RestrictedXML, msg: msgPI, raw: true},
	{name: "undefined entity", in: "<a>&nbsp;</a>", code: RestrictedXML, msg: msgUndefinedEntity, at: 3},
	{name: "undefined entity prefix of predefined", in: "<a>&am;</a>", code: RestrictedXML, msg: msgUndefinedEntity, at: 3},
	{name: "undefined entity longer than predefined", in: "<a>&ampx;</a>", code: RestrictedXML, msg: msgUndefinedEntity, at: 3},
	{name: "undefined entity in attribute", in: "<a x='&foo;'/>", code: RestrictedXML, msg: msgUndefinedEntity, at: 6},

	// Encoding and characters.
	{name: "invalid utf-8 in text", in: "<a>\xff</a>", code: NotWellFormed, msg: msgBadUTF8, at: 3},
	{name: "truncated utf-8 then ascii", in: "<a>\xe6\x97x</a>", code: NotWellFormed, msg: msgBadUTF8, at: 3},
	{name: "overlong utf-8", in: "<a>\xc0\xaf</a>", code: NotWellFormed, msg: msgBadUTF8, at: 3},
	{name: "surrogate in utf-8", in: "<a>\xed\xa0\x80</a>", code: NotWellFormed, msg: msgBadUTF8, at: 3},
	{name: "utf-8 above U+10FFFF", in: "<a>\xf4\x90\x80\x80</a>", code: NotWellFormed, msg: msgBadUTF8, at: 3},
	{name: "U+FFFE in text", in: "<a>\uFFFE</a>", code: NotWellFormed, msg: msgBadChar, at: 3},
	{name: "U+FFFF in attribute", in: "<a x='\uFFFF'/>", code: NotWellFormed, msg: msgBadChar, at: 6},
	{name: "NUL in text", in: "<a>\x00</a>", code: NotWellFormed, msg: msgBadChar, at: 3},
	{name: "control in attribute", in: "<a x='\x01'/>", code: NotWellFormed, msg: msgBadChar, at: 6},
	{name: "control in cdata", in: "<a><![CDATA[\x1f]]></a>", code: NotWellFormed, msg: msgBadChar, at: 12},
	{name: "invalid utf-8 in cdata", in: "<a><![CDATA[\x80]]></a>", code: NotWellFormed, msg: msgBadUTF8, at: 12},
	{name: "invalid utf-8 in attribute", in: "<a x='\xfe'/>", code: NotWellFormed, msg: msgBadUTF8, at: 6},
	{name: "invalid utf-8 in name", in: "<a\xff/>", code: NotWellFormed, msg: msgBadUTF8, at: 2},
	{name: "invalid utf-8 between stanzas", in: "\xff", code: NotWellFormed, msg: msgBadUTF8},
	{name: "byte order mark before header", in: "\uFEFF" + streamHeader, code: NotWellFormed, msg: msgTextOutside, raw: true},
	{name: "char ref to NUL", in: "<a>&#0;</a>", code: NotWellFormed, msg: msgBadCharRef, at: 3},
	{name: "char ref to control", in: "<a x='&#x1B;'/>", code: NotWellFormed, msg: msgBadCharRef, at: 6},
	{name: "char ref to surrogate", in: "<a>&#xD800;</a>", code: NotWellFormed, msg: msgSurrogateRef, at: 3},
	{name: "char ref to last surrogate", in: "<a x='&#57343;'/>", code: NotWellFormed, msg: msgSurrogateRef, at: 6},
	{name: "char ref to U+FFFE", in: "<a>&#65534;</a>", code: NotWellFormed, msg: msgBadCharRef, at: 3},
	{name: "char ref above unicode", in: "<a>&#x110000;</a>", code: NotWellFormed, msg: msgBadCharRef, at: 3},
	{name: "char ref overflow", in: "<a>&#99999999999999999999;</a>", code: NotWellFormed, msg: msgBadCharRef, at: 3},
	{name: "char ref without digits", in: "<a>&#;</a>", code: NotWellFormed, msg: msgMalformedRef, at: 3},
	{name: "hex char ref without digits", in: "<a>&#x;</a>", code: NotWellFormed, msg: msgMalformedRef, at: 3},
	{name: "uppercase X in char ref", in: "<a>&#X41;</a>", code: NotWellFormed, msg: msgMalformedRef, at: 3},
	{name: "bad digit in char ref", in: "<a>&#4a;</a>", code: NotWellFormed, msg: msgMalformedRef, at: 3},
	{name: "bare ampersand", in: "<a>a & b</a>", code: NotWellFormed, msg: msgMalformedRef, at: 5},
	{name: "entity without semicolon", in: "<a>&amp </a>", code: NotWellFormed, msg: msgMalformedRef, at: 3},
	{name: "empty entity", in: "<a>&;</a>", code: NotWellFormed, msg: msgMalformedRef, at: 3},
	{name: "ampersand in attribute", in: "<a x='&'/>", code: NotWellFormed, msg: msgMalformedRef, at: 6},

	// Markup.
	{name: "cdata end in text", in: "<a>x]]>y</a>", code: NotWellFormed, msg: msgCDATAEnd, at: 4},
	{name: "cdata end after many brackets", in: "<a>]]]]></a>", code: NotWellFormed, msg: msgCDATAEnd, at: 5},
	{name: "cdata end between stanzas", in: "]]>", code: NotWellFormed, msg: msgCDATAEnd},
	{name: "lt in attribute", in: "<a x='<'/>", code: NotWellFormed, msg: msgLTInAttr, at: 6},
	{name: "unquoted attribute", in: "<a x=1/>", code: NotWellFormed, msg: msgAttrNoQuote, at: 5},
	{name: "attribute without value", in: "<a x/>", code: NotWellFormed, msg: msgAttrNoEq, at: 4},
	{name: "attributes without whitespace", in: "<a x='1'y='2'/>", code: NotWellFormed, msg: msgAttrNoSpace, at: 8},
	{name: "garbage in tag", in: "<a x='1'!/>", code: NotWellFormed, msg: msgExpectGT, at: 8},
	{name: "slash not followed by gt", in: "<a/ >", code: NotWellFormed, msg: msgExpectGT, at: 3},
	{name: "space after lt", in: "< a/>", code: NotWellFormed, msg: msgBadNameStart, at: 1},
	{name: "digit name start", in: "<1a/>", code: NotWellFormed, msg: msgBadNameStart, at: 1},
	{name: "dash name start", in: "<-a/>", code: NotWellFormed, msg: msgBadNameStart, at: 1},
	{name: "empty tag", in: "<>", code: NotWellFormed, msg: msgBadNameStart, at: 1},
	{name: "non-name unicode start", in: "<\u00d7/>", code: NotWellFormed, msg: msgBadNameStart, at: 1},
	{name: "non-name unicode char", in: "<a\u00d7/>", code: NotWellFormed, msg: msgBadNameChar, at: 2},
	{name: "combining mark as name start", in: "<\u0301/>", code: NotWellFormed, msg: msgBadNameStart, at: 1},
	{name: "attribute name start", in: "<a -x='1'/>", code: NotWellFormed, msg: msgBadNameStart, at: 3},
	{name: "empty prefix", in: "<:a/>", code: NotWellFormed, msg: msgBadQName, at: 1},
	{name: "colon only", in: "<a :='1'/>", code: NotWellFormed, msg: msgBadQName, at: 3},
	{name: "empty local", in: "<a:/>", code: NotWellFormed, msg: msgBadQName, at: 1},
	{name: "two colons", in: "<a:b:c xmlns:a='u'/>", code: NotWellFormed, msg: msgBadQName, at: 1},
	{name: "digit after colon", in: "<a:1 xmlns:a='u'/>", code: NotWellFormed, msg: msgBadQName, at: 1},
	{name: "empty attribute local", in: "<a p:='1'/>", code: NotWellFormed, msg: msgBadQName, at: 3},
	{name: "bad markup after lt-bang", in: "<a><!x></a>", code: NotWellFormed, msg: msgBadMarkup, at: 3},
	{name: "bad cdata opener", in: "<a><![CDATX[x]]></a>", code: NotWellFormed, msg: msgBadCDATAOpen, at: 3},
	{name: "lowercase cdata", in: "<a><![cdata[x]]></a>", code: NotWellFormed, msg: msgBadCDATAOpen, at: 3},
	{name: "cdata before header", in: "<![CDATA[x]]>" + streamHeader, code: NotWellFormed, msg: msgTextOutside, raw: true},
	{name: "text before header", in: "hello" + streamHeader, code: NotWellFormed, msg: msgTextOutside, raw: true},
	{name: "end tag before header", in: "</a>", code: NotWellFormed, msg: msgEndNoOpen, raw: true},
	{name: "mismatched end tag", in: "<a></b>", code: NotWellFormed, msg: msgMismatch, at: 3},
	{name: "mismatched prefix", in: "<a:b xmlns:a='u' xmlns:c='u'></c:b>", code: NotWellFormed, msg: msgMismatch, at: 29},
	{name: "end tag prefix of open name", in: "<ab></a>", code: NotWellFormed, msg: msgMismatch, at: 4},
	{name: "stanza closes the stream", in: "<a></stream:stream>", code: NotWellFormed, msg: msgMismatch, at: 3},
	{name: "junk in end tag", in: "<a></a b>", code: NotWellFormed, msg: msgExpectGT, at: 7},
	{name: "element after stream end", in: "</stream:stream><a/>", code: NotWellFormed, msg: msgAfterEnd, at: 16},
	{name: "text after stream end", in: "</stream:stream> x", code: NotWellFormed, msg: msgAfterEnd, at: 17},
	{name: "duplicate attribute", in: "<a x='1' y='2' x='3'/>", code: NotWellFormed, msg: msgDupAttr, at: 15},
	{name: "duplicate xmlns", in: "<a xmlns='u' xmlns='v'/>", code: NotWellFormed, msg: msgDupAttr, at: 13},
	{name: "duplicate prefix declaration", in: "<a xmlns:p='u' xmlns:p='u'/>", code: NotWellFormed, msg: msgDupAttr, at: 15},
	{name: "duplicate expanded name", in: "<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>", code: NotWellFormed, msg: msgDupExpanded, at: 35},

	// XML declaration.
	{name: "declaration without version", in: "<?xml encoding='UTF-8'?>" + streamHeader, code: NotWellFormed, msg: msgBadDecl, raw: true},
	{name: "declaration version 1.1", in: "<?xml version='1.1'?>" + streamHeader, code: NotWellFormed, msg: msgBadVersion, raw: true},
	{name: "declaration encoding latin1", in: "<?xml version='1.0' encoding='ISO-8859-1'?>" + streamHeader, code: UnsupportedEncoding, msg: msgBadEncoding, raw: true},
	{name: "declaration encoding utf-16", in: "<?xml version='1.0' encoding='UTF-16'?>", code: UnsupportedEncoding, msg: msgBadEncoding, raw: true},
	{name: "declaration bad encoding name", in: "<?xml version='1.0' encoding='8bit'?>", code: NotWellFormed, msg: msgBadDecl, raw: true},
	{name: "declaration wrong order", in: "<?xml version='1.0' standalone='yes' encoding='UTF-8'?>", code: NotWellFormed, msg: msgBadDecl, raw: true},
	{name: "declaration bad standalone", in: "<?xml version='1.0' standalone='maybe'?>", code: NotWellFormed, msg: msgBadDecl, raw: true},
	{name: "declaration mismatched quotes", in: "<?xml version='1.0\"?>", code: NotWellFormed, msg: msgBadDecl, raw: true},
	{name: "declaration missing space", in: "<?xml version='1.0'encoding='UTF-8'?>", code: NotWellFormed, msg: msgBadDecl, raw: true},
	{name: "declaration junk", in: "<?xml version='1.0' foo='bar'?>", code: NotWellFormed, msg: msgBadDecl, raw: true},

	// Namespaces.
	{name: "unbound element prefix", in: "<p:a/>", code: BadNamespacePrefix, msg: msgUnboundPrefix, at: 1},
	{name: "unbound attribute prefix", in: "<a p:x='1'/>", code: BadNamespacePrefix, msg: msgUnboundPrefix, at: 3},
	{name: "prefix out of scope", in: "<a><b xmlns:p='u'/><p:c/></a>", code: BadNamespacePrefix, msg: msgUnboundPrefix, at: 20},
	{name: "unbound prefix in end tag", in: "<a></p:a>", code: NotWellFormed, msg: msgMismatch, at: 3},
	{name: "unbound header prefix", in: "<stream:stream xmlns='jabber:client'>", code: BadNamespacePrefix, msg: msgUnboundPrefix, at: 1, raw: true},
	{name: "declare xmlns prefix", in: "<a xmlns:xmlns='u'/>", code: BadNamespacePrefix, msg: msgXMLNSPrefix, at: 3},
	{name: "xmlns prefix on element", in: "<xmlns:a/>", code: BadNamespacePrefix, msg: msgXMLNSPrefix, at: 1},
	{name: "rebind xml prefix", in: "<a xmlns:xml='u'/>", code: BadNamespacePrefix, msg: msgXMLPrefix, at: 3},
	{name: "bind xml namespace to other prefix", in: "<a xmlns:x='http://www.w3.org/XML/1998/namespace'/>", code: BadNamespacePrefix, msg: msgXMLPrefix, at: 3},
	{name: "xml namespace as default", in: "<a xmlns='http://www.w3.org/XML/1998/namespace'/>", code: BadNamespacePrefix, msg: msgXMLPrefix, at: 3},
	{name: "bind xmlns namespace", in: "<a xmlns:x='http://www.w3.org/2000/xmlns/'/>", code: BadNamespacePrefix, msg: msgReservedNS, at: 3},
	{name: "empty prefixed declaration", in: "<a xmlns:p=''/>", code: BadNamespacePrefix, msg: msgEmptyPrefixed, at: 3},

	// Limits.
	{name: "depth", in: "<a><b><c>", code: PolicyViolation, msg: msgDepth, at: 6, hdr: smallHeader, lim: Limits{MaxDepth: 3}},
	{name: "attributes", in: "<a x='1' y='2' z='3'/>", code: PolicyViolation, msg: msgAttrs, at: 15, hdr: smallHeader, lim: Limits{MaxAttrs: 2}},
	{name: "declarations count as attributes", in: "<a xmlns='u' xmlns:p='v' p:z='3'/>", code: PolicyViolation, msg: msgAttrs, at: 25, hdr: smallHeader, lim: Limits{MaxAttrs: 2}},
	{name: "element name length", in: "<abcdefghi/>", code: PolicyViolation, msg: msgNameLen, at: 9, hdr: smallHeader, lim: Limits{MaxNameLen: 8}},
	{name: "qualified name length", in: "<abcd:efghi xmlns:abcd='u'/>", code: PolicyViolation, msg: msgNameLen, at: 9, hdr: smallHeader, lim: Limits{MaxNameLen: 8}},
	{name: "colon at name limit", in: "<abcdefgh:i/>", code: PolicyViolation, msg: msgNameLen, at: 9, hdr: smallHeader, lim: Limits{MaxNameLen: 8}},
	{name: "multibyte over name limit", in: "<abcdefg\u00e9/>", code: PolicyViolation, msg: msgNameLen, at: 9, hdr: smallHeader, lim: Limits{MaxNameLen: 8}},
	{name: "attribute name length", in: "<a abcdefghi='1'/>", code: PolicyViolation, msg: msgNameLen, at: 11, hdr: smallHeader, lim: Limits{MaxNameLen: 8}},
	{name: "end tag name length", in: "<a></abcdefghijk>", code: PolicyViolation, msg: msgNameLen, at: 13, hdr: smallHeader, lim: Limits{MaxNameLen: 8}},
	{name: "stanza bytes", in: "<message><body>" + strings.Repeat("x", 200) + "</body></message>", code: PolicyViolation, msg: msgStanzaBytes, at: 150, hdr: smallHeader, lim: Limits{MaxStanzaBytes: 150}},
	{name: "stanza bytes in attribute", in: "<message to='" + strings.Repeat("x", 200) + "'/>", code: PolicyViolation, msg: msgStanzaBytes, at: 150, hdr: smallHeader, lim: Limits{MaxStanzaBytes: 150}},
	{name: "header bytes", in: "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='" + strings.Repeat("x", 200) + "'>", code: PolicyViolation, msg: msgStanzaBytes, at: 150, raw: true, lim: Limits{MaxStanzaBytes: 150}},
	{name: "cdata between stanzas", in: "<![CDATA[" + strings.Repeat("x", 200) + "]]>", code: PolicyViolation, msg: msgStanzaBytes, at: 150, hdr: smallHeader, lim: Limits{MaxStanzaBytes: 150}},
}

func TestErrors(t *testing.T) {
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := streamHeader
			if tc.hdr != "" {
				hdr = tc.hdr
			}
			in, base := tc.in, len(hdr)
			if tc.raw {
				base = 0
			} else {
				in = hdr + in
			}
			for _, sizes := range [][]int{{0}, {1}, {3}} {
				_, err := feed(t, New(tc.lim), []byte(in), sizes...)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("sizes %v: err = %v, want %s", sizes, err, tc.code)
				}
				if e.Code != tc.code || e.Msg != tc.msg || e.Offset != int64(base+tc.at) {
					t.Fatalf("sizes %v: got %s, want %s@%d: %s", sizes, errString(err), tc.code, base+tc.at, tc.msg)
				}
			}
		})
	}
}

// TestLimitsExact checks that each limit admits exactly its value.
func TestLimitsExact(t *testing.T) {
	ok := []struct {
		in  string
		lim Limits
	}{
		{"<a><b/></a>", Limits{MaxDepth: 3}},
		{"<a x='1' y='2'/>", Limits{MaxAttrs: 2}},
		{"<abcdefgh/>", Limits{MaxNameLen: 8}},
		{"<ab:efghi xmlns:ab='u'/>", Limits{MaxNameLen: 8}},
		{"<abcdef\u00e9/>", Limits{MaxNameLen: 8}},
		{"<a>" + strings.Repeat("x", 43) + "</a>", Limits{MaxStanzaBytes: 50}},
		{"<a/>" + strings.Repeat(" ", 500) + "<b/>", Limits{MaxStanzaBytes: 50}},
	}
	for _, c := range ok {
		for _, sizes := range [][]int{{0}, {1}} {
			if _, err := feed(t, New(c.lim), []byte(smallHeader+c.in), sizes...); err != nil {
				t.Errorf("%q %+v sizes %v: %v", c.in, c.lim, sizes, err)
			}
		}
	}
}

func TestLimitCeilings(t *testing.T) {
	l := New(Limits{MaxDepth: 1 << 40, MaxAttrs: 1 << 40, MaxNameLen: 1 << 62, MaxStanzaBytes: 1 << 62}).Limits()
	if l.MaxDepth != MaxLimit || l.MaxAttrs != MaxLimit || l.MaxNameLen != MaxLimit || l.MaxStanzaBytes != MaxStanzaLimit {
		t.Fatalf("%+v", l)
	}
	s := New(Limits{MaxNameLen: 1 << 62, MaxStanzaBytes: 1 << 62})
	if _, err := feed(t, s, []byte(streamHeader+"<message><body>x</body></message>")); err != nil {
		t.Fatal(err)
	}
	if a := s.Attr(-1); a.Local != nil || s.Attr(100).Value != nil {
		t.Fatal("Attr out of range returned data")
	}
}

func TestDefaultLimits(t *testing.T) {
	l := New(Limits{MaxDepth: -1}).Limits()
	if l != DefaultLimits() {
		t.Fatalf("%+v", l)
	}
	if l.MaxDepth != 32 || l.MaxAttrs != 64 || l.MaxNameLen != 256 || l.MaxStanzaBytes != 262144 {
		t.Fatalf("%+v", l)
	}
}
