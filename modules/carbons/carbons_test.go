package carbons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/carbons"
)

func start(t *testing.T) *enginetest.Server {
	t.Helper()
	ts := enginetest.Start(t, enginetest.WithModule(carbons.Name, carbons.New, nil))
	for _, u := range []string{"romeo", "juliet", "tybalt"} {
		ts.AddUser(u, "pw")
	}
	return ts
}

// login binds user/resource and sends initial presence with priority prio.
func login(t *testing.T, ts *enginetest.Server, user, resource, prio string) *enginetest.Raw {
	t.Helper()
	rc := ts.Login(t, user, "pw", resource)
	rc.Send("<presence><priority>" + prio + "</priority></presence>")
	rc.ReadUntil("<presence")
	rc.Next(100 * time.Millisecond)
	return rc
}

func enable(t *testing.T, rc *enginetest.Raw, id string) string {
	t.Helper()
	rc.Buf.Reset()
	rc.Send("<iq xmlns='jabber:client' id='" + id + "' type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	got := rc.ReadUntil("id='" + id + "'")
	got += rc.ReadUntil("/>")
	rc.Buf.Reset()
	return got
}

// quiet fails if anything arrives within 300 ms.
func quiet(t *testing.T, rc *enginetest.Raw, what string) {
	t.Helper()
	if got := rc.Next(300 * time.Millisecond); strings.Contains(got, "<message") {
		t.Fatalf("%s: unexpected %q", what, got)
	}
}

// TestExamples runs the examples of XEP-0280 sections 4, 5, 7, 8 and 10.
func TestExamples(t *testing.T) {
	ts := start(t)
	garden := login(t, ts, "romeo", "garden", "1")
	home := login(t, ts, "romeo", "home", "0")
	old := login(t, ts, "romeo", "old", "0") // never enables carbons
	balcony := login(t, ts, "juliet", "balcony", "0")
	garden.Next(100 * time.Millisecond)

	// Examples 3-4.
	if got := enable(t, garden, "enable1"); !strings.Contains(got, "<iq type='result' id='enable1' to='romeo@localhost/garden'/>") {
		t.Fatalf("enable: %q", got)
	}
	// Section 9.1: enabling twice is not an error.
	if got := enable(t, garden, "enable1b"); !strings.Contains(got, "type='result'") {
		t.Fatalf("second enable: %q", got)
	}
	enable(t, home, "enable2")

	// Examples 8-9: juliet writes to garden; home gets <received/>, garden only the
	// original, old nothing.
	msg := "<message xmlns='jabber:client' to='romeo@localhost/garden' type='chat'>" +
		"<body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>" +
		"<thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message>"
	balcony.Send(msg)
	got := garden.ReadUntil("</message>")
	garden.Buf.Reset()
	if strings.Contains(got, "urn:xmpp:carbons:2") {
		t.Fatalf("the addressed resource got a carbon: %q", got)
	}
	got = home.ReadUntil("</message></forwarded></received></message>")
	home.Buf.Reset()
	want := "<message from='romeo@localhost' to='romeo@localhost/home' type='chat'>" +
		"<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
		"<message from='juliet@localhost/balcony' xmlns='jabber:client' to='romeo@localhost/garden' type='chat'>" +
		"<body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>" +
		"<thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message></forwarded></received></message>"
	if got != want {
		t.Fatalf("received carbon:\n got  %s\n want %s", got, want)
	}
	quiet(t, old, "a resource without carbons")

	// Examples 10-11: home answers; garden gets <sent/>, home (the sender) nothing.
	home.Send("<message xmlns='jabber:client' to='juliet@localhost/balcony' type='chat'>" +
		"<body>Neither, fair saint, if either thee dislike.</body>" +
		"<thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message>")
	balcony.ReadUntil("Neither, fair saint")
	balcony.Buf.Reset()
	got = garden.ReadUntil("</message></forwarded></sent></message>")
	garden.Buf.Reset()
	want = "<message from='romeo@localhost' to='romeo@localhost/garden' type='chat'>" +
		"<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
		"<message xmlns='jabber:client' to='juliet@localhost/balcony' type='chat' from='romeo@localhost/home'>" +
		"<body>Neither, fair saint, if either thee dislike.</body>" +
		"<thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message></forwarded></sent></message>"
	if got != want {
		t.Fatalf("sent carbon:\n got  %s\n want %s", got, want)
	}
	quiet(t, home, "the sending resource")
	quiet(t, old, "a resource without carbons")

	// Examples 12-13: <private/> with <no-copy/>: no copy either way.
	home.Send("<message to='juliet@localhost/balcony' type='chat'><body>private out</body>" +
		"<private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/></message>")
	balcony.ReadUntil("private out")
	balcony.Send("<message to='romeo@localhost/home' type='chat'><body>private in</body>" +
		"<private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/></message>")
	home.ReadUntil("private in")
	quiet(t, garden, "private messages")

	// Examples 5-6: disable; then nothing more.
	garden.Buf.Reset()
	garden.Send("<iq xmlns='jabber:client' id='disable1' type='set'><disable xmlns='urn:xmpp:carbons:2'/></iq>")
	if got := garden.ReadUntil("/>"); !strings.Contains(got, "<iq type='result' id='disable1' to='romeo@localhost/garden'/>") {
		t.Fatalf("disable: %q", got)
	}
	garden.Buf.Reset()
	balcony.Send("<message to='romeo@localhost/home' type='chat'><body>after disable</body></message>")
	home.ReadUntil("after disable")
	quiet(t, garden, "a disabled resource")
}

// TestEligibility checks the rules of section 6.1 on received copies.
func TestEligibility(t *testing.T) {
	ts := start(t)
	garden := login(t, ts, "romeo", "garden", "0")
	home := login(t, ts, "romeo", "home", "0")
	balcony := login(t, ts, "juliet", "balcony", "0")
	enable(t, home, "e")
	cases := []struct {
		name, payload, typ string
		copied             bool
	}{
		{"chat", "<body>x</body>", "chat", true},
		{"chat state only", "<composing xmlns='http://jabber.org/protocol/chatstates'/>", "chat", true},
		{"normal with body", "<body>x</body>", "normal", true},
		{"no type with body", "<body>x</body>", "", true},
		{"normal without body", "<subject>x</subject>", "normal", false},
		{"normal receipt", "<received xmlns='urn:xmpp:receipts' id='r'/>", "normal", true},
		{"normal marker", "<displayed xmlns='urn:xmpp:chat-markers:0' id='r'/>", "", true},
		{"direct invitation", "<x xmlns='jabber:x:conference' jid='room@muc.localhost'/>", "", true},
		{"mediated invitation", "<x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x>", "", true},
		{"MUC private message", "<body>x</body><x xmlns='http://jabber.org/protocol/muc#user'/>", "chat", false},
		{"headline", "<body>x</body>", "headline", false},
		{"no-copy hint alone", "<body>x</body><no-copy xmlns='urn:xmpp:hints'/>", "chat", false},
		{"private alone", "<body>x</body><private xmlns='urn:xmpp:carbons:2'/>", "chat", false},
		// Section 11: a carbon forged by another user is not copied again.
		{"forged carbon", "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
			"<message xmlns='jabber:client' from='a@b/c' to='romeo@localhost/garden' type='chat'><body>x</body></message></forwarded></received>", "chat", false},
	}
	for i, c := range cases {
		marker := "case-" + string(rune('a'+i))
		typ := ""
		if c.typ != "" {
			typ = " type='" + c.typ + "'"
		}
		balcony.Send("<message to='romeo@localhost/garden' id='" + marker + "'" + typ + ">" + c.payload + "</message>")
		garden.ReadUntil("id='" + marker + "'")
		garden.Buf.Reset()
		if c.copied {
			got := home.ReadUntil("id='" + marker + "'")
			home.ReadUntil("</received></message>")
			home.Buf.Reset()
			if !strings.Contains(got, "<received xmlns='urn:xmpp:carbons:2'>") {
				t.Fatalf("%s: copy %q", c.name, got)
			}
			continue
		}
		if got := home.Next(300 * time.Millisecond); strings.Contains(got, marker) {
			t.Fatalf("%s: copied: %q", c.name, got)
		}
	}
}

// TestBareJID: a message to the bare JID goes to the top-priority resources; each
// enabled resource that did not get it gets exactly one copy (section 7).
func TestBareJID(t *testing.T) {
	ts := start(t)
	garden := login(t, ts, "romeo", "garden", "5")
	home := login(t, ts, "romeo", "home", "5")
	phone := login(t, ts, "romeo", "phone", "1")
	balcony := login(t, ts, "juliet", "balcony", "0")
	for i, rc := range []*enginetest.Raw{garden, home, phone} {
		enable(t, rc, "e"+string(rune('0'+i)))
	}
	balcony.Send("<message to='romeo@localhost' type='chat'><body>to all of you</body></message>")
	for _, rc := range []*enginetest.Raw{garden, home} {
		got := rc.ReadUntil("to all of you")
		rc.Buf.Reset()
		if strings.Contains(got, "carbons") {
			t.Fatalf("a top-priority resource got a copy: %q", got)
		}
		quiet(t, rc, "a resource that got the original")
	}
	got := phone.ReadUntil("</received></message>")
	phone.Buf.Reset()
	if strings.Count(got, "to all of you") != 1 || !strings.Contains(got, "to='romeo@localhost/phone'") {
		t.Fatalf("the lower-priority resource: %q", got)
	}
	quiet(t, phone, "a second copy")
}

// TestOwnResources: a message between two resources of one account is not sent back
// as a <sent/> copy, and a fresh session does not inherit carbons.
func TestOwnResources(t *testing.T) {
	ts := start(t)
	garden := login(t, ts, "romeo", "garden", "0")
	home := login(t, ts, "romeo", "home", "0")
	phone := login(t, ts, "romeo", "phone", "0")
	enable(t, garden, "e1")
	enable(t, phone, "e2")
	home.Send("<message to='romeo@localhost/garden' type='chat'><body>note</body></message>")
	garden.ReadUntil("note")
	// phone gets one received copy, no sent copy.
	got := phone.ReadUntil("</message></forwarded>")
	phone.Buf.Reset()
	if !strings.Contains(got, "<received ") || strings.Contains(got, "<sent ") {
		t.Fatalf("copy of a message between own resources: %q", got)
	}
	quiet(t, phone, "a second copy")

	// A session that reconnects starts without carbons.
	phone.Conn.Close()
	phone = login(t, ts, "romeo", "phone", "0")
	balcony := login(t, ts, "juliet", "balcony", "0")
	balcony.Send("<message to='romeo@localhost/garden' type='chat'><body>after reconnect</body></message>")
	garden.ReadUntil("after reconnect")
	quiet(t, phone, "a reconnected session")
}

// TestErrors: only the account's own server changes its carbons; a get is malformed.
func TestErrors(t *testing.T) {
	ts := start(t)
	garden := login(t, ts, "romeo", "garden", "0")
	garden.Send("<iq id='x1' type='set' to='juliet@localhost'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	if got := garden.ReadUntil("</iq>"); !strings.Contains(got, "<not-allowed ") {
		t.Fatalf("enable for another account: %q", got)
	}
	garden.Buf.Reset()
	garden.Send("<iq id='x2' type='get'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	if got := garden.ReadUntil("</iq>"); !strings.Contains(got, "<bad-request ") {
		t.Fatalf("get: %q", got)
	}
	garden.Buf.Reset()
	garden.Send("<iq id='x3' type='set' to='localhost'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	if got := garden.ReadUntil("/>"); !strings.Contains(got, "type='result'") {
		t.Fatalf("enable sent to the server: %q", got)
	}
}
