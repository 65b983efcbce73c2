// Package rostertest is test support for the roster and presence modules: a raw
// client that waits for stanzas matching a pattern with wildcards (roster push ids
// and versions are the server's choice), and a server with both modules enabled. No
// production code imports it.
package rostertest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/presence"
	"github.com/hermod-im/hermod/modules/roster"
)

// Start starts a server with mod_roster and mod_presence (options may be nil) and the
// extra options given.
func Start(t testing.TB, rosterOpts map[string]any, opts ...enginetest.Option) *enginetest.Server {
	t.Helper()
	opts = append([]enginetest.Option{
		enginetest.WithModule(roster.Name, roster.New, rosterOpts),
		enginetest.WithModule(presence.Name, presence.New, nil),
	}, opts...)
	return enginetest.Start(t, opts...)
}

// Client is a logged-in raw connection that keeps what it received and not yet
// matched.
type Client struct {
	t   testing.TB
	Raw *enginetest.Raw
	// JID is the session's full JID.
	JID string
	buf string
}

// Login logs user (password "pw") in with resource on ts's plain listener.
func Login(t testing.TB, ts *enginetest.Server, user, resource string) *Client {
	t.Helper()
	return &Client{t: t, Raw: ts.Login(t, user, "pw", resource), JID: user + "@localhost/" + resource}
}

// Send writes s.
func (c *Client) Send(s string) {
	c.t.Helper()
	c.Raw.Send(s)
}

// Pattern compiles an expected stanza: the text is literal except for "{*}", which
// matches any attribute value or text without quotes or '<', and "{**}", which matches
// anything (as little as possible).
func Pattern(want string) *regexp.Regexp {
	outer := strings.Split(want, "{**}")
	for i, o := range outer {
		inner := strings.Split(o, "{*}")
		for j, p := range inner {
			inner[j] = regexp.QuoteMeta(p)
		}
		outer[i] = strings.Join(inner, `[^'"<]*`)
	}
	return regexp.MustCompile(strings.Join(outer, `[\s\S]*?`))
}

// Expect waits up to five seconds for a stanza matching want (see Pattern), returns
// it, and forgets everything received up to its end.
func (c *Client) Expect(want string) string {
	c.t.Helper()
	re := Pattern(want)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if loc := re.FindStringIndex(c.buf); loc != nil {
			got := c.buf[loc[0]:loc[1]]
			c.buf = c.buf[loc[1]:]
			return got
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: no %q within 5 s; received %q", c.JID, want, c.buf)
		}
		c.buf += c.Raw.Next(20 * time.Millisecond)
	}
}

// ExpectAll waits for every stanza of wants, in any order.
func (c *Client) ExpectAll(wants ...string) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	res := make([]*regexp.Regexp, len(wants))
	for i, w := range wants {
		res[i] = Pattern(w)
	}
	for {
		all := true
		for _, re := range res {
			if !re.MatchString(c.buf) {
				all = false
			}
		}
		if all {
			for _, re := range res {
				loc := re.FindStringIndex(c.buf)
				c.buf = c.buf[:loc[0]] + c.buf[loc[1]:]
			}
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not all of %q within 5 s; received %q", c.JID, wants, c.buf)
		}
		c.buf += c.Raw.Next(20 * time.Millisecond)
	}
}

// Nothing fails the test if a stanza matching unwanted (or, for "", anything at all)
// arrives within 300 ms, counting what was received and not yet matched.
func (c *Client) Nothing(unwanted string) {
	c.t.Helper()
	c.buf += c.Raw.Next(300 * time.Millisecond)
	if unwanted == "" {
		if strings.TrimSpace(c.buf) != "" {
			c.t.Fatalf("%s: unexpected %q", c.JID, c.buf)
		}
		return
	}
	if m := Pattern(unwanted).FindString(c.buf); m != "" {
		c.t.Fatalf("%s: unexpected %q in %q", c.JID, m, c.buf)
	}
}

// Drain forgets everything received so far, waiting 100 ms for stragglers.
func (c *Client) Drain() {
	c.Raw.Next(100 * time.Millisecond)
	c.buf = ""
}

// Roster sends a roster get and returns the result.
func (c *Client) Roster(id string) string {
	c.t.Helper()
	c.Send("<iq type='get' id='" + id + "'><query xmlns='jabber:iq:roster'/></iq>")
	return c.Expect("<iq type='result' id='" + id + "' to='" + c.JID + "'>{**}</iq>")
}
