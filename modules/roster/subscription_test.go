package roster_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/roster/rostertest"
	"github.com/hermod-im/hermod/stanza/jid"
)

// The RFC 6121 section 3 examples, with romeo@example.net as alice@localhost and
// juliet@example.com as bob@localhost: both on this server, so each test checks both
// sides of every exchange.

// online logs user in, fetches the roster (an interested resource) and sends initial
// presence, then forgets what arrived so far.
func online(t *testing.T, ts *enginetest.Server, user, resource string) *rostertest.Client {
	t.Helper()
	c := rostertest.Login(t, ts, user, resource)
	c.Roster("login")
	c.Send("<presence/>")
	c.Drain()
	return c
}

const (
	itemAsk  = "<item jid='bob@localhost' subscription='none' ask='subscribe'/>"
	itemNone = "<item jid='bob@localhost' subscription='none'/>"
)

func TestSubscribeAndApprove(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	b := online(t, ts, "bob", "balcony")
	b.Send("<presence><status>at the balcony</status></presence>")
	a.Drain()

	// 3.1.1 and 3.1.2: the request, stamped with the bare JID, after a push of the
	// pending-out item to the requester.
	a.Send("<presence id='xk3h1v69' to='bob@localhost' type='subscribe'/>")
	a.Expect("<iq type='set' id='{*}' from='alice@localhost' to='alice@localhost/home'><query xmlns='jabber:iq:roster' ver='{*}'>" + itemAsk + "</query></iq>")
	// 3.1.3: delivered to the contact's available resources.
	b.Expect("<presence from='alice@localhost' id='xk3h1v69' to='bob@localhost' type='subscribe'/>")
	b.Nothing("jabber:iq:roster") // the request does not add alice to bob's roster

	// 3.1.5: bob approves: his push shows 'from', and alice gets his presence.
	b.Send("<presence id='h4v1c4kj' to='alice@localhost' type='subscribed'/>")
	b.Expect("<item jid='alice@localhost' subscription='from'/>")
	// 3.1.6: alice's push ('to', no ask), the approval, then bob's current presence.
	a.Expect("<item jid='bob@localhost' subscription='to'/>")
	a.Expect("<presence from='bob@localhost' id='h4v1c4kj' to='alice@localhost' type='subscribed'/>")
	a.Expect("<presence to='alice@localhost' from='bob@localhost/balcony'><status>at the balcony</status></presence>")

	if r := a.Roster("r"); !strings.Contains(r, "<item jid='bob@localhost' subscription='to'/>") {
		t.Fatalf("alice's roster: %q", r)
	}
	if r := b.Roster("r"); !strings.Contains(r, "<item jid='alice@localhost' subscription='from'/>") {
		t.Fatalf("bob's roster: %q", r)
	}
	// Presence now flows one way: bob to alice.
	b.Send("<presence><show>away</show></presence>")
	a.Expect("<presence from='bob@localhost/balcony' to='alice@localhost'><show>away</show></presence>")
	a.Send("<presence><show>dnd</show></presence>")
	b.Nothing("<show>dnd</show>")

	// A request repeated while subscribed is answered by the server (Table 6 note
	// [2]) and changes nothing, so bob sees nothing and alice's state stays.
	a.Send("<presence to='bob@localhost' type='subscribe'/>")
	b.Nothing("type='subscribe'")
	a.Nothing("jabber:iq:roster")

	// The mirror request makes it mutual.
	b.Send("<presence to='alice@localhost' type='subscribe'/>")
	a.Expect("<presence from='bob@localhost' to='alice@localhost' type='subscribe'/>")
	a.Send("<presence to='bob@localhost' type='subscribed'/>")
	b.Expect("<item jid='alice@localhost' subscription='both'/>")
	a.Expect("<item jid='bob@localhost' subscription='both'/>")
}

func TestSubscriptionDenied(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	b := online(t, ts, "bob", "balcony")
	a.Send("<presence to='bob@localhost' type='subscribe'/>")
	a.Expect(itemAsk)
	b.Expect("<presence from='alice@localhost' to='bob@localhost' type='subscribe'/>")
	// 3.2.1, denying the request: alice's request ends, she is told.
	b.Send("<presence to='alice@localhost' type='unsubscribed'/>")
	a.Expect(itemNone)
	a.Expect("<presence from='bob@localhost' to='alice@localhost' type='unsubscribed'/>")
	b.Nothing("jabber:iq:roster") // alice was never in bob's roster
	// The request is not delivered again.
	b2 := rostertest.Login(t, ts, "bob", "second")
	b2.Send("<presence/>")
	b2.Nothing("type='subscribe'")
}

func TestSubscriptionCancelledAndUnsubscribed(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	mutual(t, ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	b := online(t, ts, "bob", "balcony")
	a.Drain()

	// 3.2: bob cancels alice's subscription to his presence.
	b.Send("<presence id='ij5b1v7g' to='alice@localhost' type='unsubscribed'/>")
	b.Expect("<item jid='alice@localhost' subscription='to'/>")
	a.Expect("<item jid='bob@localhost' subscription='from'/>")
	a.Expect("<presence from='bob@localhost' id='ij5b1v7g' to='alice@localhost' type='unsubscribed'/>")
	// 3.2.2: and bob's unavailable presence.
	a.Expect("<presence from='bob@localhost/balcony' to='alice@localhost' type='unavailable'/>")

	// 3.3: alice unsubscribes from... nothing left that way; bob unsubscribes from
	// alice's presence instead.
	b.Send("<presence id='ul4bs71n' to='alice@localhost' type='unsubscribe'/>")
	b.Expect("<item jid='alice@localhost' subscription='none'/>")
	a.Expect("<item jid='bob@localhost' subscription='none'/>")
	a.Expect("<presence from='bob@localhost' id='ul4bs71n' to='alice@localhost' type='unsubscribe'/>")
	// 3.3.3: the former subscriber gets alice's unavailable presence.
	b.Expect("<presence from='alice@localhost/home' to='bob@localhost' type='unavailable'/>")
	// Nothing flows any more.
	a.Send("<presence><status>x</status></presence>")
	b.Send("<presence><status>y</status></presence>")
	a.Nothing("<status>y</status>")
	b.Nothing("<status>x</status>")
}

// TestPendingRequestOffline: a request for an offline contact is stored, delivered after
// the contact's initial presence and again at each login until answered, and survives
// a restart of the server.
func TestPendingRequestOffline(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := rostertest.Start(t, nil, enginetest.WithStore(st))
	users(ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	a.Send("<presence to='bob@localhost' type='subscribe'><status>it is alice</status></presence>")
	a.Expect(itemAsk)

	b := rostertest.Login(t, ts, "bob", "balcony")
	b.Roster("r")
	b.Nothing("type='subscribe'") // not before initial presence
	b.Send("<presence/>")
	b.Expect("<presence from='alice@localhost' to='bob@localhost' type='subscribe'><status>it is alice</status></presence>")

	ts.Stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts = rostertest.Start(t, nil, enginetest.WithStore(st))
	b = rostertest.Login(t, ts, "bob", "again")
	b.Send("<presence/>")
	b.Expect("<presence from='alice@localhost' to='bob@localhost' type='subscribe'><status>it is alice</status></presence>")
	a = online(t, ts, "alice", "home")
	b.Roster("r")
	b.Send("<presence to='alice@localhost' type='subscribed'/>")
	a.Expect("<item jid='bob@localhost' subscription='to'/>")
	a.Expect("<presence from='bob@localhost' to='alice@localhost' type='subscribed'/>")
	b3 := rostertest.Login(t, ts, "bob", "third")
	b3.Send("<presence/>")
	b3.Nothing("type='subscribe'")
}

// TestPreApprovalFlow follows RFC 6121 3.4.
func TestPreApprovalFlow(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	b := online(t, ts, "bob", "balcony")
	// 3.4.1: bob approves before alice asks; not routed, pushed with approved='true'.
	b.Send("<presence to='alice@localhost' type='subscribed'/>")
	b.Expect("<item jid='alice@localhost' subscription='none' approved='true'/>")
	a.Nothing("type='subscribed'")
	// 3.4.2: alice's request is granted without bothering bob.
	a.Send("<presence to='bob@localhost' type='subscribe'/>")
	a.Expect(itemAsk)
	a.Expect("<item jid='bob@localhost' subscription='to'/>")
	a.Expect("<presence from='bob@localhost' to='alice@localhost' type='subscribed'/>")
	b.Expect("<item jid='alice@localhost' subscription='from'/>")
	b.Nothing("type='subscribe'")

	// A cancelled pre-approval (unsubscribed before any request) is forgotten.
	users(ts, "carol")
	c := online(t, ts, "carol", "x")
	b.Send("<presence to='carol@localhost' type='subscribed'/>")
	b.Expect("<item jid='carol@localhost' subscription='none' approved='true'/>")
	b.Send("<presence to='carol@localhost' type='unsubscribed'/>")
	b.Expect("<item jid='carol@localhost' subscription='none'/>")
	c.Nothing("")
	c.Send("<presence to='bob@localhost' type='subscribe'/>")
	b.Expect("<presence from='carol@localhost' to='bob@localhost' type='subscribe'/>")

	// Without pre-approval support the unsolicited approval is ignored.
	ts2 := rostertest.Start(t, map[string]any{"pre_approval": false})
	users(ts2, "alice", "bob")
	b2 := online(t, ts2, "bob", "balcony")
	b2.Send("<presence to='alice@localhost' type='subscribed'/>")
	b2.Nothing("jabber:iq:roster")
}

func TestSubscribeUnknownAccount(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice")
	a := online(t, ts, "alice", "home")
	// 3.1.3: the server answers for an account that does not exist.
	a.Send("<presence to='nobody@localhost' type='subscribe'/>")
	a.Expect("<item jid='nobody@localhost' subscription='none' ask='subscribe'/>")
	a.Expect("<item jid='nobody@localhost' subscription='none'/>")
	a.Expect("<presence from='nobody@localhost' to='alice@localhost' type='unsubscribed'/>")
}

// TestRosterRemoveCancels follows RFC 6121 2.5.2: removing a contact with a mutual
// subscription cancels both directions at the contact.
func TestRosterRemoveCancels(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	mutual(t, ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	b := online(t, ts, "bob", "balcony")
	a.Drain()
	a.Send("<iq type='set' id='rm1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>")
	a.Expect("<iq type='result' id='rm1' to='alice@localhost/home'/>")
	a.Expect("<item jid='bob@localhost' subscription='remove'/>")
	b.ExpectAll(
		"<presence from='alice@localhost' to='bob@localhost' type='unsubscribe'/>",
		"<presence from='alice@localhost' to='bob@localhost' type='unsubscribed'/>",
		"<presence from='alice@localhost/home' to='bob@localhost' type='unavailable'/>",
		"<item jid='alice@localhost' subscription='none'/>",
	)
	if r := b.Roster("r"); !strings.Contains(r, "<item jid='alice@localhost' subscription='none'/>") {
		t.Fatalf("bob's roster: %q", r)
	}
}

// TestSubscriptionOrder sends a burst of subscription stanzas; they take effect in the
// order sent.
func TestSubscriptionOrder(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	a := online(t, ts, "alice", "home")
	var burst strings.Builder
	for range 20 {
		burst.WriteString("<presence to='bob@localhost' type='subscribe'/><presence to='bob@localhost' type='unsubscribe'/>")
	}
	burst.WriteString("<presence to='bob@localhost' type='subscribe'/>")
	a.Send(burst.String())
	for range 20 {
		a.Expect(itemAsk)
		a.Expect(itemNone)
	}
	a.Expect(itemAsk)
	ctx := context.Background()
	it, err := ts.Store.(backends.Rosters).RosterItem(ctx, "localhost", "alice", "bob@localhost")
	if err != nil || !it.Ask {
		t.Fatalf("stored item after the burst: %+v, %v", it, err)
	}
	if _, err := ts.Store.(backends.Rosters).PendingIn(ctx, "localhost", "bob", "alice@localhost"); err != nil {
		t.Fatalf("bob's pending request after the burst: %v", err)
	}
}

// mutual stores a mutual subscription between two users, as if they had made it.
func mutual(t *testing.T, ts *enginetest.Server, x, y string) {
	t.Helper()
	r := ts.Store.(backends.Rosters)
	for _, p := range [][2]string{{x, y}, {y, x}} {
		if _, err := r.PutRosterItem(context.Background(), "localhost", p[0], backends.RosterItem{Contact: p[1] + "@localhost", Subscription: backends.SubBoth}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUserRemoved: deleting an account cancels its subscriptions at its local contacts
// and drops its roster and pending requests.
func TestUserRemoved(t *testing.T) {
	var srv *engine.Server
	ts := rostertest.Start(t, nil, enginetest.WithServer(&srv))
	users(ts, "alice", "bob", "carol")
	mutual(t, ts, "alice", "bob")
	b := online(t, ts, "bob", "balcony")
	c := online(t, ts, "carol", "x")
	c.Send("<presence to='alice@localhost' type='subscribe'/>")
	c.Expect("<item jid='alice@localhost' subscription='none' ask='subscribe'/>")

	ctx := context.Background()
	r := ts.Store.(backends.Rosters)
	if _, err := r.PendingIn(ctx, "localhost", "alice", "carol@localhost"); err != nil {
		t.Fatalf("carol's request was not stored: %v", err)
	}
	if err := ts.Store.DeleteAccount(ctx, "localhost", "alice"); err != nil {
		t.Fatal(err)
	}
	srv.RemoveUser(jid.MustParse("alice@localhost"))
	b.Expect("<item jid='alice@localhost' subscription='none'/>")
	c.Expect("<item jid='alice@localhost' subscription='none'/>")
	c.Expect("<presence from='alice@localhost' to='carol@localhost' type='unsubscribed'/>")
	if items, v, err := r.Roster(ctx, "localhost", "alice"); err != nil || len(items) != 0 || v != 0 {
		t.Fatalf("alice's roster after removal: %v at %d, %v", items, v, err)
	}
	if ps, err := r.PendingIns(ctx, "localhost", "alice"); err != nil || len(ps) != 0 {
		t.Fatalf("alice's requests after removal: %v, %v", ps, err)
	}
}
