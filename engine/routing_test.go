package engine_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
)

// client is a logged-in mellium session whose incoming stanzas are collected as XML
// text.
type client struct {
	t   *testing.T
	s   *xmpp.Session
	in  chan string
	jid string // the bound full JID
}

func newClient(t *testing.T, ts *testServer, user, resource string) *client {
	t.Helper()
	s, err := login(t, ts.C2S, user, "pw-"+user, resource, false)
	if err != nil {
		t.Fatalf("login %s/%s: %v", user, resource, err)
	}
	c := &client{t: t, s: s, in: make(chan string, 64), jid: s.LocalAddr().String()}
	go func() {
		_ = s.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			var buf bytes.Buffer
			enc := xml.NewEncoder(&buf)
			if _, err := xmlstream.Copy(enc, xmlstream.Wrap(xmlstream.Inner(r), *start)); err != nil {
				return err
			}
			_ = enc.Flush()
			select {
			case c.in <- buf.String():
			default:
			}
			return nil
		}))
	}()
	return c
}

// send writes raw stanza XML on the session.
func (c *client) Send(raw string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.s.Send(ctx, xml.NewDecoder(strings.NewReader(raw))); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// expect waits for an incoming stanza containing every part.
func (c *client) expect(parts ...string) string {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case got := <-c.in:
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(got, p)
			}
			if ok {
				return got
			}
		case <-timeout:
			c.t.Fatalf("no stanza containing %q", parts)
			return ""
		}
	}
}

// expectNone checks that nothing arrives for a short while.
func (c *client) expectNone(d time.Duration) {
	c.t.Helper()
	select {
	case got := <-c.in:
		c.t.Fatalf("unexpected stanza %s", got)
	case <-time.After(d):
	}
}

// expectNoMessage checks that no message arrives for a short while.
func (c *client) expectNoMessage(d time.Duration) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case got := <-c.in:
			if strings.HasPrefix(got, "<message") {
				c.t.Fatalf("unexpected message %s", got)
			}
		case <-timeout:
			return
		}
	}
}

func TestMessageToFullJID(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := newClient(t, ts, "alice", "home")
	b := newClient(t, ts, "bob", "phone")
	a.Send(`<message to='` + b.jid + `' type='chat' id='m1'><body>hi &amp; bye</body></message>`)
	got := b.expect(`from="`+a.jid+`"`, `hi &amp; bye`, `id="m1"`)
	t.Log(got)
}

func TestFromIsStamped(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := newClient(t, ts, "alice", "home")
	b := newClient(t, ts, "bob", "phone")
	// Naming itself (bare) in 'from' is allowed and gets the full JID stamped.
	a.Send(`<message from='alice@localhost' to='` + b.jid + `' id='m2'><body>x</body></message>`)
	b.expect(`from="`+a.jid+`"`, `id="m2"`)
}

func TestMessageToBarePriority(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := newClient(t, ts, "alice", "home")
	b1 := newClient(t, ts, "bob", "low")
	b2 := newClient(t, ts, "bob", "high")
	b1.Send(`<presence><priority>1</priority></presence>`)
	b2.Send(`<presence><priority>5</priority></presence>`)
	// Each resource sees its own and the other's presence (RFC 6121 4.2.2).
	b2.expect(`from="` + b1.jid + `"`)
	b1.expect(`from="` + b2.jid + `"`)
	a.Send(`<message to='bob@localhost' type='chat' id='m3'><body>to the best</body></message>`)
	b2.expect(`id="m3"`, `from="`+a.jid+`"`)
	// Presence between bob's resources may arrive twice when both come online at once
	// on different loops; only the message matters here.
	b1.expectNoMessage(300 * time.Millisecond)
}

func TestMessageToOfflineUser(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := newClient(t, ts, "alice", "home")
	a.Send(`<message to='bob@localhost' type='chat' id='m4'><body>anyone?</body></message>`)
	a.expect(`type="error"`, `id="m4"`, `service-unavailable`)
}

func TestIQToMissingResource(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := newClient(t, ts, "alice", "home")
	_ = newClient(t, ts, "bob", "phone")
	a.Send(`<iq to='bob@localhost/tablet' type='get' id='q1'><query xmlns='jabber:iq:version'/></iq>`)
	a.expect(`type="error"`, `id="q1"`, `service-unavailable`)
}

func TestIQBetweenResources(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := newClient(t, ts, "alice", "home")
	b := newClient(t, ts, "bob", "phone")
	a.Send(`<iq to='` + b.jid + `' type='get' id='q2'><query xmlns='jabber:iq:version'/></iq>`)
	b.expect(`id="q2"`, `from="`+a.jid+`"`, `jabber:iq:version`)
}

func TestPingServer(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice")
	a := newClient(t, ts, "alice", "home")
	a.Send(`<iq to='localhost' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	a.expect(`type="result"`, `id="p1"`)
	a.Send(`<iq type='get' id='p2'><unknown xmlns='urn:example:nothing'/></iq>`)
	a.expect(`type="error"`, `id="p2"`, `service-unavailable`)
}

func TestRemoteDomain(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice")
	a := newClient(t, ts, "alice", "home")
	a.Send(`<message to='someone@example.org' id='r1'><body>x</body></message>`)
	a.expect(`type="error"`, `id="r1"`, `remote-server-not-found`)
}
