package offline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/stanza/jid"
)

// clock is a settable time for the module.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time { return time.UnixMilli(c.t.Load()) }

// withModule enables the module with opts and the clock (at the XEP's example time
// when nil).
func withModule(opts map[string]any, clk *clock) enginetest.Option {
	if clk == nil {
		clk = &clock{}
		clk.t.Store(time.Date(2002, 9, 10, 23, 8, 25, 0, time.UTC).UnixMilli())
	}
	return enginetest.WithModule(Name, func(mc engine.ModuleConfig) (engine.Module, error) {
		m, err := New(mc)
		if err == nil {
			m.(*Module).now = clk.now
		}
		return m, err
	}, opts)
}

const (
	stamp = "2002-09-10T23:08:25.000Z"
	delay = "<delay xmlns='urn:xmpp:delay' from='localhost' stamp='" + stamp + "'>Offline Storage</delay>"
	body  = `<body>
    O blessed, blessed night! I am afeard.
    Being in night, all this is but a dream,
    Too flattering-sweet to be substantial.
  </body>`
	errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	rj    = "romeo@localhost/orchard"
)

// waitCount waits until user has n offline messages stored.
func waitCount(t *testing.T, st backends.Store, user string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := st.(backends.Offline).CountOffline(context.Background(), "localhost", user)
		if err == nil && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d offline messages (%v), want %d", user, got, err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nothing fails t if anything arrives on c within 300 ms.
func nothing(t *testing.T, c *enginetest.Raw, what string) {
	t.Helper()
	if got := c.Next(300 * time.Millisecond); got != "" {
		t.Fatalf("%s: got %q", what, got)
	}
}

// users starts a server with romeo, juliet and nurse.
func users(t *testing.T, opts ...enginetest.Option) *enginetest.Server {
	t.Helper()
	ts := enginetest.Start(t, opts...)
	for _, u := range []string{"romeo", "juliet", "nurse"} {
		ts.AddUser(u, "secret")
	}
	return ts
}

// TestFlow is XEP-0160 section 2: the message is stored, nothing is delivered before
// initial presence, then it arrives with its delay, and only once.
func TestFlow(t *testing.T) {
	ts := users(t, withModule(nil, nil))
	r := ts.Login(t, "romeo", "secret", "orchard")
	r.Send("<message to='juliet@localhost'>" + body + "</message>")
	waitCount(t, ts.Store, "juliet", 1)
	nothing(t, r, "the sender, after a stored message")

	j := ts.Login(t, "juliet", "secret", "balcony")
	nothing(t, j, "before initial presence")
	j.Send("<presence><priority>1</priority></presence>")
	want := "<message from='" + rj + "' to='juliet@localhost'>" + body + delay + "</message>"
	if got := j.ReadUntil(want); !strings.Contains(got, want) {
		t.Fatalf("got %q", got)
	}
	waitCount(t, ts.Store, "juliet", 0)
	j.Conn.Close()

	j2 := ts.Login(t, "juliet", "secret", "chamber")
	j2.Send("<presence/>")
	j2.ReadUntil("<presence")
	if got := j2.Next(300 * time.Millisecond); strings.Contains(got, "<message") {
		t.Fatalf("delivered again at the next login: %q", got)
	}
}

func TestOrderAndTypes(t *testing.T) {
	ts := users(t, withModule(nil, nil))
	r := ts.Login(t, "romeo", "secret", "orchard")
	// Stored: normal (no type), normal, chat, to a full JID of no session, with <store/>.
	stored := []string{
		"<message to='juliet@localhost' id='1'><body>one</body></message>",
		"<message to='juliet@localhost' type='normal' id='2'><body>two</body></message>",
		"<message to='juliet@localhost/gone' type='chat' id='3'><body>three</body></message>",
		"<message to='juliet@localhost' type='chat' id='4'><gone xmlns='http://jabber.org/protocol/chatstates'/><store xmlns='urn:xmpp:hints'/></message>",
	}
	// Not stored, and not answered: headline, error, chat states only, <no-store/>.
	for _, m := range []string{
		"<message to='juliet@localhost' type='headline' id='h'><body>news</body></message>",
		"<message to='juliet@localhost' type='error' id='e'><body>err</body></message>",
		"<message to='juliet@localhost' type='chat' id='c'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
		"<message to='juliet@localhost' id='n'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>",
	} {
		r.Send(m)
	}
	for _, m := range stored {
		r.Send(m)
	}
	// Groupchat: the engine's error, not storage.
	r.Send("<message to='juliet@localhost' type='groupchat' id='g'><body>room</body></message>")
	if got := r.ReadUntil("</message>"); !strings.Contains(got, "id='g'") || !strings.Contains(got, "service-unavailable") {
		t.Fatalf("groupchat: %q", got)
	}
	r.Buf.Reset()
	waitCount(t, ts.Store, "juliet", len(stored))
	nothing(t, r, "the sender")

	j := ts.Login(t, "juliet", "secret", "balcony")
	j.Send("<presence/>")
	var want strings.Builder
	for _, m := range stored {
		i := strings.Index(m, " ")
		m = m[:i] + " from='" + rj + "'" + m[i:]
		want.WriteString(strings.TrimSuffix(m, "</message>") + delay + "</message>")
	}
	got := j.ReadUntil("id='4'")
	got += j.ReadUntil("</message>")[len(got):]
	got = got[strings.Index(got, "<message"):]
	if !strings.HasPrefix(got, want.String()) {
		t.Fatalf("delivered, in order:\n got  %s\n want %s", got, want.String())
	}
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]any
		err  string
	}{
		{map[string]any{"max_messages": 2}, "<error type='wait'><resource-constraint" + errNS},
		{map[string]any{"max_messages": 2, "full_error": "service-unavailable"}, "<error type='cancel'><service-unavailable" + errNS},
	} {
		t.Run(fmt.Sprint(tc.opts), func(t *testing.T) {
			ts := users(t, withModule(tc.opts, nil))
			r := ts.Login(t, "romeo", "secret", "orchard")
			for i := 1; i <= 2; i++ {
				r.Send(fmt.Sprintf("<message to='juliet@localhost' type='chat' id='m%d'><body>%d</body></message>", i, i))
			}
			waitCount(t, ts.Store, "juliet", 2)
			r.Send("<message to='juliet@localhost' type='chat' id='m3'><body>3</body></message>")
			want := "<message from='juliet@localhost' to='" + rj + "' id='m3' type='error'><body>3</body>" + tc.err +
				"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>the recipient's offline message queue is full</text></error></message>"
			if got := r.ReadUntil("</message>"); got != want {
				t.Fatalf("bounce\n got  %s\n want %s", got, want)
			}
			r.Buf.Reset()
			// Another account's queue is not affected.
			r.Send("<message to='nurse@localhost' id='n1'><body>n</body></message>")
			waitCount(t, ts.Store, "nurse", 1)
			nothing(t, r, "a message to another account")
		})
	}
}

func TestNoSuchUser(t *testing.T) {
	ts := users(t, withModule(nil, nil))
	r := ts.Login(t, "romeo", "secret", "orchard")
	r.Send("<message to='nobody@localhost' type='chat' id='x1'><body>hello?</body></message>")
	want := "<message from='nobody@localhost' to='" + rj + "' id='x1' type='error'><body>hello?</body>" +
		"<error type='cancel'><service-unavailable" + errNS + "</error></message>"
	if got := r.ReadUntil("</message>"); got != want {
		t.Fatalf("\n got  %s\n want %s", got, want)
	}
}

func TestPriority(t *testing.T) {
	ts := users(t, withModule(nil, nil))
	j := ts.Login(t, "juliet", "secret", "balcony")
	j.Send("<presence><priority>-1</priority></presence>")
	j.ReadUntil("</presence>")
	j.Buf.Reset()
	// Connected and available, but with a negative priority: the message is stored
	// and not delivered (RFC 6121 8.5.2.1.1, XEP-0160 step 2).
	r := ts.Login(t, "romeo", "secret", "orchard")
	r.Send("<message to='juliet@localhost' id='p1'><body>later</body></message>")
	waitCount(t, ts.Store, "juliet", 1)
	nothing(t, j, "a resource of negative priority")
	j.Send("<presence><priority>-5</priority></presence>")
	j.ReadUntil("</presence>")
	j.Buf.Reset()
	nothing(t, j, "still negative")
	j.Send("<presence><priority>0</priority></presence>")
	if got := j.ReadUntil("</message>"); !strings.Contains(got, "<body>later</body>"+delay+"</message>") {
		t.Fatalf("got %q", got)
	}
	waitCount(t, ts.Store, "juliet", 0)
	// Already eligible: a later presence delivers nothing new and breaks nothing.
	j.Buf.Reset()
	j.Send("<presence><priority>3</priority></presence>")
	if got := j.Next(300 * time.Millisecond); strings.Contains(got, "<message") {
		t.Fatalf("got %q", got)
	}
}

// TestConcurrentResources: two resources becoming available together get each message
// once in total.
func TestConcurrentResources(t *testing.T) {
	ts := users(t, withModule(map[string]any{"max_messages": 500}, nil))
	r := ts.Login(t, "romeo", "secret", "orchard")
	const n = 250
	for i := range n {
		r.Send(fmt.Sprintf("<message to='juliet@localhost' id='c%d'><body>%d</body></message>", i, i))
	}
	waitCount(t, ts.Store, "juliet", n)
	a := ts.Login(t, "juliet", "secret", "a")
	b := ts.Login(t, "juliet", "secret", "b")
	a.Send("<presence/>")
	b.Send("<presence/>")
	waitCount(t, ts.Store, "juliet", 0)
	got := strings.Count(a.Next(time.Second), "<message") + strings.Count(b.Next(time.Second), "<message")
	if got != n {
		t.Fatalf("%d messages delivered to the two resources, want %d", got, n)
	}
}

// TestRestart: a stored message survives a server restart on the embedded store.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := users(t, withModule(nil, nil), enginetest.WithStore(st))
	r := ts.Login(t, "romeo", "secret", "orchard")
	r.Send("<message to='juliet@localhost' type='chat' id='s1'><body>still here?</body></message>")
	waitCount(t, st, "juliet", 1)
	ts.Stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts = enginetest.Start(t, withModule(nil, nil), enginetest.WithStore(st))
	j := ts.Login(t, "juliet", "secret", "balcony")
	j.Send("<presence/>")
	want := "<message from='" + rj + "' to='juliet@localhost' type='chat' id='s1'><body>still here?</body>" + delay + "</message>"
	if got := j.ReadUntil(want); !strings.Contains(got, want) {
		t.Fatalf("got %q", got)
	}
	waitCount(t, st, "juliet", 0)
}

// TestQueuedAtStop: messages queued when the server stops are written before it ends.
func TestQueuedAtStop(t *testing.T) {
	ts := users(t, withModule(nil, nil))
	r := ts.Login(t, "romeo", "secret", "orchard")
	for i := range 20 {
		r.Send(fmt.Sprintf("<message to='juliet@localhost' id='q%d'><body>%d</body></message>", i, i))
	}
	r.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>") // all 20 were routed
	r.ReadUntil("id='sync'")
	ts.Stop()
	if n, err := ts.Store.(backends.Offline).CountOffline(context.Background(), "localhost", "juliet"); err != nil || n != 20 {
		t.Fatalf("after stop: %d stored, %v; want 20", n, err)
	}
}

func TestUserRemoved(t *testing.T) {
	var srv *engine.Server
	ts := users(t, withModule(nil, nil), enginetest.WithServer(&srv))
	r := ts.Login(t, "romeo", "secret", "orchard")
	r.Send("<message to='juliet@localhost'><body>bye</body></message>")
	waitCount(t, ts.Store, "juliet", 1)
	srv.RemoveUser(jid.MustParse("juliet@localhost"))
	waitCount(t, ts.Store, "juliet", 0)
	// Nothing is left behind: even the Seq counter is forgotten.
	if _, err := ts.Store.(backends.Offline).DeleteOffline(context.Background(), "localhost", "juliet", math.MaxUint64); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{MaxMessages: 0, FullError: "resource-constraint"}, {MaxMessages: 1_000_001, FullError: "resource-constraint"},
		{MaxMessages: 10, FullError: "bounce"}} {
		_, err := New(engine.ModuleConfig{Name: Name, Decode: func(v any) error { *v.(*Options) = o; return nil }})
		if err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	_, err := New(engine.ModuleConfig{Name: Name, Decode: func(v any) error { return errors.New("bad") }})
	if err == nil {
		t.Error("a decoding error was ignored")
	}
}
