package presence_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/presence"
	"github.com/hermod-im/hermod/modules/privacy"
	"github.com/hermod-im/hermod/modules/roster"
	"github.com/hermod-im/hermod/modules/roster/rostertest"
)

// The RFC 6121 section 4 exchanges between accounts of one server. Rosters are written
// to storage before the logins: each test states the subscriptions it needs.

type sub struct {
	owner, contact string
	state          backends.Subscription
}

func setup(t *testing.T, subs ...sub) *enginetest.Server {
	t.Helper()
	ts := rostertest.Start(t, nil)
	seen := map[string]bool{}
	r := ts.Store.(backends.Rosters)
	for _, s := range subs {
		for _, u := range []string{s.owner, s.contact} {
			if !seen[u] {
				seen[u] = true
				ts.AddUser(u, "pw")
			}
		}
		if _, err := r.PutRosterItem(context.Background(), "localhost", s.owner,
			backends.RosterItem{Contact: s.contact + "@localhost", Subscription: s.state}); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

// consistent returns both sides of a subscription from owner's view.
func consistent(owner, contact string, state backends.Subscription) []sub {
	mirror := map[backends.Subscription]backends.Subscription{
		backends.SubNone: backends.SubNone, backends.SubTo: backends.SubFrom,
		backends.SubFrom: backends.SubTo, backends.SubBoth: backends.SubBoth,
	}
	return []sub{{owner, contact, state}, {contact, owner, mirror[state]}}
}

func login(t *testing.T, ts *enginetest.Server, user, resource string) *rostertest.Client {
	return rostertest.Login(t, ts, user, resource)
}

// available sends presence (children may be empty) and waits for the server's copy to
// the session itself, after which the server has processed it.
func available(c *rostertest.Client, children string) {
	if children == "" {
		c.Send("<presence/>")
		c.Expect("<presence from='" + c.JID + "'/>")
		return
	}
	c.Send("<presence>" + children + "</presence>")
	c.Expect("<presence from='" + c.JID + "'>" + children + "</presence>")
}

// TestInitialPresence: initial presence goes to subscribers ("from" and "both") and
// probes contacts ("to" and "both"), whose available resources answer (4.2, 4.3).
func TestInitialPresence(t *testing.T) {
	var subs []sub
	subs = append(subs, consistent("alice", "bob", backends.SubBoth)...)
	subs = append(subs, consistent("alice", "carol", backends.SubFrom)...)
	subs = append(subs, consistent("alice", "dave", backends.SubTo)...)
	subs = append(subs, consistent("alice", "eve", backends.SubNone)...)
	ts := setup(t, subs...)
	others := map[string]*rostertest.Client{}
	for _, u := range []string{"bob", "carol", "dave", "eve"} {
		c := login(t, ts, u, "r")
		available(c, "<status>"+u+" here</status>")
		others[u] = c
	}
	for _, c := range others {
		c.Drain()
	}
	a := login(t, ts, "alice", "balcony")
	a.Send("<presence><show>chat</show></presence>")
	// 4.2.2: to subscribers only, addressed to their bare JIDs.
	for _, u := range []string{"bob", "carol"} {
		others[u].Expect("<presence from='alice@localhost/balcony' to='" + u + "@localhost'><show>chat</show></presence>")
	}
	others["dave"].Nothing("alice@localhost")
	others["eve"].Nothing("alice@localhost")
	// 4.3: the probe answered with the current presence of bob and dave.
	a.ExpectAll(
		"<presence to='alice@localhost/balcony' from='bob@localhost/r'><status>bob here</status></presence>",
		"<presence to='alice@localhost/balcony' from='dave@localhost/r'><status>dave here</status></presence>",
	)
	a.Nothing("carol here")
	a.Nothing("eve here")

	// 4.4: later presence goes to subscribers, without a new probe.
	a.Send("<presence><show>away</show></presence>")
	others["bob"].Expect("<presence from='alice@localhost/balcony' to='bob@localhost'><show>away</show></presence>")
	others["carol"].Expect("<show>away</show>")
	a.Nothing("bob here")
	// Contacts' changes reach alice as their subscriber.
	others["dave"].Send("<presence><show>xa</show></presence>")
	a.Expect("<presence from='dave@localhost/r' to='alice@localhost'><show>xa</show></presence>")
	others["carol"].Send("<presence><show>xa</show></presence>")
	a.Nothing("carol@localhost")
}

// TestProbeNeedsTheContactsConsent: a probe is answered from the contact's roster, not
// the user's (4.3.2): a one-sided "to" in the user's roster reveals nothing.
func TestProbeNeedsTheContactsConsent(t *testing.T) {
	ts := setup(t, sub{"alice", "mallory", backends.SubTo}, sub{"mallory", "alice", backends.SubNone})
	m := login(t, ts, "mallory", "r")
	available(m, "<status>secret</status>")
	a := login(t, ts, "alice", "balcony")
	a.Send("<presence/>")
	a.Nothing("secret")
	// A probe a client sends is answered the same way.
	a.Send("<presence to='mallory@localhost' type='probe'/>")
	a.Nothing("secret")
	m.Nothing("type='probe'")
}

// TestUnavailable: logout, abrupt disconnect, and the last resource of several (4.5).
func TestUnavailable(t *testing.T) {
	ts := setup(t, consistent("alice", "bob", backends.SubBoth)...)
	b := login(t, ts, "bob", "r")
	available(b, "")
	a := login(t, ts, "alice", "balcony")
	a.Send("<presence/>")
	b.Expect("<presence from='alice@localhost/balcony' to='bob@localhost'/>")

	// 4.5.1: unavailable presence sent before logging out.
	a.Send("<presence type='unavailable'><status>gone</status></presence>")
	b.Expect("<presence from='alice@localhost/balcony' to='bob@localhost' type='unavailable'><status>gone</status></presence>")
	a.Raw.Conn.Close()
	b.Nothing("alice@localhost/balcony") // said once, not again on close

	// 4.5.2: an abrupt disconnect of an available session.
	a2 := login(t, ts, "alice", "phone")
	a2.Send("<presence/>")
	b.Expect("<presence from='alice@localhost/phone' to='bob@localhost'/>")
	a2.Raw.Conn.Close()
	b.Expect("<presence from='alice@localhost/phone' to='bob@localhost' type='unavailable'/>")

	// A stream closed without unavailable presence.
	a3 := login(t, ts, "alice", "laptop")
	a3.Send("<presence/>")
	b.Expect("<presence from='alice@localhost/laptop' to='bob@localhost'/>")
	a3.Send("</stream:stream>")
	b.Expect("<presence from='alice@localhost/laptop' to='bob@localhost' type='unavailable'/>")

	// A session that never became available says nothing when it goes.
	a4 := login(t, ts, "alice", "silent")
	a4.Raw.Conn.Close()
	b.Nothing("alice@localhost/silent")
}

// TestMultipleResources: every available resource is probed and broadcast (4.2, 4.3).
func TestMultipleResources(t *testing.T) {
	ts := setup(t, consistent("alice", "bob", backends.SubBoth)...)
	b1 := login(t, ts, "bob", "one")
	available(b1, "<priority>5</priority>")
	b2 := login(t, ts, "bob", "two")
	available(b2, "<priority>-1</priority>")
	b3 := login(t, ts, "bob", "three") // never available
	b1.Drain()
	b2.Drain()
	a := login(t, ts, "alice", "balcony")
	a.Send("<presence/>")
	a.ExpectAll(
		"<presence to='alice@localhost/balcony' from='bob@localhost/one'><priority>5</priority></presence>",
		"<presence to='alice@localhost/balcony' from='bob@localhost/two'><priority>-1</priority></presence>",
	)
	a.Nothing("bob@localhost/three")
	// Broadcast goes to the contact's available resources only (RFC 6121 8.5.2.1.1).
	b1.Expect("<presence from='alice@localhost/balcony' to='bob@localhost'/>")
	b2.Expect("<presence from='alice@localhost/balcony' to='bob@localhost'/>")
	b3.Nothing("alice@localhost/balcony")
}

// TestDirectedPresence follows RFC 6121 4.6.
func TestDirectedPresence(t *testing.T) {
	ts := setup(t, append(consistent("alice", "bob", backends.SubBoth), sub{"carol", "dave", backends.SubNone})...)
	b := login(t, ts, "bob", "r")
	available(b, "")
	c := login(t, ts, "carol", "r")
	available(c, "")
	d := login(t, ts, "dave", "r")
	available(d, "")
	a := login(t, ts, "alice", "balcony")
	available(a, "")
	b.Drain()
	// Directed presence to someone without a subscription is delivered as is.
	a.Send("<presence to='carol@localhost'><status>hi carol</status></presence>")
	c.Expect("<presence from='alice@localhost/balcony' to='carol@localhost'><status>hi carol</status></presence>")
	a.Send("<presence to='dave@localhost/r'><status>hi dave</status></presence>")
	d.Expect("<status>hi dave</status>")
	// Later broadcasts do not reach them (they are not subscribers).
	a.Send("<presence><show>away</show></presence>")
	b.Expect("<show>away</show>")
	c.Nothing("<show>away</show>")
	// Directed unavailable ends the tracking of dave.
	a.Send("<presence to='dave@localhost/r' type='unavailable'/>")
	d.Expect("type='unavailable'")
	// Disconnecting tells the subscriber and carol, not dave again.
	a.Raw.Conn.Close()
	b.Expect("<presence from='alice@localhost/balcony' to='bob@localhost' type='unavailable'/>")
	c.Expect("<presence from='alice@localhost/balcony' to='carol@localhost' type='unavailable'/>")
	d.Nothing("alice@localhost")

	// The same after a broadcast unavailable instead of a disconnect.
	a2 := login(t, ts, "alice", "second")
	a2.Send("<presence/>")
	a2.Send("<presence to='carol@localhost'/>")
	c.Expect("<presence from='alice@localhost/second' to='carol@localhost'/>")
	a2.Send("<presence type='unavailable'/>")
	c.Expect("<presence from='alice@localhost/second' to='carol@localhost' type='unavailable'/>")
	b.Expect("<presence from='alice@localhost/second' to='bob@localhost' type='unavailable'/>")
}

// TestSubscriptionChangesPresence: once a subscription is granted or cancelled, the
// broadcast follows the roster without a new login.
func TestSubscriptionChangesPresence(t *testing.T) {
	ts := setup(t, sub{"alice", "x", backends.SubNone}, sub{"bob", "x", backends.SubNone})
	a := login(t, ts, "alice", "balcony")
	a.Roster("r")
	available(a, "<status>a1</status>")
	b := login(t, ts, "bob", "r")
	b.Roster("r")
	available(b, "<status>b1</status>")
	b.Drain()
	b.Send("<presence to='alice@localhost' type='subscribe'/>")
	a.Expect("type='subscribe'")
	a.Send("<presence to='bob@localhost' type='subscribed'/>")
	b.Expect("<presence to='bob@localhost' from='alice@localhost/balcony'><status>a1</status></presence>")
	a.Send("<presence><status>a2</status></presence>")
	b.Expect("<presence from='alice@localhost/balcony' to='bob@localhost'><status>a2</status></presence>")
	a.Send("<presence to='bob@localhost' type='unsubscribed'/>")
	b.Expect("<presence from='alice@localhost/balcony' to='bob@localhost' type='unavailable'/>")
	a.Send("<presence><status>a3</status></presence>")
	b.Nothing("a3")
}

// TestBlockedContact: with mod_privacy, a contact the user blocked (XEP-0191) neither
// receives the user's broadcast presence nor has its presence probed for the user, in
// both directions, although the roster says "both".
func TestBlockedContact(t *testing.T) {
	ts := rostertest.Start(t, nil, enginetest.WithModule(privacy.Name, privacy.New, nil))
	r := ts.Store.(backends.Rosters)
	for _, u := range []string{"alice", "bob", "carol"} {
		ts.AddUser(u, "pw")
	}
	for _, p := range [][2]string{{"alice", "bob"}, {"bob", "alice"}, {"alice", "carol"}, {"carol", "alice"}} {
		if _, err := r.PutRosterItem(context.Background(), "localhost", p[0], backends.RosterItem{Contact: p[1] + "@localhost", Subscription: backends.SubBoth}); err != nil {
			t.Fatal(err)
		}
	}
	b := login(t, ts, "bob", "r")
	b.Send("<iq type='set' id='blk'><block xmlns='urn:xmpp:blocking'><item jid='alice@localhost'/></block></iq>")
	b.Expect("<iq type='result' id='blk'{**}/>")
	available(b, "<status>bob here</status>")
	c := login(t, ts, "carol", "r")
	available(c, "<status>carol here</status>")

	a := login(t, ts, "alice", "balcony")
	a.Send("<presence><status>alice here</status></presence>")
	c.Expect("<status>alice here</status>")
	a.Expect("<status>carol here</status>")
	b.Nothing("alice here")
	a.Nothing("bob here")
	a.Send("<presence><status>again</status></presence>")
	c.Expect("<status>again</status>")
	b.Nothing("again")
	a.Raw.Conn.Close()
	c.Expect("<presence from='alice@localhost/balcony' to='carol@localhost' type='unavailable'/>")
	b.Nothing("alice@localhost/balcony")
}

// TestReplacedSession: a bind that replaces a session of the same full JID (conflict
// policy "replace") makes the old one unavailable to subscribers, and the account's
// state goes with its last session.
func TestReplacedSession(t *testing.T) {
	var svc atomic.Pointer[roster.Service] // set on the server's goroutine
	ts := enginetest.Start(t,
		enginetest.WithModule(roster.Name, func(mc engine.ModuleConfig) (engine.Module, error) {
			m, err := roster.New(mc)
			if err != nil {
				return nil, err
			}
			return &capture{m.(*roster.Module), &svc}, nil
		}, nil),
		enginetest.WithModule(presence.Name, presence.New, nil))
	r := ts.Store.(backends.Rosters)
	for _, u := range []string{"alice", "bob"} {
		ts.AddUser(u, "pw")
	}
	for _, p := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
		if _, err := r.PutRosterItem(context.Background(), "localhost", p[0], backends.RosterItem{Contact: p[1] + "@localhost", Subscription: backends.SubBoth}); err != nil {
			t.Fatal(err)
		}
	}
	b := login(t, ts, "bob", "r")
	available(b, "")
	a1 := login(t, ts, "alice", "same")
	available(a1, "")
	b.Expect("<presence from='alice@localhost/same' to='bob@localhost'/>")
	a2 := login(t, ts, "alice", "same")
	b.Expect("<presence from='alice@localhost/same' to='bob@localhost' type='unavailable'/>")
	a1.Raw.ReadAll() // the conflict stream error and the close
	available(a2, "")
	b.Expect("<presence from='alice@localhost/same' to='bob@localhost'/>")
	a2.Raw.Conn.Close()
	b.Expect("<presence from='alice@localhost/same' to='bob@localhost' type='unavailable'/>")
	deadline := time.Now().Add(5 * time.Second)
	for svc.Load().Snapshot("alice@localhost") != nil {
		if time.Now().After(deadline) {
			t.Fatal("alice's roster state outlived her sessions")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// capture is mod_roster publishing its service once started.
type capture struct {
	*roster.Module
	out *atomic.Pointer[roster.Service]
}

func (c *capture) Start(h *engine.Host) error {
	if err := c.Module.Start(h); err != nil {
		return err
	}
	c.out.Store(c.Module.Service())
	return nil
}
