package last

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/stanza/jid"
)

const errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"

// clock is a settable time for the module.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(c.t.Load(), 0) }
func (c *clock) set(unix int64) { c.t.Store(unix) }
func (c *clock) factory(mc engine.ModuleConfig) (engine.Module, error) {
	m, err := New(mc)
	if err == nil {
		m.(*Module).now = c.now
	}
	return m, err
}

// exchange sends req on c and fails t unless the answer is exactly want.
func exchange(t *testing.T, c *enginetest.Raw, req, want string) {
	t.Helper()
	c.Buf.Reset()
	c.Send(req)
	if got := c.ReadUntil("</iq>"); got != want {
		t.Fatalf("answer to %s\n got  %s\n want %s", req, got, want)
	}
	c.Buf.Reset()
}

// j3 logs Juliet in once more.
func j3(t *testing.T, ts *enginetest.Server) *enginetest.Raw {
	return ts.Login(t, "juliet", "secret", "tomb")
}

// waitLogout waits until the store has a last logout for user at unix.
func waitLogout(t *testing.T, st backends.LastActivity, user string, unix int64) backends.LastLogout {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := st.LastLogout(context.Background(), "localhost", user)
		if err == nil && l.At.Unix() == unix {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("no last logout of %s at %d: %+v, %v", user, unix, l, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLastActivity(t *testing.T) {
	for _, interval := range []string{"0s", "50ms"} {
		t.Run("flush_interval="+interval, func(t *testing.T) {
			testLastActivity(t, map[string]any{"flush_interval": interval})
		})
	}
}

func testLastActivity(t *testing.T, opts map[string]any) {
	var clk clock
	clk.set(1_000_000)
	var srv *engine.Server
	ts := enginetest.Start(t, enginetest.WithModule(Name, clk.factory, opts), enginetest.WithServer(&srv))
	for _, u := range []string{"romeo", "juliet", "nurse", "tybalt"} {
		ts.AddUser(u, "secret")
	}
	rosters := ts.Store.(backends.Rosters)
	ctx := context.Background()
	// Romeo is subscribed to Juliet's presence (Juliet's roster: romeo, 'from'); Juliet
	// is subscribed to the Nurse's, not the reverse (the Nurse's roster: juliet, 'to').
	if _, err := rosters.PutRosterItem(ctx, "localhost", "juliet", backends.RosterItem{Contact: "romeo@localhost", Subscription: backends.SubFrom}); err != nil {
		t.Fatal(err)
	}
	if _, err := rosters.PutRosterItem(ctx, "localhost", "nurse", backends.RosterItem{Contact: "juliet@localhost", Subscription: backends.SubTo}); err != nil {
		t.Fatal(err)
	}
	r := ts.Login(t, "romeo", "secret", "orchard")
	const rj = "romeo@localhost/orchard"

	// Section 5: the server's uptime.
	clk.set(1_123_456)
	exchange(t, r, "<iq id='last3' to='localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='result' id='last3' to='"+rj+"' from='localhost'><query xmlns='jabber:iq:last' seconds='123456'/></iq>")

	// Section 3: Juliet logs out with a status; 903 seconds later Romeo asks.
	j := ts.Login(t, "juliet", "secret", "balcony")
	j.Send("<presence><priority>1</priority></presence>")
	j.Send("<presence type='unavailable'><status>Heading Home</status></presence>")
	j.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>") // the presence was processed
	j.ReadUntil("id='sync'")
	clk.set(2_000_000)
	j.Conn.Close()
	waitLogout(t, ts.Store.(backends.LastActivity), "juliet", 2_000_000)
	clk.set(2_000_903)
	exchange(t, r, "<iq id='last1' to='juliet@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='result' id='last1' to='"+rj+"' from='juliet@localhost'><query xmlns='jabber:iq:last' seconds='903'>Heading Home</query></iq>")

	// While she is connected (even unavailable): 0.
	j2 := ts.Login(t, "juliet", "secret", "chamber")
	exchange(t, r, "<iq id='last4' to='juliet@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='result' id='last4' to='"+rj+"' from='juliet@localhost'><query xmlns='jabber:iq:last' seconds='0'/></iq>")
	// Users asking about themselves: 0.
	exchange(t, j2, "<iq id='own' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='result' id='own' to='juliet@localhost/chamber'><query xmlns='jabber:iq:last' seconds='0'/></iq>")
	// A logout without a status, after an earlier unavailable with one that was
	// followed by available presence: no status.
	j2.Send("<presence type='unavailable'><status>gone</status></presence>")
	j2.Send("<presence/>")
	j2.Send("<iq type='get' id='sync2'><ping xmlns='urn:xmpp:ping'/></iq>")
	j2.ReadUntil("id='sync2'")
	clk.set(3_000_000)
	j2.Conn.Close()
	waitLogout(t, ts.Store.(backends.LastActivity), "juliet", 3_000_000)
	clk.set(3_000_010)
	exchange(t, r, "<iq id='last5' to='juliet@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='result' id='last5' to='"+rj+"' from='juliet@localhost'><query xmlns='jabber:iq:last' seconds='10'/></iq>")

	// Tybalt has Romeo as 'both' but never logged out.
	if _, err := rosters.PutRosterItem(ctx, "localhost", "tybalt", backends.RosterItem{Contact: "romeo@localhost", Subscription: backends.SubBoth}); err != nil {
		t.Fatal(err)
	}
	n := ts.Login(t, "nurse", "secret", "kitchen")
	juliet := j3(t, ts)
	const nj = "nurse@localhost/kitchen"
	for _, tc := range []struct {
		name string
		c    *enginetest.Raw
		req  string
		want string
	}{
		{"not in the roster", n, "<iq id='f1' to='juliet@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
			"<iq type='error' id='f1' to='" + nj + "' from='juliet@localhost'><error type='auth'><forbidden" + errNS},
		{"in the roster as 'to' only", juliet, "<iq id='f2' to='nurse@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
			"<iq type='error' id='f2' to='juliet@localhost/tomb' from='nurse@localhost'><error type='auth'><forbidden" + errNS},
		{"no such user", r, "<iq id='f3' to='nobody@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
			"<iq type='error' id='f3' to='" + rj + "' from='nobody@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"never logged out", r, "<iq id='f4' to='tybalt@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
			"<iq type='error' id='f4' to='" + rj + "' from='tybalt@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"set", r, "<iq id='f5' to='localhost' type='set'><query xmlns='jabber:iq:last'/></iq>",
			"<iq type='error' id='f5' to='" + rj + "' from='localhost'><error type='cancel'><not-allowed" + errNS},
		{"not a query", r, "<iq id='f6' to='localhost' type='get'><last xmlns='jabber:iq:last'/></iq>",
			"<iq type='error' id='f6' to='" + rj + "' from='localhost'><error type='modify'><bad-request" + errNS},
	} {
		t.Run(tc.name, func(t *testing.T) { exchange(t, tc.c, tc.req, tc.want) })
	}

	// A removed account's record goes, and its sessions, which close after, leave
	// none behind.
	if err := ts.Store.DeleteAccount(ctx, "localhost", "juliet"); err != nil {
		t.Fatal(err)
	}
	srv.RemoveUser(jid.MustParse("juliet@localhost"))
	if _, err := ts.Store.(backends.LastActivity).LastLogout(ctx, "localhost", "juliet"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("last logout of a removed user: %v", err)
	}
	juliet.ReadAll() // her session was ended
	time.Sleep(300 * time.Millisecond)
	if l, err := ts.Store.(backends.LastActivity).LastLogout(ctx, "localhost", "juliet"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("the closed session of a removed user left %+v, %v", l, err)
	}
}

func TestOwnerOnlyWithoutRosters(t *testing.T) {
	// A store without rosters: only the user may ask, everyone else is refused.
	mem := memory.New()
	t.Cleanup(func() { mem.Close() })
	store := struct {
		backends.Store
		backends.LastActivity
	}{mem, mem}
	var clk clock
	clk.set(1_000_000)
	ts := enginetest.Start(t, enginetest.WithModule(Name, clk.factory, nil), enginetest.WithStore(store))
	ts.AddUser("romeo", "secret")
	ts.AddUser("juliet", "secret")
	if err := mem.SetLastLogout(context.Background(), "localhost", "juliet", backends.LastLogout{At: time.Unix(999_000, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.PutRosterItem(context.Background(), "localhost", "juliet", backends.RosterItem{Contact: "romeo@localhost", Subscription: backends.SubBoth}); err != nil {
		t.Fatal(err)
	}
	r := ts.Login(t, "romeo", "secret", "orchard")
	exchange(t, r, "<iq id='o1' to='juliet@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='error' id='o1' to='romeo@localhost/orchard' from='juliet@localhost'><error type='auth'><forbidden"+errNS)
	exchange(t, r, "<iq id='o2' to='romeo@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>",
		"<iq type='result' id='o2' to='romeo@localhost/orchard' from='romeo@localhost'><query xmlns='jabber:iq:last' seconds='0'/></iq>")
}

func TestStatusOf(t *testing.T) {
	long := strings.Repeat("é", backends.MaxStatusLen) // 2 bytes each
	for _, c := range []struct{ raw, want string }{
		{"<presence type='unavailable'/>", ""},
		{"<presence type='unavailable'><status>a &amp; b</status><status xml:lang='fr'>x</status></presence>", "a & b"},
		{"<presence type='unavailable'><status>" + long + "</status></presence>", long[:backends.MaxStatusLen]},
		{"<presence type='unavailable'><status>x" + long + "</status></presence>", "x" + long[:backends.MaxStatusLen-2]},
	} {
		if got := statusOf([]byte(c.raw)); got != c.want {
			t.Errorf("statusOf(%.60q) = %.40q (%d bytes), want %.40q (%d bytes)", c.raw, got, len(got), c.want, len(c.want))
		}
	}
}

// TestLogoutsGathered checks the write-behind: a logout is answered at once from
// memory, reaches the store only when the round ends (here: when the server stops),
// a removed account's gathered logout is dropped and so are those of its sessions
// closed by the removal, and an account created again under a removed name has its
// logouts kept.
func TestLogoutsGathered(t *testing.T) {
	var clk clock
	clk.set(1_000_000)
	var started atomic.Pointer[Module] // set on the server's goroutine once started
	factory := func(mc engine.ModuleConfig) (engine.Module, error) {
		m, err := clk.factory(mc)
		if err != nil {
			return nil, err
		}
		return startedModule{m.(*Module), &started}, nil
	}
	ts := enginetest.Start(t, enginetest.WithModule(Name, factory, map[string]any{"flush_interval": "1h"}))
	for _, u := range []string{"romeo", "juliet", "nurse", "tybalt"} {
		ts.AddUser(u, "secret")
	}
	ctx := context.Background()
	if _, err := ts.Store.(backends.Rosters).PutRosterItem(ctx, "localhost", "juliet", backends.RosterItem{Contact: "romeo@localhost", Subscription: backends.SubFrom}); err != nil {
		t.Fatal(err)
	}
	mod := started.Load()
	r := ts.Login(t, "romeo", "secret", "orchard")
	j := ts.Login(t, "juliet", "secret", "balcony")
	j.Send("<presence type='unavailable'><status>Heading Home</status></presence>")
	j.Send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
	j.ReadUntil("id='sync'")
	clk.set(2_000_000)
	j.Conn.Close()
	n := ts.Login(t, "nurse", "secret", "kitchen")
	n.Conn.Close()
	clk.set(2_000_030)
	// The answer comes from the gathered logout: poll until the session-closed hook ran.
	const want = "<iq type='result' id='q' to='romeo@localhost/orchard' from='juliet@localhost'><query xmlns='jabber:iq:last' seconds='30'>Heading Home</query></iq>"
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.Buf.Reset()
		r.Send("<iq id='q' to='juliet@localhost' type='get'><query xmlns='jabber:iq:last'/></iq>")
		got := r.ReadUntil("</iq>")
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("answer %s, want %s", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	last := ts.Store.(backends.LastActivity)
	if l, err := last.LastLogout(ctx, "localhost", "juliet"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("stored before the round ended: %+v, %v", l, err)
	}
	// The nurse's account goes: her gathered logout must not be written after.
	for _, ok := mod.pendingLogout("localhost", "nurse"); !ok; _, ok = mod.pendingLogout("localhost", "nurse") {
		if time.Now().After(deadline) {
			t.Fatal("the nurse's logout was never gathered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ts.Store.DeleteAccount(ctx, "localhost", "nurse"); err != nil {
		t.Fatal(err)
	}
	ts.Srv.RemoveUser(jid.MustParse("nurse@localhost"))
	// Tybalt is connected when his account goes: the removal closes his session,
	// whose logout must not be kept.
	ty := ts.Login(t, "tybalt", "secret", "street")
	if err := ts.Store.DeleteAccount(ctx, "localhost", "tybalt"); err != nil {
		t.Fatal(err)
	}
	ts.Srv.RemoveUser(jid.MustParse("tybalt@localhost"))
	ty.ReadAll()
	time.Sleep(200 * time.Millisecond) // for his session-closed hooks
	if l, ok := mod.pendingLogout("localhost", "tybalt"); ok {
		t.Fatalf("the logout of a session closed by its account's removal was kept: %+v", l)
	}
	// An account of the same name is created again: its logouts are kept.
	ts.AddUser("tybalt", "other")
	clk.set(2_000_100)
	ts.Login(t, "tybalt", "other", "square").Conn.Close()
	for _, ok := mod.pendingLogout("localhost", "tybalt"); !ok; _, ok = mod.pendingLogout("localhost", "tybalt") {
		if time.Now().After(deadline) {
			t.Fatal("the new tybalt's logout was never gathered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Stop()
	if l, err := last.LastLogout(ctx, "localhost", "tybalt"); err != nil || l.At.Unix() != 2_000_100 {
		t.Fatalf("the new tybalt's logout: %+v, %v; want at 2000100", l, err)
	}
	l, err := last.LastLogout(ctx, "localhost", "juliet")
	if err != nil || l.At.Unix() != 2_000_000 || l.Status != "Heading Home" {
		t.Fatalf("after stop: %+v, %v; want the gathered logout", l, err)
	}
	if l, err := last.LastLogout(ctx, "localhost", "nurse"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("a removed account's logout was written: %+v, %v", l, err)
	}
}

// failingLast fails every write while down is set.
type failingLast struct {
	*memory.Store
	down atomic.Bool
}

func (f *failingLast) SetLastLogout(ctx context.Context, domain, user string, l backends.LastLogout) error {
	if f.down.Load() {
		return backends.ErrUnavailable
	}
	return f.Store.SetLastLogout(ctx, domain, user, l)
}

// TestLogoutsRetried checks that a round the store refused is written in a later one,
// without overwriting a newer logout of the same account.
func TestLogoutsRetried(t *testing.T) {
	st := &failingLast{Store: memory.New()}
	st.down.Store(true)
	failures := make(chan error, 10)
	l := newLogouts(10*time.Millisecond, st, func(_ int, err error) { failures <- err })
	go l.run()
	defer l.close()
	l.put(account{"localhost", "a"}, backends.LastLogout{At: time.Unix(100, 0)})
	l.put(account{"localhost", "b"}, backends.LastLogout{At: time.Unix(100, 0)})
	if err := <-failures; !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("failure %v", err)
	}
	l.put(account{"localhost", "a"}, backends.LastLogout{At: time.Unix(200, 0)})
	st.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, errA := st.LastLogout(context.Background(), "localhost", "a")
		b, errB := st.LastLogout(context.Background(), "localhost", "b")
		if errA == nil && errB == nil {
			if a.At.Unix() != 200 || b.At.Unix() != 100 {
				t.Fatalf("a at %d, b at %d; want 200 and 100", a.At.Unix(), b.At.Unix())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not written after the store came back: %v, %v", errA, errB)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startedModule publishes its module once Start has returned.
type startedModule struct {
	*Module
	started *atomic.Pointer[Module]
}

func (s startedModule) Start(h *engine.Host) error {
	err := s.Module.Start(h)
	s.started.Store(s.Module)
	return err
}
