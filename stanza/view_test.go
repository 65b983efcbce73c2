package stanza

import (
	"errors"
	"testing"
)

// hdrWant is the part of a Header that a test case checks; nil strings mean absent.
type hdrWant struct {
	prefix, local           string
	kind                    Kind
	to, from, typ, id, lang *string
	xmlns                   *string
	selfClosing             bool
	tagEnd                  int
}

func sp(s string) *string { return &s }

// allocMsg is a realistic message as a client sends it.
const allocMsg = `<message to='juliet@example.com/balcony' type='chat' id='purple4dac25'><body>Neither, fair saint, if either thee dislike.</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`

func checkBytes(t *testing.T, field string, got []byte, want *string) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %q, want absent", field, got)
	case want != nil && got == nil:
		t.Errorf("%s absent, want %q", field, *want)
	case want != nil && string(got) != *want:
		t.Errorf("%s = %q, want %q", field, got, *want)
	}
}

func TestParseHeader(t *testing.T) {
	msg := `<message to='juliet@example.com' from="romeo@example.net/orchard" type='chat' id='a&amp;1' xml:lang='en'><body>hi</body></message>`
	tests := []struct {
		name string
		raw  string
		want hdrWant
	}{
		{"message", msg, hdrWant{local: "message", kind: Message,
			to: sp("juliet@example.com"), from: sp("romeo@example.net/orchard"), typ: sp("chat"),
			id: sp("a&amp;1"), lang: sp("en"), tagEnd: 105}},
		{"self-closing presence", `<presence/>`, hdrWant{local: "presence", kind: Presence, selfClosing: true, tagEnd: 11}},
		{"self-closing with space", `<presence />`, hdrWant{local: "presence", kind: Presence, selfClosing: true, tagEnd: 12}},
		{"iq", `<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`, hdrWant{local: "iq", kind: IQ,
			typ: sp("get"), id: sp("1"), tagEnd: 22}},
		{"whitespace around =", "<iq\n\tto = 'a' \r\nid=\"b\" >", hdrWant{local: "iq", kind: IQ, to: sp("a"), id: sp("b"), tagEnd: 24}},
		{"empty value is present", `<message to='' id=""/>`, hdrWant{local: "message", kind: Message, to: sp(""), id: sp(""), selfClosing: true, tagEnd: 22}},
		{"quote of the other kind inside", `<message id="it's" to='say "hi"'>`, hdrWant{local: "message", kind: Message,
			id: sp("it's"), to: sp(`say "hi"`), tagEnd: 33}},
		{"prefixed attributes are not tracked", `<iq foo:to='x' xml:id='y' id='z'>`, hdrWant{local: "iq", kind: IQ, id: sp("z"), tagEnd: 33}},
		{"ws framing", `<message xmlns='jabber:client' to='a'/>`, hdrWant{local: "message", kind: Message,
			xmlns: sp("jabber:client"), to: sp("a"), selfClosing: true, tagEnd: 39}},
		{"server namespace", `<iq xmlns='jabber:server'>`, hdrWant{local: "iq", kind: IQ, xmlns: sp("jabber:server"), tagEnd: 26}},
		{"foreign namespace", `<iq xmlns='urn:x'>`, hdrWant{local: "iq", kind: Other, xmlns: sp("urn:x"), tagEnd: 18}},
		{"prefixed element", `<stream:features>`, hdrWant{prefix: "stream", local: "features", kind: Other, tagEnd: 17}},
		{"stream header", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='de'>`,
			hdrWant{prefix: "stream", local: "stream", kind: Other, xmlns: sp("jabber:client"), to: sp("example.com"), lang: sp("de"), tagEnd: 130}},
		{"other element", `<r xmlns='urn:xmpp:sm:3'/>`, hdrWant{local: "r", kind: Other, xmlns: sp("urn:xmpp:sm:3"), selfClosing: true, tagEnd: 26}},
		{"case matters", `<Message>`, hdrWant{local: "Message", kind: Other, tagEnd: 9}},
		{"unicode name", `<nachricht-ü id='1'>`, hdrWant{local: "nachricht-ü", kind: Other, id: sp("1"), tagEnd: 21}},
		{"tail is not read", `<iq id='1'>garbage <<<`, hdrWant{local: "iq", kind: IQ, id: sp("1"), tagEnd: 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Header
			if err := ParseHeader([]byte(tt.raw), &h); err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			w := tt.want
			if string(h.Prefix) != w.prefix || string(h.Local) != w.local {
				t.Errorf("name = %q:%q, want %q:%q", h.Prefix, h.Local, w.prefix, w.local)
			}
			if (w.prefix == "") != (h.Prefix == nil) {
				t.Errorf("Prefix nil-ness wrong: %q", h.Prefix)
			}
			if h.Kind != w.kind {
				t.Errorf("Kind = %v, want %v", h.Kind, w.kind)
			}
			checkBytes(t, "To", h.To, w.to)
			checkBytes(t, "From", h.From, w.from)
			checkBytes(t, "Type", h.Type, w.typ)
			checkBytes(t, "ID", h.ID, w.id)
			checkBytes(t, "Lang", h.Lang, w.lang)
			checkBytes(t, "Xmlns", h.Xmlns, w.xmlns)
			if h.SelfClosing != w.selfClosing {
				t.Errorf("SelfClosing = %v", h.SelfClosing)
			}
			if h.TagEnd != w.tagEnd {
				t.Errorf("TagEnd = %d, want %d (%q)", h.TagEnd, w.tagEnd, tt.raw[:min(h.TagEnd, len(tt.raw))])
			}
			// Spans locate the values.
			raw := []byte(tt.raw)
			for _, c := range []struct {
				v []byte
				s Span
			}{{h.To, h.ToSpan}, {h.From, h.FromSpan}, {h.Type, h.TypeSpan}, {h.ID, h.IDSpan}, {h.Lang, h.LangSpan}, {h.Xmlns, h.XmlnsSpan}} {
				if c.v == nil {
					if c.s != (Span{}) {
						t.Errorf("absent value has span %v", c.s)
					}
					continue
				}
				if string(raw[c.s.Start:c.s.End]) != string(c.v) {
					t.Errorf("span %v gives %q, value %q", c.s, raw[c.s.Start:c.s.End], c.v)
				}
			}
			if h.NameEnd != 1+len(h.Local)+len(h.Prefix)+min(len(h.Prefix), 1) {
				t.Errorf("NameEnd = %d", h.NameEnd)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	bad := []string{
		"",
		"message/>",
		" <message/>",
		"<",
		"<>",
		"</message>",
		"<message",
		"<message to='a'",
		"<message/",
		"<message/ >",
		"<message to>",
		"<message to=a>",
		"<message to='a>",
		"<message to='a\">",
		"<message to='a'from='b'>",
		"<message to='a<b'>",
		"<message to='a' to='b'>",
		"<message xml:lang='a' xml:lang='b'>",
		"<message id='a' id=\"a\">",
		"<:message>",
		"<message:>",
		"<a:b:c>",
		"<1message>",
		"<-message>",
		"<a:1b>",
		"<message =''>",
		"<message \xff='1'>",
		"<m\xc3>",
		"<message\x00>",
	}
	for _, raw := range bad {
		var h Header
		err := ParseHeader([]byte(raw), &h)
		if err == nil {
			t.Errorf("ParseHeader(%q) = nil error, want one", raw)
			continue
		}
		if !errors.Is(err, ErrHeader) {
			t.Errorf("ParseHeader(%q) error %v does not wrap ErrHeader", raw, err)
		}
	}
}

func TestHeaderInner(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{`<message><body>x</body></message>`, `<body>x</body>`, true},
		{`<message></message >`, ``, true},
		{"<message>a</message\n>", `a`, true},
		{`<x:message xmlns:x='jabber:client'>t</x:message>`, `t`, true},
		{`<message/>`, ``, true},
		{`<message><![CDATA[</message>]]></message>`, `<![CDATA[</message>]]>`, true},
		{`<message>`, ``, false},
		{`<message></messagex>`, ``, false},
		{`<message></messag>`, ``, false},
		{`<message></message`, ``, false},
		{`<message></message x>`, ``, false},
		{`<message><message>`, ``, false},
	}
	for _, tt := range tests {
		var h Header
		if err := ParseHeader([]byte(tt.raw), &h); err != nil {
			t.Fatalf("ParseHeader(%q): %v", tt.raw, err)
		}
		got, err := h.Inner([]byte(tt.raw))
		if (err == nil) != tt.ok || string(got) != tt.want {
			t.Errorf("Inner(%q) = %q, %v; want %q, ok=%v", tt.raw, got, err, tt.want, tt.ok)
		}
	}
	var h Header
	if _, err := h.Inner([]byte("<a/>")); err == nil {
		t.Error("Inner with a zero Header succeeded")
	}
}

func TestIsError(t *testing.T) {
	for raw, want := range map[string]bool{
		`<iq type='error'/>`:  true,
		`<iq type="error">`:   true,
		`<iq type='result'/>`: false,
		`<iq/>`:               false,
		`<iq type='Error'/>`:  false,
	} {
		var h Header
		if err := ParseHeader([]byte(raw), &h); err != nil {
			t.Fatal(err)
		}
		if h.IsError() != want {
			t.Errorf("IsError(%q) = %v", raw, !want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Message: "message", Presence: "presence", IQ: "iq", Other: "other", Kind(9): "other"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
}

func TestHeaderDecoded(t *testing.T) {
	raw := "<message to='a&amp;b@x/&#x72;es' from=\"o&apos;hara@x\" type='chat' id='1&#10;2\t3' xml:lang='en'/>"
	h := mustHeader(t, raw)
	tests := []struct {
		name string
		f    func([]byte) ([]byte, error)
		want string
	}{
		{"to", h.AppendTo, "a&b@x/res"},
		{"from", h.AppendFrom, "o'hara@x"},
		{"type", h.AppendType, "chat"},
		{"id", h.AppendID, "1\n2 3"},
		{"lang", h.AppendLang, "en"},
	}
	for _, tt := range tests {
		got, err := tt.f([]byte("x"))
		if err != nil || string(got) != "x"+tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.name, got, err, "x"+tt.want)
		}
	}
	h = mustHeader(t, `<message to='a&bogus;'/>`)
	if _, err := h.AppendTo(nil); err == nil {
		t.Error("bad reference decoded without error")
	}
	if got, err := h.AppendFrom([]byte("k")); err != nil || string(got) != "k" {
		t.Errorf("absent from: %q, %v", got, err)
	}
}

func TestPresencePriority(t *testing.T) {
	for raw, want := range map[string]int8{
		"<presence/>": 0,
		"<presence><priority>5</priority></presence>":                       5,
		"<presence><priority>-128</priority></presence>":                    -128,
		"<presence><priority>+7</priority></presence>":                      7,
		"<presence><priority>128</priority></presence>":                     0,
		"<presence><priority>x</priority></presence>":                       0,
		"<presence xmlns='jabber:client'><priority>3</priority></presence>": 3,
		"<presence><priority xmlns='urn:other'>3</priority></presence>":     0,
	} {
		if got := PresencePriority([]byte(raw)); got != want {
			t.Errorf("PresencePriority(%s) = %d, want %d", raw, got, want)
		}
	}
}
