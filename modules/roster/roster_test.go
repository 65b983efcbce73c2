package roster_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/roster/rostertest"
)

// The RFC 6121 section 2 examples, with juliet@example.com as alice@localhost and her
// nurse as nurse@localhost.

func users(ts *enginetest.Server, names ...string) {
	for _, n := range names {
		ts.AddUser(n, "pw")
	}
}

func TestRosterGetEmpty(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice")
	a := rostertest.Login(t, ts, "alice", "balcony")
	// 2.1.4: an empty roster is a query without items, never an error.
	a.Send("<iq type='get' id='bv1bs71f'><query xmlns='jabber:iq:roster'/></iq>")
	a.Expect("<iq type='result' id='bv1bs71f' to='alice@localhost/balcony'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
}

func TestRosterSetPushGet(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "nurse")
	balcony := rostertest.Login(t, ts, "alice", "balcony")
	chamber := rostertest.Login(t, ts, "alice", "chamber")
	idle := rostertest.Login(t, ts, "alice", "idle") // never asks for the roster
	balcony.Roster("g1")
	chamber.Roster("g2")

	// 2.3.1 and 2.3.2: the result to the requester, then a push to every interested
	// resource, including the requester.
	balcony.Send("<iq type='set' id='ph1xaz53'><query xmlns='jabber:iq:roster'>" +
		"<item jid='nurse@localhost' name='Nurse'><group>Servants</group></item></query></iq>")
	balcony.Expect("<iq type='result' id='ph1xaz53' to='alice@localhost/balcony'/>")
	push := "<iq type='set' id='{*}' from='alice@localhost' to='alice@localhost/%s'><query xmlns='jabber:iq:roster' ver='{*}'>" +
		"<item jid='nurse@localhost' name='Nurse' subscription='none'><group>Servants</group></item></query></iq>"
	balcony.Expect(strings.Replace(push, "%s", "balcony", 1))
	chamber.Expect(strings.Replace(push, "%s", "chamber", 1))
	// 2.1.6: a resource that never requested the roster is not interested.
	idle.Nothing("jabber:iq:roster")

	got := chamber.Roster("g3")
	if !strings.Contains(got, "<item jid='nurse@localhost' name='Nurse' subscription='none'><group>Servants</group></item>") {
		t.Fatalf("roster after the set: %q", got)
	}

	// 2.4: an update replaces the item as a whole: a second group, then no name.
	balcony.Send("<iq type='set' id='di43b2x9'><query xmlns='jabber:iq:roster'>" +
		"<item jid='nurse@localhost' name='Nurse'><group>Servants</group><group>Family</group></item></query></iq>")
	balcony.Expect("<iq type='result' id='di43b2x9' to='alice@localhost/balcony'/>")
	chamber.Expect("<item jid='nurse@localhost' name='Nurse' subscription='none'><group>Servants</group><group>Family</group></item>")
	balcony.Send("<iq type='set' id='gb3sv487'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost'/></query></iq>")
	balcony.Expect("<iq type='result' id='gb3sv487' to='alice@localhost/balcony'/>")
	chamber.Expect("<item jid='nurse@localhost' subscription='none'/>")

	// 2.5: removal, pushed with subscription='remove'.
	chamber.Send("<iq type='set' id='hm4hs97y'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost' subscription='remove'/></query></iq>")
	chamber.Expect("<iq type='result' id='hm4hs97y' to='alice@localhost/chamber'/>")
	for _, c := range []*rostertest.Client{balcony, chamber} {
		c.Expect("<item jid='nurse@localhost' subscription='remove'/>")
	}
	if got := balcony.Roster("g4"); strings.Contains(got, "<item") {
		t.Fatalf("roster after the removal: %q", got)
	}
	// 2.5.3: removing what is not there.
	chamber.Send("<iq type='set' id='uj4b1ca8'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost' subscription='remove'/></query></iq>")
	chamber.Expect("<iq type='error' id='uj4b1ca8' to='alice@localhost/chamber'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
}

func TestRosterSetErrors(t *testing.T) {
	ts := rostertest.Start(t, map[string]any{"max_items": 2})
	users(ts, "alice", "bob")
	a := rostertest.Login(t, ts, "alice", "balcony")
	cases := []struct {
		name, query, cond string
	}{
		// 2.3.3, in the RFC's order.
		{"two items", "<item jid='nurse@localhost' name='Nurse'><group>Servants</group></item><item jid='mother@localhost' name='Mom'><group>Family</group></item>", "bad-request"},
		{"oversized handle", "<item jid='nurse@localhost' name='" + strings.Repeat("n", backends.MaxRosterNameLen+1) + "'/>", "not-acceptable"},
		{"duplicate groups", "<item jid='nurse@localhost' name='Nurse'><group>Servants</group><group>Servants</group></item>", "bad-request"},
		{"empty group", "<item jid='nurse@localhost' name='Nurse'><group></group></item>", "not-acceptable"},
		{"oversized group", "<item jid='nurse@localhost'><group>" + strings.Repeat("g", backends.MaxGroupLen+1) + "</group></item>", "not-acceptable"},
		{"own JID", "<item jid='alice@localhost'/>", "not-allowed"},
		{"no item", "", "bad-request"},
		{"no jid", "<item name='x'/>", "bad-request"},
		{"malformed jid", "<item jid='@localhost'/>", "jid-malformed"},
	}
	for i, c := range cases {
		id := "e" + strconv.Itoa(i)
		a.Send("<iq type='set' id='" + id + "'><query xmlns='jabber:iq:roster'>" + c.query + "</query></iq>")
		got := a.Expect("<iq type='error' id='" + id + "' to='alice@localhost/balcony'>{**}</iq>")
		if !strings.Contains(got, "<"+c.cond+" xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") {
			t.Errorf("%s: got %q, want %s", c.name, got, c.cond)
		}
	}
	// The cap of max_items, for new items only.
	for i, c := range []string{"c1@localhost", "c2@localhost"} {
		id := "ok" + strconv.Itoa(i)
		a.Send("<iq type='set' id='" + id + "'><query xmlns='jabber:iq:roster'><item jid='" + c + "'/></query></iq>")
		a.Expect("<iq type='result' id='" + id + "' to='alice@localhost/balcony'/>")
	}
	a.Send("<iq type='set' id='full'><query xmlns='jabber:iq:roster'><item jid='c3@localhost'/></query></iq>")
	a.Expect("<iq type='error' id='full' to='alice@localhost/balcony'>{**}<not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>{**}</iq>")
	a.Send("<iq type='set' id='upd'><query xmlns='jabber:iq:roster'><item jid='c2@localhost' name='still fine'/></query></iq>")
	a.Expect("<iq type='result' id='upd' to='alice@localhost/balcony'/>")
	if got := a.Roster("g"); strings.Contains(got, "c3@localhost") || !strings.Contains(got, "still fine") {
		t.Fatalf("roster: %q", got)
	}
}

// TestRosterOtherUser checks that one user can neither read nor change another's
// roster (2.3.3, "Roster set initiated by unauthorized entity").
func TestRosterOtherUser(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	a := rostertest.Login(t, ts, "alice", "balcony")
	b := rostertest.Login(t, ts, "bob", "home")
	a.Send("<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost' name='Nurse'/></query></iq>")
	a.Expect("<iq type='result' id='s1' to='alice@localhost/balcony'/>")

	b.Send("<iq type='get' id='ix1' to='alice@localhost'><query xmlns='jabber:iq:roster'/></iq>")
	got := b.Expect("<iq type='error' id='ix1' to='bob@localhost/home' from='alice@localhost'>{**}</iq>")
	if !strings.Contains(got, "<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>") || strings.Contains(got, "nurse") {
		t.Fatalf("roster get of another user: %q", got)
	}
	b.Send("<iq type='set' id='ix7s53v2' to='alice@localhost'><query xmlns='jabber:iq:roster'><item jid='mallory@localhost'/></query></iq>")
	got = b.Expect("<iq type='error' id='ix7s53v2' to='bob@localhost/home' from='alice@localhost'>{**}</iq>")
	if !strings.Contains(got, "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") {
		t.Fatalf("roster set of another user: %q", got)
	}
	if r := a.Roster("g"); strings.Contains(r, "mallory") || !strings.Contains(r, "nurse@localhost") {
		t.Fatalf("alice's roster after bob's attempts: %q", r)
	}
	if r := b.Roster("g"); strings.Contains(r, "nurse") {
		t.Fatalf("bob sees alice's items: %q", r)
	}
}

// TestRosterVersioning follows RFC 6121 2.6 and XEP-0237.
func TestRosterVersioning(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice")
	a := rostertest.Login(t, ts, "alice", "balcony")

	a.Send("<iq type='get' id='v1'><query xmlns='jabber:iq:roster' ver=''/></iq>")
	a.Expect("<iq type='result' id='v1' to='alice@localhost/balcony'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
	a.Send("<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost'/></query></iq>")
	a.Expect("<iq type='result' id='s1' to='alice@localhost/balcony'/>")
	push := a.Expect("<query xmlns='jabber:iq:roster' ver='{*}'>")
	ver := strings.TrimSuffix(strings.TrimPrefix(push, "<query xmlns='jabber:iq:roster' ver='"), "'>")
	if ver == "" || ver == "0" {
		t.Fatalf("push version %q", ver)
	}
	// Current: an empty result.
	a.Send("<iq type='get' id='v2'><query xmlns='jabber:iq:roster' ver='" + ver + "'/></iq>")
	a.Expect("<iq type='result' id='v2' to='alice@localhost/balcony'/>")
	// Outdated: the whole roster at the latest version.
	a.Send("<iq type='get' id='v3'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
	a.Expect("<iq type='result' id='v3' to='alice@localhost/balcony'><query xmlns='jabber:iq:roster' ver='" + ver +
		"'><item jid='nurse@localhost' subscription='none'/></query></iq>")

	// Without versioning: no feature, no ver attribute, the cached version ignored.
	ts2 := rostertest.Start(t, map[string]any{"versioning": false, "pre_approval": false})
	users(ts2, "alice")
	b := rostertest.Login(t, ts2, "alice", "balcony")
	b.Send("<iq type='get' id='v1'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
	b.Expect("<iq type='result' id='v1' to='alice@localhost/balcony'><query xmlns='jabber:iq:roster'/></iq>")
}

// TestStreamFeatures checks the features advertised after authentication.
func TestStreamFeatures(t *testing.T) {
	for _, tc := range []struct {
		opts      map[string]any
		ver, preA bool
	}{
		{nil, true, true},
		{map[string]any{"versioning": false}, false, true},
		{map[string]any{"pre_approval": false}, true, false},
	} {
		ts := rostertest.Start(t, tc.opts)
		users(ts, "alice")
		feats := postAuthFeatures(t, ts, "alice")
		if got := strings.Contains(feats, "<ver xmlns='urn:xmpp:features:rosterver'/>"); got != tc.ver {
			t.Errorf("%v: rosterver advertised %v in %q", tc.opts, got, feats)
		}
		if got := strings.Contains(feats, "<sub xmlns='urn:xmpp:features:pre-approval'/>"); got != tc.preA {
			t.Errorf("%v: pre-approval advertised %v in %q", tc.opts, got, feats)
		}
	}
}

// postAuthFeatures authenticates user and returns the stream features that follow.
func postAuthFeatures(t *testing.T, ts *enginetest.Server, user string) string {
	t.Helper()
	rc := enginetest.DialRaw(t, ts.Plain)
	rc.Send(enginetest.StreamOpen)
	rc.ReadUntil("</stream:features>")
	cred := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00pw"))
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + cred + "</auth>")
	rc.ReadUntil("<success")
	rc.Buf.Reset()
	rc.Send(enginetest.StreamOpen)
	return rc.ReadUntil("</stream:features>")
}
