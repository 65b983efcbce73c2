package carbons

import (
	"testing"

	"github.com/hermod-im/hermod/stanza"
)

// BenchmarkCopy measures what a copy costs beyond the routing of the original: parse,
// eligibility, and the serialisation of the forwarded message.
func BenchmarkCopy(b *testing.B) {
	raw := []byte("<message from='juliet@example.com/balcony' to='romeo@example.net/garden' type='chat' id='m1'>" +
		"<body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>" +
		"<thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message>")
	var buf, inner []byte
	b.ReportAllocs()
	for b.Loop() {
		el, err := stanza.ParseIn(raw, nsClient)
		if err != nil {
			b.Fatal(err)
		}
		if eligible(el, "chat", received) {
			var bld stanza.Builder
			bld.Reset(buf[:0])
			bld.Start("message").Attr("from", "romeo@example.net").Attr("to", "romeo@example.net/home").Attr("type", "chat")
			bld.Start(received).Xmlns(NS).Start("forwarded").Xmlns(NSForward)
			inner = el.AppendXML(inner[:0])
			bld.Raw(inner).End().End().End()
			buf, _ = bld.Finish()
		}
		el.Release()
	}
}
