package presence_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/engine/sasl"
	"github.com/hermod-im/hermod/modules/roster/rostertest"
)

// The benchmarks of issue 5 for presence, end to end over loopback with the embedded
// store: a login with a roster of contacts that are all online (roster load, broadcast
// of initial presence, probes answered), a presence change broadcast to subscribers,
// and the heap each online user costs. Clients are lean raw sockets in this process, so
// allocs/op counts theirs too (a few per operation); compare the 0-contact rows.
//
//	go test -run '^$' -bench . -benchtime 200x ./modules/presence/

// benchEnv is a server whose "user" account has contacts c0..cN-1 with mutual
// subscriptions, all of them online and available, their input drained and counted.
type benchEnv struct {
	ts       *enginetest.Server
	store    *embedded.Store
	contacts []*drainer
}

// fastUsers stores accounts with one PBKDF2 iteration, so that logins measure the
// server's session work rather than password hashing.
func fastUsers(tb testing.TB, st backends.Store, names []string) {
	tb.Helper()
	keys := func(h sasl.Hash) *backends.ScramKeys {
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		k := sasl.DeriveKeys(h, "pw", salt, 1)
		return &backends.ScramKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
	as := make([]backends.Account, len(names))
	for i, n := range names {
		as[i] = backends.Account{Domain: "localhost", User: n, Credentials: backends.Credentials{SHA256: keys(sasl.SHA256)}}
	}
	if err := st.PutAccounts(context.Background(), as); err != nil {
		tb.Fatal(err)
	}
}

func newBenchEnv(b *testing.B, contacts int) *benchEnv {
	b.Helper()
	st, err := embedded.Open(b.TempDir(), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ts := rostertest.Start(b, nil, enginetest.WithStore(st))
	names := []string{"user"}
	for i := range contacts {
		names = append(names, "c"+strconv.Itoa(i))
	}
	fastUsers(b, st, names)
	ctx := context.Background()
	for _, n := range names[1:] {
		if _, err := st.PutRosterItem(ctx, "localhost", "user", backends.RosterItem{Contact: n + "@localhost", Subscription: backends.SubBoth}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.PutRosterItem(ctx, "localhost", n, backends.RosterItem{Contact: "user@localhost", Subscription: backends.SubBoth}); err != nil {
			b.Fatal(err)
		}
	}
	env := &benchEnv{ts: ts, store: st}
	for _, n := range names[1:] {
		c := dialLogin(b, ts.Plain, n, "r")
		c.send("<presence><status>here</status></presence>")
		c.waitPresences(1)
		env.contacts = append(env.contacts, startDrain(b, c, 4096))
	}
	return env
}

// leanClient is a socket with one reusable buffer.
type leanClient struct {
	tb   testing.TB
	conn net.Conn
	buf  []byte // received, not yet consumed
	tmp  []byte
}

func (c *leanClient) send(s string) {
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.tb.Fatalf("send: %v", err)
	}
}

func (c *leanClient) fill() {
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.conn.Read(c.tmp)
	if err != nil {
		c.tb.Fatalf("read: %v (have %q)", err, c.buf)
	}
	c.buf = append(c.buf, c.tmp[:n]...)
}

// until reads until want has arrived and drops everything up to it.
func (c *leanClient) until(want string) {
	for {
		if i := bytes.Index(c.buf, []byte(want)); i >= 0 {
			c.buf = c.buf[:copy(c.buf, c.buf[i+len(want):])]
			return
		}
		c.fill()
	}
}

var presenceTag = []byte("<presence")

// waitPresences reads until n presence stanzas have arrived, then drops what was read.
func (c *leanClient) waitPresences(n int) {
	for bytes.Count(c.buf, presenceTag) < n {
		c.fill()
	}
	c.buf = c.buf[:0]
}

const streamOpen = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

func dialLogin(tb testing.TB, addr, user, resource string) *leanClient {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	c := &leanClient{tb: tb, conn: conn, buf: make([]byte, 0, 16<<10), tmp: make([]byte, 16<<10)}
	c.login(user, resource)
	return c
}

func (c *leanClient) login(user, resource string) {
	c.send(streamOpen)
	c.until("</stream:features>")
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00pw")) + "</auth>")
	c.until("<success")
	c.send(streamOpen)
	c.until("</stream:features>")
	c.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + resource + "</resource></bind></iq>")
	c.until("</iq>")
}

// drainer reads a connection in the background and counts presence stanzas.
type drainer struct {
	presences atomic.Int64
	done      chan struct{}
}

func startDrain(tb testing.TB, c *leanClient, size int) *drainer {
	d := &drainer{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		buf := make([]byte, len(presenceTag)-1+size)
		keep := 0
		for {
			n, err := c.conn.Read(buf[keep:])
			if err != nil {
				return
			}
			d.presences.Add(int64(bytes.Count(buf[:keep+n], presenceTag)))
			// Keep the tail that could start a tag split across reads.
			tail := min(len(presenceTag)-1, keep+n)
			copy(buf, buf[keep+n-tail:keep+n])
			keep = tail
		}
	}()
	tb.Cleanup(func() { c.conn.Close(); <-d.done })
	return d
}

// waitDelivered waits until every drainer counted at least want presence stanzas.
func waitDelivered(tb testing.TB, ds []*drainer, want int64) {
	deadline := time.Now().Add(60 * time.Second)
	for _, d := range ds {
		for d.presences.Load() < want {
			if time.Now().After(deadline) {
				tb.Fatalf("a contact counted %d presence stanzas, want %d", d.presences.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// BenchmarkLogin logs "user" in and out: authentication, binding (the roster is loaded
// before the bind result), initial presence broadcast to every contact and the probe
// answered by each, then the close (unavailable presence to every contact).
func BenchmarkLogin(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("contacts=%d", n), func(b *testing.B) {
			env := newBenchEnv(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// A new resource each time: reusing one would make the next bind
				// replace a session whose close the server may not have seen yet.
				c := dialLogin(b, env.ts.Plain, "user", "r"+strconv.Itoa(i))
				c.send("<presence><status>hi</status></presence>")
				c.waitPresences(n + 1) // the probe answers and the server's copy to the session
				c.conn.Close()
			}
			// Every contact got the initial presence and the unavailable of each login.
			waitDelivered(b, env.contacts, int64(2*b.N))
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}

// BenchmarkBroadcast sends presence changes from a session with 100 subscribers online
// and waits until all copies were delivered.
func BenchmarkBroadcast(b *testing.B) {
	const n = 100
	env := newBenchEnv(b, n)
	c := dialLogin(b, env.ts.Plain, "user", "r")
	c.send("<presence/>")
	c.waitPresences(n + 1)
	base := env.contacts[0].presences.Load()
	for _, d := range env.contacts {
		if got := d.presences.Load(); got != base {
			waitDelivered(b, env.contacts, base)
		}
	}
	stanza := "<presence><show>away</show><status>in a meeting</status></presence>"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.send(stanza)
		c.waitPresences(1) // the server's copy to the session: the broadcast is queued
	}
	waitDelivered(b, env.contacts, base+int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkOnlineUserMemory logs users in, each with a roster of 100 other online users
// (mutual subscriptions) or none, and reports the heap per online user after GC. The
// difference between the two rows is what the roster and presence state cost; the
// rest is the session and the test's own client socket.
func BenchmarkOnlineUserMemory(b *testing.B) {
	const users, perRoster = 400, 100
	for _, contacts := range []int{0, perRoster} {
		b.Run(fmt.Sprintf("contacts=%d", contacts), func(b *testing.B) {
			st, err := embedded.Open(b.TempDir(), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ts := rostertest.Start(b, nil, enginetest.WithStore(st))
			names := make([]string, users)
			for i := range names {
				names[i] = "u" + strconv.Itoa(i)
			}
			fastUsers(b, st, names)
			ctx := context.Background()
			var wg sync.WaitGroup
			for i, n := range names {
				// Contacts i±1 .. i±contacts/2: every roster has contacts items and
				// every subscription is mutual. Concurrent writers share commits.
				wg.Go(func() {
					for k := 1; k <= contacts/2; k++ {
						for _, j := range []int{(i + k) % users, (i - k + users) % users} {
							it := backends.RosterItem{Contact: names[j] + "@localhost", Subscription: backends.SubBoth}
							if _, err := st.PutRosterItem(ctx, "localhost", n, it); err != nil {
								b.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			before := heap()
			for _, n := range names {
				c := dialLogin(b, ts.Plain, n, "r")
				c.send("<presence/>")
				c.buf, c.tmp = nil, nil
				// The test's side of each connection keeps about 0.6 KB of heap (the
				// socket and a 512-byte read buffer); both rows include it.
				startDrain(b, c, 512)
			}
			time.Sleep(time.Second) // let probes and broadcasts settle
			after := heap()
			b.ReportMetric(float64(after-before)/users, "heap-B/user")
			for i := 0; i < b.N; i++ {
				// The measurement is the setup; b.N only satisfies the harness.
			}
		})
	}
}

func heap() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
