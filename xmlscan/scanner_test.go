package xmlscan

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	h := streamHeader
	hdr := "S0 stream:stream{http://etherx.jabber.org/streams} xmlns=jabber:client xmlns:stream=http://etherx.jabber.org/streams to=example.com version=1.0"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"header only", h, []string{hdr}},
		{"xml declaration", `<?xml version='1.0' encoding='UTF-8'?>` + h, []string{hdr}},
		{"declaration double quotes and standalone", `<?xml version="1.0" encoding="utf-8" standalone="yes" ?>` + "\n" + h, []string{hdr}},
		{"whitespace before header", " \r\n\t" + h, []string{hdr}},
		{"keepalive", h + " ", []string{hdr, `T0 " "`}},
		{"message", h + `<message to='a@b/c' type='chat' id="x1"><body>hi &amp; bye</body></message>`, []string{
			hdr,
			"S1 message{jabber:client} to=a@b/c type=chat id=x1",
			"S2 body{jabber:client}",
			`T2 "hi &amp; bye"`,
			"E2 body{jabber:client}",
			"E1 message{jabber:client} $",
		}},
		{"self-closing stanza", h + `<presence/>`, []string{hdr, "S1 presence{jabber:client} / $"}},
		{"self-closing with space", h + `<presence />`, []string{hdr, "S1 presence{jabber:client} / $"}},
		{"child namespace", h + `<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`, []string{
			hdr,
			"S1 iq{jabber:client} type=get id=1",
			"S2 query{jabber:iq:roster} xmlns=jabber:iq:roster /",
			"E1 iq{jabber:client} $",
		}},
		{"prefixed attribute and late declaration", h + `<a p:x='1' xmlns:p='urn:p'><p:b/></a>`, []string{
			hdr,
			"S1 a{jabber:client} p:x{urn:p}=1 xmlns:p=urn:p",
			"S2 p:b{urn:p} /",
			"E1 a{jabber:client} $",
		}},
		{"xml prefix prebound", h + `<body xml:lang='en'/>`, []string{hdr, "S1 body{jabber:client} xml:lang{http://www.w3.org/XML/1998/namespace}=en / $"}},
		{"default namespace undeclared", h + `<a xmlns=''><b/></a>`, []string{hdr, "S1 a xmlns=", "S2 b /", "E1 a $"}},
		{"scope ends with element", h + `<a><b xmlns='urn:b'/><c/></a>`, []string{
			hdr, "S1 a{jabber:client}", "S2 b{urn:b} xmlns=urn:b /", "S2 c{jabber:client} /", "E1 a{jabber:client} $",
		}},
		{"entity in namespace name is decoded", h + `<a xmlns='urn:a&amp;b'/>`, []string{hdr, "S1 a{urn:a&b} xmlns=urn:a&amp;b / $"}},
		{"whitespace in tags", h + "<a\n x = \"1\"\t></a >", []string{hdr, "S1 a{jabber:client} x=1", "E1 a{jabber:client} $"}},
		{"cdata", h + `<a><![CDATA[<x>&amp;]]]></a>`, []string{hdr, "S1 a{jabber:client}", `C1 "<![CDATA[<x>&amp;]]]>"`, "E1 a{jabber:client} $"}},
		{"empty cdata", h + `<a><![CDATA[]]></a>`, []string{hdr, "S1 a{jabber:client}", `C1 "<![CDATA[]]>"`, "E1 a{jabber:client} $"}},
		{"brackets in text", h + `<a>]] ]>]</a>`, []string{hdr, "S1 a{jabber:client}", `T1 "]] ]>]"`, "E1 a{jabber:client} $"}},
		{"char refs", h + `<a x='&#60;&#x3C;&#x10FFFF;&#0000065;'>&#x1F600;&#9;</a>`, []string{
			hdr, "S1 a{jabber:client} x=&#60;&#x3C;&#x10FFFF;&#0000065;", `T1 "&#x1F600;&#9;"`, "E1 a{jabber:client} $",
		}},
		{"all predefined entities", h + `<a>&lt;&gt;&amp;&quot;&apos;</a>`, []string{hdr, "S1 a{jabber:client}", `T1 "&lt;&gt;&amp;&quot;&apos;"`, "E1 a{jabber:client} $"}},
		{"quotes inside values", h + `<a x="it's" y='say "hi"'/>`, []string{hdr, `S1 a{jabber:client} x=it's y=say "hi" / $`}},
		{"gt and slash in value", h + `<a x='a>b/c'/>`, []string{hdr, "S1 a{jabber:client} x=a>b/c / $"}},
		{"unicode", h + "<a x='é'>日本語 😀</a>", []string{hdr, "S1 a{jabber:client} x=é", `T1 "日本語 😀"`, "E1 a{jabber:client} $"}},
		{"unicode names", h + "<é:ü xmlns:é='urn:e' é:a·b='1'/>", []string{hdr, "S1 é:ü{urn:e} xmlns:é=urn:e é:a·b{urn:e}=1 / $"}},
		{"names with dots dashes digits", h + "<a-b.c_1 x-1.y='z'/>", []string{hdr, "S1 a-b.c_1{jabber:client} x-1.y=z / $"}},
		{"stream end", h + "<a/>\n</stream:stream>\n ", []string{
			hdr, "S1 a{jabber:client} / $", `T0 "\n"`, "E0 stream:stream{http://etherx.jabber.org/streams} !",
		}},
		{"self-closing header ends stream", `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>`, []string{
			"S0 stream:stream{http://etherx.jabber.org/streams} xmlns:stream=http://etherx.jabber.org/streams / !",
		}},
		{"text between stanzas", h + "<a/>x<b/>", []string{hdr, "S1 a{jabber:client} / $", `T0 "x"`, "S1 b{jabber:client} / $"}},
		{"deep", h + "<a><b><c><d>x</d></c></b></a>", []string{
			hdr, "S1 a{jabber:client}", "S2 b{jabber:client}", "S3 c{jabber:client}", "S4 d{jabber:client}", `T4 "x"`,
			"E4 d{jabber:client}", "E3 c{jabber:client}", "E2 b{jabber:client}", "E1 a{jabber:client} $",
		}},
		{"DEL and C1 controls are chars", h + "<a>\x7f\u0085</a>", []string{hdr, "S1 a{jabber:client}", "T1 \"\\x7f\\u0085\"", "E1 a{jabber:client} $"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := feed(t, New(Limits{}), []byte(tc.in))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if g, w := strings.Join(strs(got), "\n"), strings.Join(tc.want, "\n"); g != w {
				t.Fatalf("tokens:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestFramed(t *testing.T) {
	in := `<?xml version='1.0'?><open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>` +
		"\n" + `<message xmlns='jabber:client' to='a@b'><body>x</body></message>` +
		`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`
	got, err := feed(t, New(Limits{Framed: true}), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"S0 open{urn:ietf:params:xml:ns:xmpp-framing} xmlns=urn:ietf:params:xml:ns:xmpp-framing to=example.com version=1.0 / $",
		"S0 message{jabber:client} xmlns=jabber:client to=a@b",
		"S1 body{jabber:client}",
		`T1 "x"`,
		"E1 body{jabber:client}",
		"E0 message{jabber:client} $",
		"S0 close{urn:ietf:params:xml:ns:xmpp-framing} xmlns=urn:ietf:params:xml:ns:xmpp-framing / $",
	}
	if g, w := strings.Join(strs(got), "\n"), strings.Join(want, "\n"); g != w {
		t.Fatalf("tokens:\n%s\nwant:\n%s", g, w)
	}
	// Stanzas carry their whole bytes.
	if got[5].Stanza_ != `<message xmlns='jabber:client' to='a@b'><body>x</body></message>` {
		t.Fatalf("Stanza = %q", got[5].Stanza_)
	}
	// Framed text outside elements is not well-formed; so is an end tag.
	for _, bad := range []string{"<a/>x", "</a>", "<a/><![CDATA[x]]>"} {
		_, err := feed(t, New(Limits{Framed: true}), []byte(bad))
		var e *Error
		if !errors.As(err, &e) || e.Code != NotWellFormed {
			t.Errorf("%q: err = %v, want not-well-formed", bad, err)
		}
	}
}

func TestStanzaBytes(t *testing.T) {
	in := streamHeader + `<message to='a'><body>hi</body></message><presence/>`
	got, err := feed(t, New(Limits{}), []byte(in), 7)
	if err != nil {
		t.Fatal(err)
	}
	var stanzas []string
	for _, r := range got {
		if r.Stanza {
			stanzas = append(stanzas, r.Stanza_)
		} else if r.Stanza_ != "" {
			t.Fatalf("Stanza set on non-final token %v", r)
		}
	}
	want := []string{`<message to='a'><body>hi</body></message>`, `<presence/>`}
	if strings.Join(stanzas, "|") != strings.Join(want, "|") {
		t.Fatalf("stanzas %q, want %q", stanzas, want)
	}
	// Offsets are absolute even though the feeder shifts after every token.
	for _, r := range got {
		if in[r.Abs:r.Abs+int64(len(r.Raw))] != r.Raw {
			t.Fatalf("token %v at %d does not match the input", r, r.Abs)
		}
	}
}

func TestAttrValue(t *testing.T) {
	s := New(Limits{})
	buf := []byte(streamHeader + `<iq xmlns:p='urn:p' type='get' p:type='x' id='i&amp;1'>`)
	if _, err := s.Next(buf); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.AttrValue("", "to"); !ok || string(v) != "example.com" {
		t.Fatalf("header to = %q %v", v, ok)
	}
	if _, err := s.Next(buf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ space, local, want string }{
		{"", "type", "get"}, {"urn:p", "type", "x"}, {"", "id", "i&amp;1"}, {nsXMLNS, "p", "urn:p"},
	} {
		if v, ok := s.AttrValue(c.space, c.local); !ok || string(v) != c.want {
			t.Errorf("AttrValue(%q,%q) = %q %v, want %q", c.space, c.local, v, ok, c.want)
		}
	}
	if _, ok := s.AttrValue("", "missing"); ok {
		t.Error("found a missing attribute")
	}
	if _, ok := s.AttrValue("jabber:client", "type"); ok {
		t.Error("unprefixed attribute matched the default namespace")
	}
	if _, err := s.Next(buf); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("err = %v", err)
	}
	if s.NumAttrs() != 0 {
		t.Fatal("attributes visible after a call that returned no StartTag")
	}
}

func TestShiftKeepResetOffset(t *testing.T) {
	s := New(Limits{})
	buf := []byte(streamHeader + `<message><bo`)
	if _, err := s.Next(buf); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Next(buf)
	if err != nil || tok.Kind != StartTag {
		t.Fatal(tok, err)
	}
	if _, err := s.Next(buf); !errors.Is(err, ErrNeedMore) {
		t.Fatal(err)
	}
	// Inside a stanza Keep is the stanza start.
	if s.Keep() != len(streamHeader) {
		t.Fatalf("Keep = %d, want %d", s.Keep(), len(streamHeader))
	}
	if err := s.Shift(s.Keep() + 1); err == nil {
		t.Fatal("Shift beyond Keep accepted")
	}
	if err := s.Shift(-1); err == nil {
		t.Fatal("negative Shift accepted")
	}
	if err := s.Shift(s.Keep()); err != nil {
		t.Fatal(err)
	}
	buf = append(buf[len(streamHeader):], "dy>x</body></message>"...)
	if s.Offset() != int64(len(streamHeader)) {
		t.Fatalf("Offset = %d", s.Offset())
	}
	var last Token
	for {
		tok, err := s.Next(buf)
		if errors.Is(err, ErrNeedMore) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = tok
	}
	if !last.StanzaEnd || string(last.Stanza) != "<message><body>x</body></message>" {
		t.Fatalf("last = %+v", last)
	}
	if _, err := s.Next(buf[:2]); !errors.Is(err, ErrBufferShrunk) {
		t.Fatalf("short buffer: %v", err)
	}

	// Reset: a new header in the same buffer, after the stanza.
	s.Reset()
	buf = append(buf, `<?xml version='1.0'?>`+streamHeader...)
	tok, err = s.Next(buf)
	if err != nil || tok.Kind != StartTag || tok.Depth != 0 || string(tok.Local) != "stream" {
		t.Fatalf("after Reset: %+v %v", tok, err)
	}
	// STARTTLS style: Reset, drop everything, start on a fresh buffer.
	buf = append(buf, "<garbage"...)
	s.Reset()
	if err := s.Shift(s.Keep()); err != nil {
		t.Fatal(err)
	}
	off := s.Offset()
	fresh := []byte(streamHeader)
	if tok, err = s.Next(fresh); err != nil || tok.Depth != 0 || tok.Start != 0 {
		t.Fatalf("fresh buffer: %+v %v", tok, err)
	}
	if s.Offset() != off {
		t.Fatal("offset changed")
	}
	// Recycle: a new connection.
	s.Recycle()
	if _, err := s.Next([]byte(streamHeader)); err != nil || s.Offset() != 0 {
		t.Fatal(err, s.Offset())
	}
	if s.Depth() != 1 {
		t.Fatalf("Depth = %d", s.Depth())
	}
}

func TestErrorIsSticky(t *testing.T) {
	s := New(Limits{})
	buf := []byte(streamHeader + "<a><!-- x --></a>")
	var first error
	for i := 0; i < 5; i++ {
		_, err := s.Next(buf)
		if err != nil && !errors.Is(err, ErrNeedMore) {
			if first == nil {
				first = err
			} else if err != first {
				t.Fatal("error changed")
			}
		}
	}
	var e *Error
	if !errors.As(first, &e) || e.Code != RestrictedXML || s.Err() != e {
		t.Fatalf("err = %v", first)
	}
	if got := e.Error(); !strings.Contains(got, "restricted-xml") || !strings.Contains(got, "offset "+itoa(len(streamHeader)+3)) {
		t.Fatalf("Error() = %q", got)
	}
	s.Reset()
	if s.Err() != nil {
		t.Fatal("Reset kept the error")
	}
}

func TestCodeStrings(t *testing.T) {
	want := map[Code]string{
		0: "undefined-condition", NotWellFormed: "not-well-formed", RestrictedXML: "restricted-xml",
		PolicyViolation: "policy-violation", BadNamespacePrefix: "bad-namespace-prefix",
		UnsupportedEncoding: "unsupported-encoding",
	}
	for c, w := range want {
		if c.String() != w {
			t.Errorf("%d: %q, want %q", c, c.String(), w)
		}
	}
	for k, w := range map[Kind]string{None: "None", StartTag: "StartTag", EndTag: "EndTag", Text: "Text", CDATA: "CDATA"} {
		if k.String() != w {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}

func TestTokenData(t *testing.T) {
	for _, c := range []struct {
		t    Token
		want string
	}{
		{Token{Kind: Text, Raw: []byte("a&amp;")}, "a&amp;"},
		{Token{Kind: CDATA, Raw: []byte("<![CDATA[x<]]>")}, "x<"},
		{Token{Kind: StartTag, Raw: []byte("<a>")}, ""},
	} {
		if got := string(c.t.Data()); got != c.want {
			t.Errorf("%v: %q, want %q", c.t.Kind, got, c.want)
		}
	}
}

// TestNextInto checks that NextInto yields what Next yields, overwriting
// every field of a reused Token.
func TestNextInto(t *testing.T) {
	in := genStream(5, 60, true)
	a, b := New(Limits{}), New(Limits{})
	var into Token
	for n := 0; ; n++ {
		want, werr := a.Next(in)
		gerr := b.NextInto(in, &into)
		if werr != gerr {
			t.Fatalf("token %d: err %v, want %v", n, gerr, werr)
		}
		if werr != nil {
			if !errors.Is(werr, ErrNeedMore) || n < 100 {
				t.Fatalf("stopped after %d tokens: %v", n, werr)
			}
			return
		}
		if !reflect.DeepEqual(into, want) {
			t.Fatalf("token %d: %+v, want %+v", n, into, want)
		}
		if a.NumAttrs() != b.NumAttrs() {
			t.Fatalf("token %d: attrs differ", n)
		}
	}
}
