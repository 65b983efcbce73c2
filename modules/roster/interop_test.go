package roster_test

import (
	"context"
	"encoding/xml"
	"net"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	mroster "mellium.im/xmpp/roster"
	"mellium.im/xmpp/stanza"

	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/roster/rostertest"
)

// melliumClient is a mellium.im/xmpp session (STARTTLS, SCRAM-SHA-256) that reports
// roster pushes and subscription requests on channels.
type melliumClient struct {
	s        *xmpp.Session
	pushes   chan mroster.Item
	requests chan jid.JID
}

func melliumLogin(t *testing.T, ts *enginetest.Server, user string) *melliumClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.DialTimeout("tcp", ts.C2S, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(user+"@localhost"), conn,
		xmpp.StartTLS(enginetest.ClientTLS()), xmpp.SASL("", "pw", msasl.ScramSha256), xmpp.BindResource())
	if err != nil {
		conn.Close()
		t.Fatalf("mellium login: %v", err)
	}
	c := &melliumClient{s: s, pushes: make(chan mroster.Item, 16), requests: make(chan jid.JID, 16)}
	m := mux.New(stanza.NSClient,
		mroster.Handle(mroster.Handler{Push: func(_ string, item mroster.Item) error {
			c.pushes <- item
			return nil
		}}),
		mux.PresenceFunc(stanza.SubscribePresence, xml.Name{}, func(p stanza.Presence, _ xmlstream.TokenReadEncoder) error {
			c.requests <- p.From
			return nil
		}),
	)
	go func() { _ = s.Serve(m) }()
	t.Cleanup(func() { s.Close(); conn.Close() })
	if err := s.Send(ctx, stanza.Presence{}.Wrap(nil)); err != nil {
		t.Fatalf("initial presence: %v", err)
	}
	return c
}

func (c *melliumClient) presence(t *testing.T, to jid.JID, typ stanza.PresenceType) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.s.Send(ctx, stanza.Presence{To: to, Type: typ}.Wrap(nil)); err != nil {
		t.Fatalf("send presence: %v", err)
	}
}

func fetch(t *testing.T, c *melliumClient) map[string]mroster.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := mroster.Fetch(ctx, c.s)
	defer iter.Close()
	out := map[string]mroster.Item{}
	for iter.Next() {
		out[iter.Item().JID.String()] = iter.Item()
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("roster fetch: %v", err)
	}
	return out
}

func waitPush(t *testing.T, c *melliumClient, want func(mroster.Item) bool) mroster.Item {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case it := <-c.pushes:
			if want(it) {
				return it
			}
		case <-timeout:
			t.Fatal("no matching roster push within 5 s")
		}
	}
}

// TestMellium manages a roster and a subscription with an independent client library.
func TestMellium(t *testing.T) {
	ts := rostertest.Start(t, nil)
	users(ts, "alice", "bob")
	alice, bob := melliumLogin(t, ts, "alice"), melliumLogin(t, ts, "bob")
	fetch(t, alice) // both become interested resources
	fetch(t, bob)
	aliceJID, bobJID := jid.MustParse("alice@localhost"), jid.MustParse("bob@localhost")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := mroster.Set(ctx, alice.s, mroster.Item{JID: bobJID, Name: "Bob", Group: []string{"Friends", "Verona"}}); err != nil {
		t.Fatalf("roster set: %v", err)
	}
	push := waitPush(t, alice, func(it mroster.Item) bool { return it.JID.Equal(bobJID) })
	if push.Name != "Bob" || len(push.Group) != 2 || push.Subscription != "none" {
		t.Errorf("push %+v", push)
	}
	if it := fetch(t, alice)["bob@localhost"]; it.Name != "Bob" || len(it.Group) != 2 || it.Group[1] != "Verona" {
		t.Errorf("fetched item %+v", it)
	}

	alice.presence(t, bobJID, stanza.SubscribePresence)
	select {
	case from := <-bob.requests:
		if !from.Equal(aliceJID) {
			t.Fatalf("subscription request from %v", from)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob got no subscription request")
	}
	bob.presence(t, aliceJID, stanza.SubscribedPresence)
	waitPush(t, alice, func(it mroster.Item) bool { return it.JID.Equal(bobJID) && it.Subscription == "to" })
	waitPush(t, bob, func(it mroster.Item) bool { return it.JID.Equal(aliceJID) && it.Subscription == "from" })
	if it := fetch(t, bob)["alice@localhost"]; it.Subscription != "from" {
		t.Errorf("bob's item for alice: %+v", it)
	}

	if err := mroster.Delete(ctx, alice.s, bobJID); err != nil {
		t.Fatalf("roster delete: %v", err)
	}
	waitPush(t, alice, func(it mroster.Item) bool { return it.JID.Equal(bobJID) && it.Subscription == "remove" })
	waitPush(t, bob, func(it mroster.Item) bool { return it.JID.Equal(aliceJID) && it.Subscription == "none" })
	if _, ok := fetch(t, alice)["bob@localhost"]; ok {
		t.Error("bob still in alice's roster after delete")
	}
}
