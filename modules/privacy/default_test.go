package privacy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/modules/privacy"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// TestOfflineAndRestart: the default list applies to a user without a session, before
// offline storage (rule 2), and still does right after a restart, before the user
// logs in again.
func TestOfflineAndRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *embedded.Store {
		st, err := embedded.Open(dir, embedded.Options{})
		if err != nil {
			t.Fatalf("embedded.Open: %v", err)
		}
		return st
	}
	st := open()
	e := start(t, st, nil)
	e.users("romeo", "tybalt", "mercutio")
	romeo := e.login("romeo", "orchard", true)
	wantResult(t, iq(t, romeo, "l", "set", listPublic))
	wantResult(t, iq(t, romeo, "d", "set", q+"<default name='public'/></query>"))
	romeo.Conn.Close()

	check := func(e *env, round string) {
		t.Helper()
		tybalt := e.login("tybalt", "pda", true)
		mercutio := e.login("mercutio", "x", true)
		tybalt.Send("<message to='romeo@localhost' type='chat' id='off1'><body>blocked " + round + "</body></message>")
		got := tybalt.ReadUntil("</message>")
		if !strings.Contains(got, "type='error'") || !strings.Contains(got, "<service-unavailable ") ||
			!strings.Contains(got, "from='romeo@localhost'") {
			t.Fatalf("%s: tybalt's offline message got %q", round, got)
		}
		mercutio.Send("<message to='romeo@localhost' type='chat' id='off2'><body>welcome " + round + "</body></message>")
		deadline := time.Now().Add(5 * time.Second)
		for {
			stored := strings.Join(e.spy.stored(), "")
			if strings.Contains(stored, "blocked "+round) {
				t.Fatalf("%s: a blocked message was offered to offline storage: %q", round, stored)
			}
			if strings.Contains(stored, "welcome "+round) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the allowed message never reached offline storage: %q", round, stored)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	check(e, "before")

	e.ts.Stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open()
	t.Cleanup(func() { st.Close() })
	e2 := start(t, st, nil)
	check(e2, "after")
}

// TestBareJIDRequests: iq get/set to a user's bare JID and subscription requests are
// handled by the server on the user's behalf; the default list still applies.
func TestBareJIDRequests(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt", "mercutio")
	romeo := e.login("romeo", "orchard", true)
	wantResult(t, iq(t, romeo, "l", "set", q+"<list name='x'><item type='jid' value='tybalt@localhost' action='deny' order='1'/></list></query>"))
	wantResult(t, iq(t, romeo, "d", "set", q+"<default name='x'/></query>"))
	tybalt := e.login("tybalt", "pda", true)
	// Example 61 of XEP-0016, to a bare JID.
	tybalt.Send("<iq type='get' to='romeo@localhost' id='probing1'><query xmlns='jabber:iq:version'/></iq>")
	got := answer(t, tybalt, "probing1")
	wantError(t, got, "service-unavailable")
	if !strings.Contains(got, "from='romeo@localhost'") {
		t.Fatalf("the error must come from the bare JID: %q", got)
	}
	tybalt.Send("<presence to='romeo@localhost' type='subscribe' id='sub1'/>")
	silent(t, romeo, "subscribe")
	if got := tybalt.Next(100 * time.Millisecond); strings.Contains(got, "error") {
		t.Fatalf("a refused subscription request was answered: %q", got)
	}
	// Another user's subscription request is routed as usual.
	mercutio := e.login("mercutio", "x", true)
	mercutio.Send("<presence to='romeo@localhost' type='subscribe' id='sub2'/>")
	romeo.ReadUntil("id='sub2'")
}

// TestOwnResources: a user's resources always reach each other (XEP-0016 section 2.1).
func TestOwnResources(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo")
	orchard := e.login("romeo", "orchard", true)
	home := e.login("romeo", "home", true)
	wantResult(t, iq(t, orchard, "l", "set", q+"<list name='all'><item action='deny' order='1'/></list></query>"))
	wantResult(t, iq(t, orchard, "a", "set", q+"<active name='all'/></query>"))
	home.Next(100 * time.Millisecond)
	wantResult(t, iq(t, home, "a", "set", q+"<active name='all'/></query>"))
	orchard.Buf.Reset()
	home.Send("<message to='romeo@localhost/orchard' id='self1'><body>note to self</body></message>")
	orchard.ReadUntil("note to self")
	orchard.Send("<iq to='romeo@localhost/home' type='get' id='self2'><query xmlns='jabber:iq:version'/></iq>")
	home.ReadUntil("id='self2'")
	// What the user asks of its own server is not blocked either.
	home.Buf.Reset()
	home.Send("<iq to='localhost' type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>")
	wantResult(t, answer(t, home, "ping1"))
}

// TestLiveEdit: editing the active list changes processing at once (rule 8), for every
// resource using it.
func TestLiveEdit(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt")
	romeo := e.login("romeo", "orchard", true)
	tybalt := e.login("tybalt", "pda", true)
	wantResult(t, iq(t, romeo, "l", "set", q+"<list name='x'><item action='allow' order='1'/></list></query>"))
	wantResult(t, iq(t, romeo, "a", "set", q+"<active name='x'/></query>"))
	tybalt.Send("<message to='romeo@localhost/orchard' id='m1'><body>before</body></message>")
	romeo.ReadUntil("before")
	wantResult(t, iq(t, romeo, "edit", "set", q+"<list name='x'><item type='jid' value='tybalt@localhost' action='deny' order='1'/></list></query>"))
	tybalt.Buf.Reset()
	tybalt.Send("<message to='romeo@localhost/orchard' id='m2'><body>after</body></message>")
	tybalt.ReadUntil("<service-unavailable")
	silent(t, romeo, "after")
}

// TestBareMessageSeveralResources: a message to the bare JID refused by every
// resource of top priority gets one error; accepted by one, none.
func TestBareMessageSeveralResources(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt")
	orchard := e.login("romeo", "orchard", true)
	home := e.login("romeo", "home", true)
	tybalt := e.login("tybalt", "pda", true)
	wantResult(t, iq(t, orchard, "l", "set", q+"<list name='x'><item type='jid' value='tybalt@localhost' action='deny' order='1'><message/></item></list></query>"))
	wantResult(t, iq(t, orchard, "d", "set", q+"<default name='x'/></query>"))
	orchard.Next(100 * time.Millisecond)
	home.Next(100 * time.Millisecond)
	tybalt.Send("<message to='romeo@localhost' type='chat' id='b1'><body>both</body></message>")
	got := tybalt.ReadUntil("</message>")
	tybalt.Buf.Reset()
	if strings.Count(got+tybalt.Next(300*time.Millisecond), "type='error'") != 1 {
		t.Fatalf("want exactly one error, got %q", got)
	}
	silent(t, orchard, "both")
	// home declines lists: it takes the message, and the sender hears nothing.
	wantResult(t, iq(t, home, "e", "set", q+"<list name='open'><item action='allow' order='1'/></list></query>"))
	wantResult(t, iq(t, home, "a", "set", q+"<active name='open'/></query>"))
	tybalt.Buf.Reset()
	tybalt.Send("<message to='romeo@localhost' type='chat' id='b2'><body>one</body></message>")
	home.ReadUntil("one")
	if got := tybalt.Next(300 * time.Millisecond); strings.Contains(got, "error") {
		t.Fatalf("a message taken by one resource was bounced: %q", got)
	}
}

// TestEvents: other modules ask the lists with events, and a roster change reaches
// lists that match on the roster.
func TestEvents(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt")
	romeo := e.login("romeo", "orchard", true)
	e.roster("romeo", backends.RosterItem{Contact: "tybalt@localhost", Subscription: backends.SubBoth})
	wantResult(t, iq(t, romeo, "l", "set", q+"<list name='x'>"+
		"<item type='subscription' value='both' action='allow' order='1'/>"+
		"<item action='deny' order='2'><presence-out/><presence-in/></item></list></query>"))
	wantResult(t, iq(t, romeo, "d", "set", q+"<default name='x'/></query>"))
	var pres, probe stanza.Header
	_ = stanza.ParseHeader([]byte("<presence/>"), &pres)
	_ = stanza.ParseHeader([]byte("<presence type='probe'/>"), &probe)
	romeoJID, tybalt, paris := jid.MustParse("romeo@localhost"), jid.MustParse("tybalt@localhost/pda"), jid.MustParse("paris@localhost")
	h := e.spy.host()
	out := func(to jid.JID, hd *stanza.Header) bool {
		return h.Fire(engine.Event{Name: privacy.EventCheckOut, User: romeoJID, Data: &engine.Stanza{Header: hd, To: to}})
	}
	in := func(from jid.JID, hd *stanza.Header) bool {
		return h.Fire(engine.Event{Name: privacy.EventCheckIn, User: romeoJID, Data: &engine.Stanza{Header: hd, From: from}})
	}
	if out(tybalt, &pres) || in(tybalt, &pres) {
		t.Fatal("a contact with subscription both was refused")
	}
	if !out(paris, &pres) || !in(paris, &pres) {
		t.Fatal("a stranger's presence was let through")
	}
	if out(paris, &probe) {
		t.Fatal("a probe counts as presence-out")
	}
	// The roster changes: tybalt is now "to" only; after the event the list sees it.
	e.roster("romeo", backends.RosterItem{Contact: "tybalt@localhost", Subscription: backends.SubTo})
	h.Fire(engine.Event{Name: privacy.EventRosterChanged, User: romeoJID})
	deadline := time.Now().Add(5 * time.Second)
	for !out(tybalt, &pres) {
		if time.Now().After(deadline) {
			t.Fatal("the roster change never reached the list")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPresenceOutChange: a list that starts denying presence-out to a subscriber sends
// it unavailable presence (XEP-0016 section 2.11); when the list stops applying, the
// subscriber gets the current presence again.
func TestPresenceOutChange(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "juliet", "nurse")
	e.roster("romeo", backends.RosterItem{Contact: "juliet@localhost", Subscription: backends.SubFrom})
	e.roster("romeo", backends.RosterItem{Contact: "nurse@localhost", Subscription: backends.SubBoth})
	juliet := e.login("juliet", "balcony", true)
	nurse := e.login("nurse", "x", true)
	romeo := e.login("romeo", "orchard", false)
	romeo.Send("<presence><status>in the orchard</status></presence>")
	romeo.ReadUntil("in the orchard")
	time.Sleep(50 * time.Millisecond)
	juliet.Buf.Reset()
	nurse.Buf.Reset()
	wantResult(t, iq(t, romeo, "l", "set", q+"<list name='hide'><item type='jid' value='juliet@localhost' action='deny' order='1'><presence-out/></item></list></query>"))
	wantResult(t, iq(t, romeo, "a", "set", q+"<active name='hide'/></query>"))
	got := juliet.ReadUntil("/>")
	juliet.Buf.Reset()
	if !strings.Contains(got, "from='romeo@localhost/orchard'") || !strings.Contains(got, "type='unavailable'") {
		t.Fatalf("juliet got %q, want romeo's unavailable presence", got)
	}
	if got := nurse.Next(300 * time.Millisecond); strings.Contains(got, "unavailable") {
		t.Fatalf("a subscriber the list does not concern got %q", got)
	}
	wantResult(t, iq(t, romeo, "d", "set", q+"<active/></query>"))
	got = juliet.ReadUntil("</presence>")
	if !strings.Contains(got, "in the orchard") || !strings.Contains(got, "to='juliet@localhost'") {
		t.Fatalf("juliet got %q, want romeo's presence back", got)
	}
}

// TestUserRemoved: a removed account's lists go, from the store and from memory.
func TestUserRemoved(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt")
	romeo := e.login("romeo", "orchard", true)
	wantResult(t, iq(t, romeo, "l", "set", listPublic))
	wantResult(t, iq(t, romeo, "d", "set", q+"<default name='public'/></query>"))
	romeo.Conn.Close()
	e.spy.host().Fire(engine.Event{Name: engine.EventUserRemoved, User: jid.MustParse("romeo@localhost")})
	set, err := e.ts.Store.(backends.Privacy).PrivacySettings(t.Context(), "localhost", "romeo")
	if err != nil || len(set.Lists) != 0 {
		t.Fatalf("lists of a removed user: %+v, %v", set, err)
	}
	// The default list no longer filters messages offered to offline storage.
	tybalt := e.login("tybalt", "pda", true)
	tybalt.Send("<message to='romeo@localhost' type='chat'><body>for the record</body></message>")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(e.spy.stored(), ""), "for the record") {
		if time.Now().After(deadline) {
			t.Fatalf("the removed user's default list still applies: %q", tybalt.Next(100*time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
