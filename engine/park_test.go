package engine_test

import (
	"strings"
	"testing"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
)

// TestParkedScannerResumes: idle bound streams give up their scanner when its state
// is one of the shared checkpoints (both orders of the usual declarations), and
// everything they send afterwards is read as before: stanzas in pieces, stanzas
// declaring namespaces, a malformed one (with the right stream error, others
// unaffected) and the stream's end. Streams with other declarations, or still
// negotiating, keep theirs.
func TestParkedScannerResumes(t *testing.T) {
	ts := startServer(t)
	users(ts, "pa", "pb", "pc")
	a := rawLogin(t, ts, "pa", "r") // the harness's header: xmlns then xmlns:stream
	b := ts.LoginWith(t, "pb", "pw-pb", "r",
		"<stream:stream to='localhost' version='1.0' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>")
	c := ts.LoginWith(t, "pc", "pw-pc", "r",
		"<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:x='urn:x'>")
	pending := dialRaw(t, ts.Plain)
	pending.Send(enginetest.StreamOpen)
	pending.ReadUntil("</stream:features>")

	if got := engine.CompactNow(ts.Srv); got != 2 {
		t.Fatalf("%d connections parked their scanner, want 2 (the two usual headers)", got)
	}

	// In pieces, right after the wake-up.
	msg := "<message to='pb@localhost/r' type='chat' id='m1'><body>one</body></message>"
	a.Send(msg[:7])
	a.Send(msg[7:30])
	a.Send(msg[30:])
	if got := b.ReadUntil("</message>"); !strings.Contains(got, "from='pa@localhost/r'") || !strings.Contains(got, "<body>one</body>") {
		t.Fatalf("b got %q", got)
	}
	b.Buf.Reset()
	// Parked again, then a stanza declaring a prefix and a whitespace keepalive.
	if got := engine.CompactNow(ts.Srv); got != 2 {
		t.Fatalf("second round: %d parked, want 2", got)
	}
	b.Send(" <message to='pa@localhost/r' id='m2' xmlns:e='urn:example'><e:x a='1'/><body>two</body></message>")
	if got := a.ReadUntil("</message>"); !strings.Contains(got, "<e:x a='1'/>") {
		t.Fatalf("a got %q", got)
	}
	a.Buf.Reset()
	// The third stream's own prefix still works: its scanner was kept.
	c.Send("<message to='pa@localhost/r' id='m3'><x:y/><body>three</body></message>")
	if got := a.ReadUntil("</message>"); !strings.Contains(got, "three") {
		t.Fatalf("a got %q", got)
	}
	a.Buf.Reset()
	// A parked stream that sends an unbound prefix gets the stream error.
	engine.CompactNow(ts.Srv)
	b.Send("<message to='pa@localhost/r'><x:y/></message>")
	if got := b.ReadUntil("</stream:stream>"); !strings.Contains(got, "bad-namespace-prefix") {
		t.Fatalf("b got %q, want bad-namespace-prefix", got)
	}
	// The others are unaffected; the stream's end is read after a wake-up.
	engine.CompactNow(ts.Srv)
	a.Send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
	a.ReadUntil("id='p1'")
	engine.CompactNow(ts.Srv)
	a.Send("</stream:stream>")
	a.ReadUntil("</stream:stream>")
	pending.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AHBhAHB3LXBh</auth>")
	pending.ReadUntil("<success")
}
