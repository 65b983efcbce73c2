package stanza

import "testing"

// benchMsg is a 200-byte message as a client sends it (no from).
const benchMsg = `<message to='juliet@example.com/balcony' type='chat' id='purple4dac25'><body>Neither, fair saint, if either thee dislike. Art thou not Romeo?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`

// BenchmarkHeaderRewrite measures what the router does per routed stanza: find the
// header and stamp from.
func BenchmarkHeaderRewrite(b *testing.B) {
	raw := []byte(benchMsg)
	from := []byte("romeo@example.net/orchard")
	dst := make([]byte, 0, 512)
	var h Header
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseHeader(raw, &h); err != nil {
			b.Fatal(err)
		}
		dst = AppendRewrite(dst[:0], raw, &h, from, nil)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	raw := []byte(benchMsg)
	var h Header
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseHeader(raw, &h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEscapeAttr(b *testing.B) {
	s := "romeo@example.net/orchard with a longer resource"
	dst := make([]byte, 0, 128)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		dst = EscapeAttr(dst[:0], s)
	}
}

// BenchmarkErrorReply measures answering a 200-byte message with
// service-unavailable, payload included.
func BenchmarkErrorReply(b *testing.B) {
	raw := []byte(benchMsg)
	var h Header
	e := StanzaError{Condition: ServiceUnavailable}
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseHeader(raw, &h); err != nil {
			b.Fatal(err)
		}
		dst = AppendErrorReply(dst[:0], raw, &h, e)
	}
}

// BenchmarkBuilderRosterResult builds a roster result with three items.
func BenchmarkBuilderRosterResult(b *testing.B) {
	h := new(Header)
	if err := ParseHeader([]byte(`<iq from='juliet@example.com/balcony' type='get' id='r1'/>`), h); err != nil {
		b.Fatal(err)
	}
	var bl Builder
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		bl.Reset(buf[:0])
		bl.StartReply(h, "result").Start("query").Xmlns("jabber:iq:roster").Attr("ver", "ver7")
		for i := 0; i < 3; i++ {
			bl.Start("item").Attr("jid", "nurse@example.com").Attr("subscription", "both").
				Start("group").Text("Servants").End().End()
		}
		bl.End().End()
		if _, err := bl.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRelease measures building and releasing the tree of a 1 KiB iq.
func BenchmarkParseRelease(b *testing.B) {
	raw := []byte(iq1K)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		e.Release()
	}
}

// BenchmarkElementAppendXML measures serialising the tree of a 1 KiB iq.
func BenchmarkElementAppendXML(b *testing.B) {
	e, err := Parse([]byte(iq1K))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Release()
	dst := make([]byte, 0, 2048)
	b.SetBytes(int64(len(iq1K)))
	b.ReportAllocs()
	for b.Loop() {
		dst = e.AppendXML(dst[:0])
	}
}
