package privacy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/modules/privacy"
)

const bl = "xmlns='urn:xmpp:blocking'"

// TestBlockingCommand walks XEP-0191 section 3 with its own examples (montague.net and
// shakespeare.lit read as localhost).
func TestBlockingCommand(t *testing.T) {
	e := start(t, nil, nil)
	e.users("juliet", "romeo", "iago", "nurse")
	chamber := e.login("juliet", "chamber", true)
	balcony := e.login("juliet", "balcony", true)
	garden := e.login("juliet", "garden", true) // never asks for the block list
	romeo := e.login("romeo", "orchard", true)
	nurse := e.login("nurse", "x", true)

	if f := e.spy.host().Features(); !slices.Contains(f, privacy.NSBlocking) || !slices.Contains(f, privacy.NSPrivacy) {
		t.Fatalf("disco features %v lack blocking or privacy", f)
	}
	// Examples 3-5: an empty block list.
	got := iq(t, chamber, "blocklist1", "get", "<blocklist "+bl+"/>")
	if !strings.Contains(got, "type='result'") || !strings.Contains(got, "<blocklist "+bl+"/>") {
		t.Fatalf("empty block list: %q", got)
	}
	wantResult(t, iq(t, balcony, "blocklist2", "get", "<blocklist "+bl+"/>"))

	// Examples 6-8: block, result, pushes to the resources that asked for the list.
	garden.Buf.Reset()
	wantResult(t, iq(t, chamber, "block1", "set", "<block "+bl+"><item jid='romeo@localhost'/></block>"))
	for _, rc := range []struct {
		name string
		c    interface{ ReadUntil(string) string }
	}{{"chamber", chamber}, {"balcony", balcony}} {
		got := rc.c.ReadUntil("</iq>")
		if !strings.Contains(got, "type='set'") || !strings.Contains(got, "<block "+bl+"><item jid='romeo@localhost'/></block>") {
			t.Fatalf("block push to %s: %q", rc.name, got)
		}
	}
	silent(t, garden, "urn:xmpp:blocking")
	balcony.Buf.Reset()
	got = iq(t, chamber, "blocklist3", "get", "<blocklist "+bl+"/>")
	if !strings.Contains(got, "<blocklist "+bl+"><item jid='romeo@localhost'/></blocklist>") {
		t.Fatalf("block list after block: %q", got)
	}

	// The blocked contact's stanzas do not arrive (section 3.3).
	romeo.Buf.Reset()
	romeo.Send("<message to='juliet@localhost/chamber' type='chat' id='r1'><body>Wherefore</body></message>")
	got = romeo.ReadUntil("</message>")
	romeo.Buf.Reset()
	if !strings.Contains(got, "type='error'") || !strings.Contains(got, "<service-unavailable ") {
		t.Fatalf("blocked message answered with %q", got)
	}
	romeo.Send("<iq to='juliet@localhost/chamber' type='get' id='r2'><query xmlns='jabber:iq:version'/></iq>")
	wantError(t, answer(t, romeo, "r2"), "service-unavailable")
	romeo.Send("<presence to='juliet@localhost/chamber'><status>r3</status></presence>")
	romeo.Send("<message to='juliet@localhost' type='chat' id='r4'><body>bare</body></message>")
	silent(t, chamber, "romeo@localhost")
	silent(t, balcony, "romeo@localhost")
	nurse.Send("<message to='juliet@localhost/chamber' type='chat' id='n1'><body>control</body></message>")
	chamber.ReadUntil("control")

	// Example 9: an outbound stanza to the blocked JID gets not-acceptable + <blocked/>.
	chamber.Buf.Reset()
	chamber.Send("<message to='romeo@localhost' id='j1'><body>Can you hear me now?</body></message>")
	got = chamber.ReadUntil("</message>")
	chamber.Buf.Reset()
	for _, want := range []string{"type='error'", "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", "<blocked xmlns='urn:xmpp:blocking:errors'/>"} {
		if !strings.Contains(got, want) {
			t.Fatalf("message to a blocked JID answered %q, lacking %q", got, want)
		}
	}
	silent(t, romeo, "Can you hear me")

	// Examples 10-12: unblock.
	wantResult(t, iq(t, chamber, "unblock1", "set", "<unblock "+bl+"><item jid='romeo@localhost'/></unblock>"))
	balcony.ReadUntil("<unblock " + bl + "><item jid='romeo@localhost'/></unblock>")
	romeo.Send("<message to='juliet@localhost/chamber' type='chat' id='r5'><body>again</body></message>")
	chamber.ReadUntil("again")

	// Examples 13-15: unblock all.
	wantResult(t, iq(t, chamber, "b2", "set", "<block "+bl+"><item jid='romeo@localhost'/><item jid='iago@localhost'/></block>"))
	balcony.Buf.Reset()
	wantResult(t, iq(t, chamber, "unblock2", "set", "<unblock "+bl+"/>"))
	balcony.ReadUntil("<unblock " + bl + "/>")
	got = iq(t, chamber, "blocklist4", "get", "<blocklist "+bl+"/>")
	if !strings.Contains(got, "<blocklist "+bl+"/>") {
		t.Fatalf("block list after unblock all: %q", got)
	}

	// Errors: a block without items, a malformed JID, another account's list.
	wantError(t, iq(t, chamber, "e1", "set", "<block "+bl+"/>"), "bad-request")
	wantError(t, iq(t, chamber, "e2", "set", "<block "+bl+"><item jid='@@'/></block>"), "jid-malformed")
	romeo.Buf.Reset()
	romeo.Send("<iq type='get' to='juliet@localhost' id='e3'><blocklist " + bl + "/></iq>")
	wantError(t, answer(t, romeo, "e3"), "forbidden")
}

// TestBlockingOnPrivacyLists: the block list is the default privacy list (XEP-0191
// section 6): blocks go to its head, items a privacy client wrote stay, and a privacy
// list edit shows in the block list.
func TestBlockingOnPrivacyLists(t *testing.T) {
	e := start(t, nil, nil)
	e.users("juliet", "romeo")
	c := e.login("juliet", "chamber", true)
	wantResult(t, iq(t, c, "l", "set", q+"<list name='mine'>"+
		"<item type='jid' value='tybalt@localhost' action='deny' order='0'/>"+
		"<item type='jid' value='paris@localhost' action='deny' order='5'><message/></item>"+
		"<item action='allow' order='10'/></list></query>"))
	wantResult(t, iq(t, c, "d", "set", q+"<default name='mine'/></query>"))
	got := iq(t, c, "g", "get", "<blocklist "+bl+"/>")
	// paris is denied messages only: not a block item.
	if !strings.Contains(got, "<blocklist "+bl+"><item jid='tybalt@localhost'/></blocklist>") {
		t.Fatalf("block list from a privacy list: %q", got)
	}
	wantResult(t, iq(t, c, "b", "set", "<block "+bl+"><item jid='romeo@localhost'/></block>"))
	got = iq(t, c, "get", "get", q+"<list name='mine'/></query>")
	want := "<item type='jid' value='romeo@localhost' action='deny' order='0'/>" +
		"<item type='jid' value='tybalt@localhost' action='deny' order='1'/>" +
		"<item type='jid' value='paris@localhost' action='deny' order='6'><message/></item>" +
		"<item action='allow' order='11'/>"
	if !strings.Contains(got, want) {
		t.Fatalf("default list after block: %q, want %q", got, want)
	}
	// Without a default list, blocking creates urn:xmpp:blocking and makes it default.
	wantResult(t, iq(t, c, "nd", "set", q+"<default/></query>"))
	wantResult(t, iq(t, c, "b2", "set", "<block "+bl+"><item jid='iago@localhost'/></block>"))
	got = iq(t, c, "names", "get", q+"</query>")
	if !strings.Contains(got, "<default name='urn:xmpp:blocking'/>") {
		t.Fatalf("blocking without a default list: %q", got)
	}
	// Unblocking the last JID removes the list it created.
	wantResult(t, iq(t, c, "u", "set", "<unblock "+bl+"><item jid='iago@localhost'/></unblock>"))
	got = iq(t, c, "names2", "get", q+"</query>")
	if strings.Contains(got, "urn:xmpp:blocking") {
		t.Fatalf("empty block list kept: %q", got)
	}
}

// TestBlockingPresence: a blocked contact subscribed to the user's presence sees the
// user go offline; unblocked, it gets the current presence back (section 3.3, 3.4).
func TestBlockingPresence(t *testing.T) {
	e := start(t, nil, nil)
	e.users("juliet", "romeo")
	e.roster("juliet", backends.RosterItem{Contact: "romeo@localhost", Subscription: backends.SubBoth})
	romeo := e.login("romeo", "orchard", true)
	c := e.login("juliet", "chamber", false)
	c.Send("<presence><status>on the balcony</status></presence>")
	c.ReadUntil("on the balcony")
	time.Sleep(50 * time.Millisecond)
	romeo.Buf.Reset()
	wantResult(t, iq(t, c, "b", "set", "<block "+bl+"><item jid='romeo@localhost'/></block>"))
	got := romeo.ReadUntil("/>")
	if !strings.Contains(got, "from='juliet@localhost/chamber'") || !strings.Contains(got, "type='unavailable'") {
		t.Fatalf("blocked contact got %q, want unavailable presence", got)
	}
	romeo.Buf.Reset()
	wantResult(t, iq(t, c, "u", "set", "<unblock "+bl+"><item jid='romeo@localhost'/></unblock>"))
	got = romeo.ReadUntil("</presence>")
	if !strings.Contains(got, "on the balcony") || !strings.Contains(got, "to='romeo@localhost'") {
		t.Fatalf("unblocked contact got %q, want juliet's presence", got)
	}
}

// TestBlockingDisabled: with blocking = false only privacy lists are served.
func TestBlockingDisabled(t *testing.T) {
	e := start(t, nil, map[string]any{"blocking": false})
	e.users("juliet")
	c := e.login("juliet", "chamber", false)
	wantError(t, iq(t, c, "g", "get", "<blocklist "+bl+"/>"), "service-unavailable")
	if slices.Contains(e.spy.host().Features(), privacy.NSBlocking) {
		t.Fatal("blocking advertised while disabled")
	}
}
