package stanza

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/valyala/bytebufferpool"
)

func mustHeader(t testing.TB, raw string) *Header {
	t.Helper()
	h := new(Header)
	if err := ParseHeader([]byte(raw), h); err != nil {
		t.Fatalf("ParseHeader(%q): %v", raw, err)
	}
	return h
}

func bs(s *string) []byte {
	if s == nil {
		return nil
	}
	return []byte(*s)
}

func TestAppendRewrite(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		from, to *string
		want     string
	}{
		{"stamp from", `<message to='juliet@example.com'><body>hi</body></message>`, sp("romeo@example.net/orchard"), nil,
			`<message from='romeo@example.net/orchard' to='juliet@example.com'><body>hi</body></message>`},
		{"replace from", `<message from='forged@evil' to='j@x'/>`, sp("r@y/z"), nil,
			`<message from='r@y/z' to='j@x'/>`},
		{"replace keeps double quotes", `<message from="forged" to="j"/>`, sp("r"), nil,
			`<message from="r" to="j"/>`},
		{"replace both, to first", `<iq to='a' type='get' from='b' id='1'/>`, sp("F"), sp("T"),
			`<iq to='T' type='get' from='F' id='1'/>`},
		{"replace both, from first", `<iq from='b' to='a'>x</iq>`, sp("F"), sp("T"),
			`<iq from='F' to='T'>x</iq>`},
		{"insert both", `<presence/>`, sp("F"), sp("T"), `<presence from='F' to='T'/>`},
		{"insert from, replace to", `<presence type='probe' to='old'/>`, sp("F"), sp("new"),
			`<presence from='F' type='probe' to='new'/>`},
		{"replace from, insert to", `<presence from='old'>`, sp("F"), sp("T"), `<presence to='T' from='F'>`},
		{"nil leaves as is", `<message from='a' to="b" id='c'>&amp;</message>`, nil, nil,
			`<message from='a' to="b" id='c'>&amp;</message>`},
		{"escaped values", `<message from="x"/>`, sp(`it's "me" & <you>`), sp("tab\there"),
			`<message to='tab&#x9;here' from="it&apos;s &quot;me&quot; &amp; &lt;you&gt;"/>`},
		{"empty values", `<message from='x'/>`, sp(""), sp(""), `<message to='' from=''/>`},
		{"whitespace and newlines kept", "<message\n  from = 'x'\n  to='y'\n>", sp("f"), nil, "<message\n  from = 'f'\n  to='y'\n>"},
		{"prefixed name", `<c:message xmlns:c='jabber:client'/>`, sp("f"), nil, `<c:message from='f' xmlns:c='jabber:client'/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHeader(t, tt.raw)
			got := string(AppendRewrite([]byte("prefix"), []byte(tt.raw), h, bs(tt.from), bs(tt.to)))
			if got != "prefix"+tt.want {
				t.Fatalf("got  %s\nwant prefix%s", got, tt.want)
			}
			// The rewritten stanza parses, and an XML parser reads the new values back.
			h2 := mustHeader(t, tt.want)
			if tt.from != nil && string(h2.From) != string(EscapeAttr(nil, *tt.from)) {
				t.Errorf("re-parsed From = %q", h2.From)
			}
			if tt.to != nil && string(h2.To) != string(EscapeAttr(nil, *tt.to)) {
				t.Errorf("re-parsed To = %q", h2.To)
			}
			if tt.from != nil {
				if v, ok := xmlAttr(t, tt.want, "from"); !ok || v != *tt.from {
					t.Errorf("encoding/xml reads from=%q (%v), want %q", v, ok, *tt.from)
				}
			}
			var bb bytebufferpool.ByteBuffer
			WriteRewrite(&bb, []byte(tt.raw), h, bs(tt.from), bs(tt.to))
			if bb.String() != tt.want {
				t.Errorf("WriteRewrite = %s", bb.B)
			}
		})
	}
}

// xmlAttr returns the value encoding/xml decodes for the unprefixed attribute name of
// the first start tag in doc.
func xmlAttr(t *testing.T, doc, name string) (string, bool) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	tok, err := d.RawToken()
	if err != nil {
		t.Fatalf("encoding/xml on %q: %v", doc, err)
	}
	for _, a := range tok.(xml.StartElement).Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func TestAppendReplyStart(t *testing.T) {
	tests := []struct{ raw, typ, want string }{
		{`<iq from='a@b/c' to='b' type='get' id='x1'>`, "result", `<iq from='b' to='a@b/c' id='x1' type='result'`},
		{`<iq type='set' id='7'/>`, "error", `<iq id='7' type='error'`},
		{`<message xmlns='jabber:client' to="x" id="it's">`, "error", `<message xmlns='jabber:client' from='x' id="it's" type='error'`},
		{`<presence from='a&amp;b'/>`, "error", `<presence to='a&amp;b' type='error'`},
	}
	for _, tt := range tests {
		h := mustHeader(t, tt.raw)
		if got := string(AppendReplyStart(nil, h, tt.typ)); got != tt.want {
			t.Errorf("AppendReplyStart(%s)\n got %s\nwant %s", tt.raw, got, tt.want)
		}
	}
}

func TestAppendIQResult(t *testing.T) {
	req := `<iq from='juliet@example.com/balcony' id='rr82a1z7' to='juliet@example.com' type='get'><query xmlns='jabber:iq:roster'/></iq>`
	h := mustHeader(t, req)
	got := string(AppendIQResult(nil, h, nil))
	want := `<iq from='juliet@example.com' to='juliet@example.com/balcony' id='rr82a1z7' type='result'/>`
	if got != want {
		t.Errorf("empty result\n got %s\nwant %s", got, want)
	}
	got = string(AppendIQResult(nil, h, []byte(`<query xmlns='jabber:iq:roster'/>`)))
	want = `<iq from='juliet@example.com' to='juliet@example.com/balcony' id='rr82a1z7' type='result'><query xmlns='jabber:iq:roster'/></iq>`
	if got != want {
		t.Errorf("result with payload\n got %s\nwant %s", got, want)
	}
	if err := xml.Unmarshal([]byte(got), new(struct{})); err != nil {
		t.Errorf("result is not well-formed: %v", err)
	}
}
