package offline

import (
	"testing"
	"time"

	"github.com/hermod-im/hermod/stanza"
)

var benchRaw = []byte("<message to='juliet@example.org' type='chat' id='a1b2c3'><body>Wherefore art thou Romeo? Deny thy father and refuse thy name.</body>" +
	"<active xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/></message>")

// BenchmarkHookPath is the work mod_offline does on the sender's event loop for one
// message: the storage decision and the copy with 'from' stamped.
func BenchmarkHookPath(b *testing.B) {
	var h stanza.Header
	if err := stanza.ParseHeader(benchRaw, &h); err != nil {
		b.Fatal(err)
	}
	from := []byte("romeo@example.org/orchard")
	b.ReportAllocs()
	for b.Loop() {
		if decide(benchRaw) != store {
			b.Fatal("not stored")
		}
		_ = stanza.AppendRewrite(nil, benchRaw, &h, from, nil)
	}
}

// BenchmarkAppendDelay is the delay insertion done by the flush, on a worker.
func BenchmarkAppendDelay(b *testing.B) {
	var h stanza.Header
	if err := stanza.ParseHeader(benchRaw, &h); err != nil {
		b.Fatal(err)
	}
	stamp := time.Now()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = appendDelay(buf[:0], benchRaw, &h, "example.org", stamp); err != nil {
			b.Fatal(err)
		}
	}
}
