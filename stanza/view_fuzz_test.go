package stanza

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseHeader checks that ParseHeader never panics, that a rewritten stanza parses
// back with the new from/to and everything else unchanged, and that ParseHeader agrees
// with encoding/xml on every start tag encoding/xml accepts.
func FuzzParseHeader(f *testing.F) {
	seeds := []string{
		allocMsg,
		`<presence/>`,
		`<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`,
		`<message from="a&amp;b" to='c&#x27;d' xml:lang='en'>x</message>`,
		`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`,
		"<iq\n\tto = 'a' \r\nid=\"b\" />",
		`<message to='a' to='b'/>`,
		`<a:b:c/>`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), "romeo@example.net/orchard", "juliet@example.com", uint8(i))
	}
	f.Fuzz(func(t *testing.T, raw []byte, from, to string, mode uint8) {
		var h Header
		err := ParseHeader(raw, &h)
		compareEncodingXML(t, raw, &h, err)
		if err != nil {
			return
		}
		if h.TagEnd <= h.NameEnd || h.TagEnd > len(raw) {
			t.Fatalf("TagEnd %d, NameEnd %d, len %d", h.TagEnd, h.NameEnd, len(raw))
		}
		_, _ = h.Inner(raw) // must not panic

		var f, tt []byte
		if mode&1 != 0 {
			f = []byte(from)
		}
		if mode&2 != 0 {
			tt = []byte(to)
		}
		out := AppendRewrite(nil, raw, &h, f, tt)
		var h2 Header
		if err := ParseHeader(out, &h2); err != nil {
			t.Fatalf("rewritten stanza does not parse: %v\n%q", err, out)
		}
		wantFrom, wantTo := h.From, h.To
		if f != nil {
			wantFrom = EscapeAttr([]byte{}, f)
		}
		if tt != nil {
			wantTo = EscapeAttr([]byte{}, tt)
		}
		if !bytes.Equal(h2.From, wantFrom) || (h2.From == nil) != (wantFrom == nil) {
			t.Fatalf("from after rewrite = %q, want %q", h2.From, wantFrom)
		}
		if !bytes.Equal(h2.To, wantTo) || (h2.To == nil) != (wantTo == nil) {
			t.Fatalf("to after rewrite = %q, want %q", h2.To, wantTo)
		}
		if !bytes.Equal(h2.ID, h.ID) || !bytes.Equal(h2.Type, h.Type) || !bytes.Equal(h2.Lang, h.Lang) ||
			!bytes.Equal(h2.Local, h.Local) || h2.Kind != h.Kind || h2.SelfClosing != h.SelfClosing {
			t.Fatalf("rewrite changed other fields: %q", out)
		}
		if !bytes.Equal(out[h2.TagEnd:], raw[h.TagEnd:]) {
			t.Fatalf("rewrite changed the bytes after the start tag")
		}
		reply := AppendIQResult(nil, &h, nil)
		var h3 Header
		if err := ParseHeader(reply, &h3); err != nil {
			t.Fatalf("reply does not parse: %v\n%q", err, reply)
		}
		if !bytes.Equal(h3.To, h.From) || !bytes.Equal(h3.From, h.To) || !bytes.Equal(h3.ID, h.ID) {
			t.Fatalf("reply %q does not swap to/from of %q", reply, raw[:h.TagEnd])
		}
	})
}

// compareEncodingXML checks ParseHeader's verdict on raw against encoding/xml's when
// the latter reads raw's first token as a start tag.
//
// Known divergences, where encoding/xml accepts and ParseHeader rejects by design:
// qualified names with more than one colon or a colon at either end (Namespaces in XML
// forbids them; encoding/xml folds them into Local), a local part that cannot start a
// name, and duplicated to/from/type/id/xml:lang/xmlns (encoding/xml's RawToken does not
// check duplicates; XML forbids them). ParseHeader is more lenient than encoding/xml
// on character data (references, UTF-8 in values) and on non-ASCII names, which the
// scanner checks before ParseHeader ever runs.
func compareEncodingXML(t *testing.T, raw []byte, h *Header, err error) {
	if len(raw) == 0 || raw[0] != '<' {
		return
	}
	d := xml.NewDecoder(bytes.NewReader(raw))
	tok, xerr := d.RawToken()
	se, ok := tok.(xml.StartElement)
	if xerr != nil || !ok {
		return
	}
	// encoding/xml returns the start tag before looking at what follows "/>"; make
	// sure it really ended the tag where ParseHeader must.
	if d.InputOffset() > int64(len(raw)) {
		return
	}
	if divergent(se) {
		return
	}
	if err != nil {
		t.Fatalf("encoding/xml accepts %q, ParseHeader says %v", raw, err)
	}
	if int64(h.TagEnd) != d.InputOffset() {
		t.Fatalf("TagEnd %d, encoding/xml ends the tag at %d: %q", h.TagEnd, d.InputOffset(), raw)
	}
	if string(h.Prefix) != se.Name.Space || string(h.Local) != se.Name.Local {
		t.Fatalf("name %q:%q, encoding/xml %q:%q", h.Prefix, h.Local, se.Name.Space, se.Name.Local)
	}
	got := map[string][]byte{"to": h.To, "from": h.From, "type": h.Type, "id": h.ID, "xml:lang": h.Lang, "xmlns": h.Xmlns}
	for _, a := range se.Attr {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		v, tracked := got[name]
		if !tracked {
			continue
		}
		if v == nil {
			t.Fatalf("ParseHeader missed %s=%q in %q", name, a.Value, raw)
		}
		if dv := decodeWithXML(v); dv != a.Value {
			t.Fatalf("%s: ParseHeader %q decodes to %q, encoding/xml read %q", name, v, dv, a.Value)
		}
		delete(got, name)
	}
	for name, v := range got {
		if v != nil {
			t.Fatalf("ParseHeader found %s=%q that encoding/xml did not", name, v)
		}
	}
}

func divergent(se xml.StartElement) bool {
	names := []xml.Name{se.Name}
	seen := map[string]bool{}
	for _, a := range se.Attr {
		names = append(names, a.Name)
		key := a.Name.Space + ":" + a.Name.Local
		if seen[key] {
			return true
		}
		seen[key] = true
	}
	for _, n := range names {
		if strings.Contains(n.Local, ":") || n.Local == "" {
			return true
		}
		if n.Space != "" {
			r, _ := utf8.DecodeRuneInString(n.Local)
			if !(unicode.IsLetter(r) || r == '_') {
				return true
			}
		}
	}
	return false
}

// decodeWithXML decodes a raw attribute value with encoding/xml.
func decodeWithXML(v []byte) string {
	q := "'"
	if bytes.IndexByte(v, '\'') >= 0 {
		q = `"`
	}
	d := xml.NewDecoder(strings.NewReader("<a v=" + q + string(v) + q + "/>"))
	tok, err := d.RawToken()
	if err != nil {
		return "<" + errors.Unwrap(err).Error() + ">"
	}
	return tok.(xml.StartElement).Attr[0].Value
}
