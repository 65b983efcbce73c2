package stanza

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/valyala/bytebufferpool"
)

func TestBuilder(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"empty element", func(b *Builder) { b.Start("presence").End() }, `<presence/>`},
		{"attributes", func(b *Builder) {
			b.Start("iq").Attr("type", "result").AttrBytes("id", []byte("a'1")).End()
		}, `<iq type='result' id='a&apos;1'/>`},
		{"nested with namespaces", func(b *Builder) {
			b.Start("iq").Attr("type", "result")
			b.Start("query").Xmlns("jabber:iq:roster").Attr("ver", "v1")
			b.Start("item").Attr("jid", "nurse@example.com").Attr("name", "Nurse & co").
				Start("group").Text("Servants").End().End()
			b.End().End()
		}, `<iq type='result'><query xmlns='jabber:iq:roster' ver='v1'><item jid='nurse@example.com' name='Nurse &amp; co'><group>Servants</group></item></query></iq>`},
		{"prefixed", func(b *Builder) {
			b.Start("stream:features").XmlnsPrefix("stream", NSStreams).
				Start("bind").Xmlns("urn:ietf:params:xml:ns:xmpp-bind").End().End()
		}, `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`},
		{"text escaping", func(b *Builder) {
			b.Start("body").Text("a < b && c > d ]]> \r\n").End()
		}, "<body>a &lt; b &amp;&amp; c &gt; d ]]&gt; &#xD;\n</body>"},
		{"text bytes and empty text", func(b *Builder) {
			b.Start("status").TextBytes([]byte("x\x00y")).Text("").End()
		}, "<status>x\uFFFDy</status>"},
		{"empty text still opens content", func(b *Builder) { b.Start("a").Text("").End() }, `<a></a>`},
		{"attribute escaping", func(b *Builder) {
			b.Start("x").Attr("v", "\"'<>&\t\n\r").End()
		}, `<x v='&quot;&apos;&lt;&gt;&amp;&#x9;&#xA;&#xD;'/>`},
		{"raw content", func(b *Builder) {
			b.Start("message").Raw([]byte(`<body>pre&amp;built</body>`)).End()
		}, `<message><body>pre&amp;built</body></message>`},
		{"raw at top level", func(b *Builder) {
			b.Raw([]byte(`<r xmlns='urn:xmpp:sm:3'/>`)).Start("a").End()
		}, `<r xmlns='urn:xmpp:sm:3'/><a/>`},
		{"attr raw", func(b *Builder) {
			b.Start("iq").AttrRaw("id", []byte(`it's`)).AttrRaw("to", []byte(`a&amp;b`)).End()
		}, `<iq id="it's" to='a&amp;b'/>`},
		{"siblings", func(b *Builder) {
			b.Start("a").Start("b").End().Start("c").Text("t").End().End()
		}, `<a><b/><c>t</c></a>`},
		{"stanza error", func(b *Builder) {
			b.Start("iq").Attr("type", "error").StanzaError(StanzaError{Condition: ItemNotFound}).End()
		}, `<iq type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`},
		{"unicode names", func(b *Builder) { b.Start("ü:ñ").Start("x.y-z_1").End().End() }, `<ü:ñ><x.y-z_1/></ü:ñ>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			b.Reset([]byte("pre"))
			tt.build(&b)
			out, err := b.Finish()
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if string(out) != "pre"+tt.want {
				t.Fatalf("\n got %s\nwant pre%s", out, tt.want)
			}
			if !strings.Contains(tt.name, "prefixed") && !strings.Contains(tt.name, "top level") && !strings.Contains(tt.name, "unicode") {
				if err := xml.Unmarshal(out[3:], new(struct{})); err != nil {
					t.Errorf("not well-formed: %v", err)
				}
			}
		})
	}
}

func TestBuilderDeep(t *testing.T) {
	var b Builder
	const depth = 3*builderInline + 1
	for i := 0; i < depth; i++ {
		b.Start("e" + strings.Repeat("x", i%3))
		if i%2 == 0 {
			b.Text("t")
		}
	}
	if b.Depth() != depth {
		t.Fatalf("Depth = %d", b.Depth())
	}
	for i := 0; i < depth; i++ {
		b.End()
	}
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(out, new(struct{})); err != nil {
		t.Fatalf("deep output not well-formed: %v\n%s", err, out)
	}
	// Reuse after Reset keeps working.
	b.Reset(nil)
	b.Start("a").End()
	if out, err := b.Finish(); err != nil || string(out) != "<a/>" {
		t.Fatalf("after Reset: %s, %v", out, err)
	}
}

func TestBuilderMisuse(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  error
	}{
		{"end with nothing open", func(b *Builder) { b.End() }, ErrBuilderState},
		{"attr after content", func(b *Builder) { b.Start("a").Text("x").Attr("k", "v") }, ErrBuilderState},
		{"attr at top level", func(b *Builder) { b.Attr("k", "v") }, ErrBuilderState},
		{"xmlns after child", func(b *Builder) { b.Start("a").Start("b").End().Xmlns("urn:x") }, ErrBuilderState},
		{"prefix after content", func(b *Builder) { b.Start("a").Text("x").XmlnsPrefix("p", "urn:x") }, ErrBuilderState},
		{"text at top level", func(b *Builder) { b.Text("x") }, ErrBuilderState},
		{"text bytes at top level", func(b *Builder) { b.TextBytes([]byte("x")) }, ErrBuilderState},
		{"left open", func(b *Builder) { b.Start("a") }, ErrBuilderState},
		{"empty name", func(b *Builder) { b.Start("") }, ErrBuilderName},
		{"bad name", func(b *Builder) { b.Start("a b") }, ErrBuilderName},
		{"name with quote", func(b *Builder) { b.Start("a").Attr("x'='", "v") }, ErrBuilderName},
		{"digit start", func(b *Builder) { b.Start("1a") }, ErrBuilderName},
		{"two colons", func(b *Builder) { b.Start("a:b:c") }, ErrBuilderName},
		{"empty prefix", func(b *Builder) { b.Start(":a") }, ErrBuilderName},
		{"bad prefix", func(b *Builder) { b.Start("a").XmlnsPrefix("p:q", "urn:x") }, ErrBuilderName},
		{"bad utf8 name", func(b *Builder) { b.Start("a\xff") }, ErrBuilderName},
	}
	for _, tt := range tests {
		var b Builder
		tt.build(&b)
		if tt.want == ErrBuilderState && b.Err() == nil && b.Depth() > 0 {
			b.Finish() // leaving elements open is detected by Finish
		}
		before := len(b.B)
		b.Start("later").Text("ignored").End() // no effect after an error
		_, err := b.Finish()
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Finish error %v, want %v", tt.name, err, tt.want)
		}
		if b.Err() == nil || len(b.B) != before {
			t.Errorf("%s: builder kept writing after an error: %q", tt.name, b.B)
		}
	}
}

func TestBuilderStartReply(t *testing.T) {
	h := mustHeader(t, `<iq from='juliet@example.com/balcony' to='example.com' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>`)
	var bb bytebufferpool.ByteBuffer
	bb.B = append(bb.B, "<prior/>"...)
	var b Builder
	b.Reset(bb.B)
	b.StartReply(h, "result").Start("query").Xmlns("jabber:iq:version").
		Start("name").Text("Hermod").End().End().End()
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	bb.B = out
	want := `<prior/><iq from='example.com' to='juliet@example.com/balcony' id='v1' type='result'><query xmlns='jabber:iq:version'><name>Hermod</name></query></iq>`
	if bb.String() != want {
		t.Errorf("\n got %s\nwant %s", bb.B, want)
	}
	// A reply with nothing inside self-closes; prefixed names close correctly.
	h2 := mustHeader(t, `<c:iq xmlns:c='jabber:client' id='x' type='set'/>`)
	b.Reset(nil)
	b.StartReply(h2, "result").End()
	b.StartReply(h2, "result").Text("t").End()
	if out, _ := b.Finish(); string(out) != `<c:iq id='x' type='result'/><c:iq id='x' type='result'>t</c:iq>` {
		t.Errorf("prefixed reply: %s", out)
	}
}
