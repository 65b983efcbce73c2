package xmlscan

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// fuzzHeader wraps every differential fuzz input: the input is the content
// of a stream, as a client would send it after the header.
const fuzzHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
const fuzzTrailer = `</stream:stream>`

// fuzzLimits are large so that limits, which encoding/xml does not have, do
// not hide differences.
var fuzzLimits = Limits{MaxDepth: 1 << 20, MaxAttrs: 1 << 20, MaxNameLen: 1 << 20, MaxStanzaBytes: 1 << 30}

func addSeeds(f *testing.F) {
	for _, s := range []string{
		"", " ", "<a/>", "<message to='a@b'><body>hi &amp; &#x41; &#65;</body></message>",
		"<a><![CDATA[x<y]]></a>", "<a>]]></a>", "<a x='1' x='2'/>", "<p:a/>", "<a xmlns:p='u'><p:b p:c='1'/></a>",
		"<a><!-- c --></a>", "<a><?pi x?></a>", "<!DOCTYPE x>", "<a>&nbsp;</a>", "<a>\xff</a>", "<a>\r\n\r</a>",
		"<a x='\r\n\t'/>", "<é/>", "<a:b:c/>", "<:a/>", "<a:/>", "<a x='1'y='2'/>", "<a>&#xD800;</a>",
		"<a></b>", "</stream:stream>", "<a xmlns=''/>", "<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>",
		"<a>\u00a0\U0001F600</a>", "<ab\u0300/>", "<a\u00b7/>", "<\u037e/>", "\n\t <a/> ",
		loginStream[len(`<?xml version='1.0'?>`)+len(streamHeader) : len(loginStream)-len(fuzzTrailer)],
	} {
		f.Add([]byte(s))
	}
	for _, c := range errCases {
		if !c.raw {
			f.Add([]byte(c.in))
		}
	}
}

// normTok is a token in a form both scanners can produce.
type normTok struct {
	Kind  string // "start", "end", "chars"
	Name  string // qualified name as written
	Attrs []string
	Data  string
}

func normalizeNewlines(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

// appendChars merges character data into a previous chars token, as
// encoding/xml and xmlscan split runs of text and CDATA differently.
func appendChars(out []normTok, data []byte) []normTok {
	if len(data) == 0 {
		return out
	}
	if n := len(out); n > 0 && out[n-1].Kind == "chars" {
		out[n-1].Data += string(data)
		return out
	}
	return append(out, normTok{Kind: "chars", Data: string(data)})
}

func qname(prefix, local []byte) string {
	if len(prefix) > 0 {
		return string(prefix) + ":" + string(local)
	}
	return string(local)
}

// scanOurs tokenizes doc in one feed.
func scanOurs(doc []byte) ([]normTok, error) {
	s := New(fuzzLimits)
	var out []normTok
	ended := false
	for {
		t, err := s.Next(doc)
		if errors.Is(err, ErrNeedMore) {
			if !ended {
				return out, errors.New("incomplete stream")
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t.Kind {
		case StartTag:
			nt := normTok{Kind: "start", Name: qname(t.Prefix, t.Local)}
			for i := 0; i < s.NumAttrs(); i++ {
				a := s.Attr(i)
				v, err := Unescape(nil, a.Value)
				if err != nil {
					return out, fmt.Errorf("Unescape of a value the scanner accepted: %w", err)
				}
				nt.Attrs = append(nt.Attrs, qname(a.Prefix, a.Local)+"="+string(v))
			}
			out = append(out, nt)
			if t.SelfClosing {
				out = append(out, normTok{Kind: "end", Name: nt.Name})
			}
		case EndTag:
			out = append(out, normTok{Kind: "end", Name: qname(t.Prefix, t.Local)})
		case Text:
			v, err := Unescape(nil, t.Raw)
			if err != nil {
				return out, fmt.Errorf("Unescape of text the scanner accepted: %w", err)
			}
			out = appendChars(out, v)
		case CDATA:
			out = appendChars(out, normalizeNewlines(t.Data()))
		}
		if t.StreamEnd {
			ended = true
		}
	}
}

// errStdExtension marks constructs encoding/xml accepts and xmlscan rejects
// by design (comments, processing instructions, directives).
var errStdExtension = errors.New("encoding/xml returned a comment, processing instruction or directive")

// scanStd tokenizes doc with encoding/xml's RawToken in strict mode, adding
// the checks Token would make and RawToken does not: end tags match, and
// nothing but whitespace follows the root element.
func scanStd(doc []byte) ([]normTok, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var out []normTok
	var stack []string
	rootDone := false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 || !rootDone {
				return out, errors.New("unexpected EOF")
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if rootDone {
				return out, errors.New("element after the root")
			}
			nt := normTok{Kind: "start", Name: qname([]byte(t.Name.Space), []byte(t.Name.Local))}
			for _, a := range t.Attr {
				nt.Attrs = append(nt.Attrs, qname([]byte(a.Name.Space), []byte(a.Name.Local))+"="+a.Value)
			}
			out = append(out, nt)
			stack = append(stack, nt.Name)
		case xml.EndElement:
			name := qname([]byte(t.Name.Space), []byte(t.Name.Local))
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return out, errors.New("mismatched end tag")
			}
			stack = stack[:len(stack)-1]
			rootDone = len(stack) == 0
			out = append(out, normTok{Kind: "end", Name: name})
		case xml.CharData:
			if rootDone && len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
				return out, errors.New("text after the root")
			}
			out = appendChars(out, t)
		default:
			return out, errStdExtension
		}
	}
}

// knownDivergence reports whether a disagreement between the two scanners
// is one of the documented, deliberate ones. xmlscan is stricter than
// encoding/xml's RawToken where XMPP or the specifications require it:
//
//   - restricted XML (RFC 6120 section 11.1): comments, processing
//     instructions and directives are rejected (encoding/xml returns them);
//   - Namespaces in XML: unbound prefixes and misuse of the xml and xmlns
//     prefixes and namespaces are rejected (RawToken does not resolve
//     namespaces), as are names that are not QNames (":a", "a:"), which
//     encoding/xml takes as local names;
//   - duplicate attributes, by qualified or expanded name, and attributes not
//     separated by whitespace, are rejected (encoding/xml accepts both);
//   - character references to surrogates are rejected (encoding/xml turns
//     them into U+FFFD);
//   - names use the XML 1.0 fifth-edition NameStartChar and NameChar
//     ranges, encoding/xml the older Appendix B tables: non-ASCII names may
//     be accepted by one and rejected by the other.
func knownDivergence(data []byte, ours, std error) bool {
	var e *Error
	if ours != nil && std == nil {
		if errors.As(ours, &e) {
			switch {
			case e.Code == RestrictedXML, e.Code == BadNamespacePrefix:
				return true
			case e.Msg == msgDupAttr, e.Msg == msgDupExpanded, e.Msg == msgAttrNoSpace,
				e.Msg == msgBadQName, e.Msg == msgSurrogateRef:
				return true
			case (e.Msg == msgBadNameStart || e.Msg == msgBadNameChar) && hasNonASCII(data):
				return true
			}
		}
		return false
	}
	if ours == nil && std != nil {
		if errors.Is(std, errStdExtension) {
			return false // we accepted a comment or PI: a bug
		}
		return strings.Contains(std.Error(), "invalid XML name") && hasNonASCII(data)
	}
	if ours != nil && std != nil {
		return true // both reject; reasons are not compared
	}
	return false
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// FuzzDifferential compares well-formedness and the token sequence with
// encoding/xml's Decoder (RawToken, Strict) on the input wrapped in a stream
// header. See knownDivergence for the deliberate differences.
func FuzzDifferential(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := append(append([]byte(fuzzHeader), data...), fuzzTrailer...)
		ours, oerr := scanOurs(doc)
		std, serr := scanStd(doc)
		if errors.Is(serr, errStdExtension) {
			var e *Error
			if !errors.As(oerr, &e) || (e.Code != RestrictedXML && e.Code != NotWellFormed) {
				t.Fatalf("encoding/xml saw a comment/PI/directive; xmlscan: %v", oerr)
			}
			return
		}
		if (oerr == nil) != (serr == nil) {
			if knownDivergence(data, oerr, serr) {
				return
			}
			t.Fatalf("xmlscan: %v\nencoding/xml: %v\ninput %q", oerr, serr, data)
		}
		if oerr == nil && !reflect.DeepEqual(ours, std) {
			t.Fatalf("tokens differ for %q\nxmlscan:      %q\nencoding/xml: %q", data, ours, std)
		}
	})
}

// FuzzChunking feeds the input (after a stream header) in chunks whose
// sizes come from the fuzzer and compares tokens and error with a single
// feed. With framed set it uses RFC 7395 framing and no header.
func FuzzChunking(f *testing.F) {
	for _, s := range []string{"", "<a/>", "<a>x &amp; y</a> ", "<a x='&#x41;'>é😀</a>", "<![CDATA[x]]>"} {
		f.Add([]byte(s), []byte{1, 2, 3}, false)
		f.Add([]byte(s), []byte{7}, true)
	}
	f.Add([]byte(loginStream), []byte{5, 1, 9, 200}, true)
	f.Fuzz(func(t *testing.T, data, sizes []byte, framed bool) {
		lim := Limits{Framed: framed, MaxStanzaBytes: 300, MaxNameLen: 40, MaxAttrs: 8, MaxDepth: 6}
		in := data
		if !framed {
			in = append([]byte(smallHeader), data...)
		}
		want, wantErr := feed(t, New(lim), in)
		ss := make([]int, 0, len(sizes)+1)
		for _, c := range sizes {
			ss = append(ss, int(c%64)+1)
		}
		got, err := feed(t, New(lim), in, append(ss, 1)...)
		if errString(err) != errString(wantErr) {
			t.Fatalf("chunked %v: err %s, single feed %s", ss, errString(err), errString(wantErr))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("chunked %v: tokens differ\n got %q\nwant %q", ss, strs(got), strs(want))
		}
	})
}

// FuzzStanza feeds the input (after a stream header, or framed) to
// NextStanza in chunks whose sizes come from the fuzzer, optionally calling
// Compact before every call, and compares events and error with Next's
// stanza events on a single feed.
func FuzzStanza(f *testing.F) {
	for _, s := range []string{"", "<a/>", "<a>x &amp; y<b c='1'/></a> ", "<a x='&#x41;'>é😀</a>", "<p:a xmlns:p='u' p:b='1'><p:c/></p:a>"} {
		f.Add([]byte(s), []byte{1, 2, 3}, false, false)
		f.Add([]byte(s), []byte{7}, true, true)
	}
	f.Add([]byte(loginStream), []byte{5, 1, 9, 200}, true, false)
	f.Add(genStream(2, 3, true), []byte{63, 17}, false, true)
	f.Fuzz(func(t *testing.T, data, sizes []byte, framed, compact bool) {
		lim := Limits{Framed: framed, MaxStanzaBytes: 300, MaxNameLen: 40, MaxAttrs: 8, MaxDepth: 6}
		in := data
		if !framed {
			in = append([]byte(smallHeader), data...)
		}
		toks, wantErr := feed(t, New(lim), in)
		want := stanzaEvents(toks, framed)
		ss := make([]int, 0, len(sizes)+1)
		for _, c := range sizes {
			ss = append(ss, int(c%64)+1)
		}
		next := (*Scanner).NextStanza
		if compact {
			next = func(s *Scanner, b []byte) (Token, error) { s.Compact(); return s.NextStanza(b) }
		}
		got, err := feedWith(t, New(lim), next, in, append(ss, 0)...)
		if errString(err) != errString(wantErr) {
			t.Fatalf("chunked %v: err %s, Next %s", ss, errString(err), errString(wantErr))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("chunked %v: events differ\n got %q\nwant %q", ss, strs(got), strs(want))
		}
	})
}

// FuzzUnescape checks that Unescape never panics, and that on input the
// scanner accepted as text it agrees with encoding/xml.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{"", "a&amp;b", "&#x41;&#65;", "&", "&#;", "&#xD800;", "\r\n\r", "&lt;&gt;&quot;&apos;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Unescape(nil, raw)
		gotAttr, errAttr := UnescapeAttr(nil, raw)
		if (err == nil) != (errAttr == nil) {
			t.Fatalf("Unescape err %v, UnescapeAttr err %v", err, errAttr)
		}
		doc := append(append([]byte(smallHeader), raw...), '<')
		s := New(fuzzLimits)
		if _, herr := s.Next(doc); herr != nil {
			t.Fatal(herr)
		}
		tok, terr := s.Next(doc)
		if terr != nil || tok.Kind != Text || len(tok.Raw) != len(raw) {
			return // not a valid text on its own
		}
		if err != nil {
			t.Fatalf("Unescape rejected text the scanner accepted: %v", err)
		}
		var std struct {
			V string `xml:",chardata"`
		}
		if xerr := xml.Unmarshal(append(append([]byte("<a>"), raw...), "</a>"...), &std); xerr == nil && std.V != string(got) {
			t.Fatalf("Unescape %q = %q, encoding/xml %q", raw, got, std.V)
		}
		if bytes.ContainsAny(gotAttr, "\t\n\r") && !bytes.Contains(raw, []byte("&#")) {
			t.Fatalf("UnescapeAttr left literal whitespace: %q", gotAttr)
		}
	})
}
