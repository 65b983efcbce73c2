//go:build !race

package carbons

import (
	"testing"

	"github.com/hermod-im/hermod/stanza"
)

// TestEligibleAllocs: deciding whether a message is copied costs no allocation once
// the element pools are warm, so enabling carbons does not add garbage per message.
func TestEligibleAllocs(t *testing.T) {
	raw := []byte("<message to='juliet@example.com/balcony' type='chat' id='m1'><body>Neither, fair saint</body>" +
		"<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
	var h stanza.Header
	n := testing.AllocsPerRun(500, func() {
		_ = stanza.ParseHeader(raw, &h)
		el, err := stanza.ParseIn(raw, nsClient)
		if err != nil {
			t.Fatal(err)
		}
		if !eligible(el, "chat", received) || directTo(&h, "garden") {
			t.Fatal("wrong decision")
		}
		el.Release()
	})
	if n != 0 {
		t.Fatalf("%v allocations per decision", n)
	}
}
