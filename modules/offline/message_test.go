package offline

import (
	"bytes"
	"testing"
	"time"

	"github.com/hermod-im/hermod/stanza"
)

func TestDecide(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want decision
	}{
		{"<message to='a@b'><body>hi</body></message>", store},
		{"<message to='a@b' type='chat'><subject>s</subject></message>", store},
		{"<message to='a@b'><x xmlns='jabber:x:conference' jid='room@muc'/></message>", store},
		{"<message to='a@b'><encrypted xmlns='eu.siacs.conversations.axolotl'/><store xmlns='urn:xmpp:hints'/></message>", store},
		{"<message to='a@b' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>", drop},
		{"<message to='a@b' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/><thread>t</thread><no-copy xmlns='urn:xmpp:hints'/></message>", drop},
		{"<message to='a@b' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/><store xmlns='urn:xmpp:hints'/></message>", store},
		{"<message to='a@b'><body>hi</body><no-store xmlns='urn:xmpp:hints'/></message>", drop},
		{"<message to='a@b'/>", drop},
		{"<message to='a@b'><body>unclosed</message>", bounce},
	} {
		if got := decide([]byte(c.raw)); got != c.want {
			t.Errorf("decide(%s) = %d, want %d", c.raw, got, c.want)
		}
	}
}

func TestAppendDelay(t *testing.T) {
	stamp := time.Date(2002, 9, 10, 23, 8, 25, 123_456_789, time.FixedZone("", 3600))
	const delay = "<delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='2002-09-10T22:08:25.123Z'>Offline Storage</delay>"
	for _, c := range []struct{ raw, want string }{
		{"<message from='romeo@montague.net/orchard' to='juliet@capulet.com'><body>O blessed night!</body></message>",
			"<message from='romeo@montague.net/orchard' to='juliet@capulet.com'><body>O blessed night!</body>" + delay + "</message>"},
		{"<message to='juliet@capulet.com'/>", "<message to='juliet@capulet.com'>" + delay + "</message>"},
		{"<message to='juliet@capulet.com' />", "<message to='juliet@capulet.com' >" + delay + "</message>"},
		{"<message to='j@c'><body>a</body></message >", "<message to='j@c'><body>a</body>" + delay + "</message >"},
		{"<cli:message xmlns:cli='jabber:client' to='j@c'><cli:body>a</cli:body></cli:message>",
			"<cli:message xmlns:cli='jabber:client' to='j@c'><cli:body>a</cli:body>" + delay + "</cli:message>"},
	} {
		var h stanza.Header
		if err := stanza.ParseHeader([]byte(c.raw), &h); err != nil {
			t.Fatal(err)
		}
		got, err := appendDelay([]byte("x"), []byte(c.raw), &h, "capulet.com", stamp)
		if err != nil || string(got) != "x"+c.want {
			t.Errorf("appendDelay(%s)\n got  %s, %v\n want x%s", c.raw, got, err, c.want)
		}
	}
	var h stanza.Header
	raw := []byte("<message to='j@c'><body>a</body></mess>")
	_ = stanza.ParseHeader(raw, &h)
	if _, err := appendDelay(nil, raw, &h, "c", stamp); err == nil {
		t.Error("appendDelay accepted a stanza whose end tag does not match")
	}
}

func TestPriorityOf(t *testing.T) {
	for raw, want := range map[string]int{
		"<presence/>": 0,
		"<presence><priority>5</priority></presence>":    5,
		"<presence><priority>-1</priority></presence>":   -1,
		"<presence><priority>+127</priority></presence>": 127,
		"<presence><priority>-128</priority></presence>": -128,
		"<presence><priority>128</priority></presence>":  0,
		"<presence><priority>1x</priority></presence>":   0,
		"<presence><priority></priority></presence>":     0,
		"<presence><priority>-</priority></presence>":    0,
	} {
		if got := priorityOf([]byte(raw)); got != want {
			t.Errorf("priorityOf(%s) = %d, want %d", raw, got, want)
		}
	}
}

// FuzzAppendDelay checks that for any element ParseHeader and Parse accept, the delay
// is added as the last child of the root and nothing else changes.
func FuzzAppendDelay(f *testing.F) {
	for _, s := range []string{
		"<message to='j@c'><body>a</body></message>",
		"<message/>",
		"<message to='a&amp;b' >text<x xmlns='urn:x'>&lt;</x>tail</message >",
		"<m:message xmlns:m='jabber:client'><m:body/></m:message>",
		"<message><![CDATA[</message>]]></message>",
	} {
		f.Add([]byte(s))
	}
	stamp := time.Unix(1_031_699_305, 0)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var h stanza.Header
		if stanza.ParseHeader(raw, &h) != nil {
			return
		}
		el, err := stanza.Parse(raw)
		if err != nil {
			return
		}
		defer el.Release()
		if _, err := h.Inner(raw); err != nil && !h.SelfClosing {
			return // trailing bytes after the element: not a stanza the engine hands over
		}
		out, err := appendDelay(nil, raw, &h, "example.com", stamp)
		if err != nil {
			t.Fatalf("appendDelay(%q): %v", raw, err)
		}
		got, err := stanza.Parse(out)
		if err != nil {
			t.Fatalf("appendDelay(%q) = %q, which does not parse: %v", raw, out, err)
		}
		defer got.Release()
		kids := got.Children()
		if len(kids) != len(el.Children())+1 || !kids[len(kids)-1].Is(nsDelay, "delay") {
			t.Fatalf("appendDelay(%q) = %q: delay is not the one added last child", raw, out)
		}
		if !bytes.Equal(got.Local(), el.Local()) || !bytes.Equal(got.Space(), el.Space()) {
			t.Fatalf("appendDelay(%q) = %q: root renamed", raw, out)
		}
		if stamp, _ := kids[len(kids)-1].Attr("", "stamp"); stamp != "2002-09-10T23:08:25.000Z" {
			t.Fatalf("stamp %q", stamp)
		}
	})
}
