package carbons

import (
	"testing"

	"github.com/hermod-im/hermod/stanza"
)

func TestEligible(t *testing.T) {
	cases := []struct {
		raw       string
		typ       string
		sent, rcv bool
	}{
		{"<message type='chat'><body>x</body></message>", "chat", true, true},
		{"<message type='chat'><body>x</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>", "chat", true, false},
		{"<message><body>x</body></message>", "", true, true},
		{"<message type='normal'/>", "normal", false, false},
		{"<message type='normal'><active xmlns='http://jabber.org/protocol/chatstates'/></message>", "normal", true, true},
		{"<message><request xmlns='urn:xmpp:receipts'/></message>", "", true, true},
		{"<message><x xmlns='jabber:x:conference' jid='r@m'/></message>", "", true, true},
		{"<message><x xmlns='http://jabber.org/protocol/muc#user'><invite to='a@b'/></x></message>", "", true, true},
		{"<message><x xmlns='http://jabber.org/protocol/muc#user'><decline to='a@b'/></x></message>", "", false, false},
		{"<message type='groupchat'><body>x</body></message>", "groupchat", false, false},
		{"<message type='headline'><body>x</body></message>", "headline", false, false},
		{"<message type='error'><body>x</body></message>", "error", false, false},
		{"<message type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>", "chat", false, false},
		{"<message type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>", "chat", false, false},
		{"<message type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>", "chat", false, false},
		{"<message type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>", "chat", false, false},
		// A body in another namespace is not an IM body.
		{"<message><body xmlns='urn:example'>x</body></message>", "", false, false},
	}
	for _, c := range cases {
		el, err := stanza.ParseIn([]byte(c.raw), nsClient)
		if err != nil {
			t.Fatal(err)
		}
		if got := eligible(el, c.typ, sent); got != c.sent {
			t.Errorf("%s sent: %v, want %v", c.raw, got, c.sent)
		}
		if got := eligible(el, c.typ, received); got != c.rcv {
			t.Errorf("%s received: %v, want %v", c.raw, got, c.rcv)
		}
		el.Release()
	}
}

func TestDirectTo(t *testing.T) {
	for _, c := range []struct {
		raw, resource string
		want          bool
	}{
		{"<message to='romeo@example.net/garden'/>", "garden", true},
		{"<message to='romeo@example.net/garden'/>", "home", false},
		{"<message to='romeo@example.net'/>", "garden", false},
		{"<message to='romeo@example.net/a&amp;b'/>", "a&b", true},
		{"<message to='romeo@example.net/a/b'/>", "a/b", true},
	} {
		var h stanza.Header
		if err := stanza.ParseHeader([]byte(c.raw), &h); err != nil {
			t.Fatal(err)
		}
		if got := directTo(&h, c.resource); got != c.want {
			t.Errorf("directTo(%s, %q) = %v", c.raw, c.resource, got)
		}
	}
}
