package engine_test

import (
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/stanza/jid"
)

type testServer = enginetest.Server

func startServer(t testing.TB, opts ...enginetest.Option) *testServer {
	t.Helper()
	return enginetest.Start(t, opts...)
}

func dialRaw(t testing.TB, addr string) *enginetest.Raw { return enginetest.DialRaw(t, addr) }

// rawLogin logs user in on the plain listener with the tests' password convention.
func rawLogin(t testing.TB, ts *testServer, user, resource string) *enginetest.Raw {
	t.Helper()
	return ts.Login(t, user, "pw-"+user, resource)
}

func users(ts *testServer, names ...string) {
	for _, n := range names {
		ts.AddUser(n, "pw-"+n)
	}
}

func withTimeouts(d time.Duration) enginetest.Option {
	return enginetest.WithConfig(func(c *config.Config) {
		for i := range c.Listen.C2S {
			c.Listen.C2S[i].HandshakeTimeout = config.Dur(d)
		}
	})
}

var clientTLS = enginetest.ClientTLS

const streamOpen = enginetest.StreamOpen

func jidMust(s string) jid.JID { return jid.MustParse(s) }

// loginPlaced logs user in with resource res until the session lands on the event loop
// of other/otherRes (same) or on another one (!same), at most 40 tries: the kernel
// spreads connections over the loops' listening sockets by a hash of the addresses.
func loginPlaced(t testing.TB, ts *testServer, user, res, other, otherRes string, same bool) *enginetest.Raw {
	t.Helper()
	for range 40 {
		r := rawLogin(t, ts, user, res)
		got, ok := engine.SameLoop(ts.Srv, user+"@localhost", res, other+"@localhost", otherRes)
		if ok && got == same {
			return r
		}
		r.Conn.Close()
		// The next login must not replace a session still closing.
		waitUnbound(t, ts, user+"@localhost", res)
	}
	t.Fatalf("%s/%s never landed on the wanted loop in 40 logins", user, res)
	return nil
}

// waitUnbound waits (at most 2 s) until bare/res has no session.
func waitUnbound(t testing.TB, ts *testServer, bare, res string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if _, ok := engine.SameLoop(ts.Srv, bare, res, bare, res); !ok {
			return
		}
	}
	t.Fatalf("%s/%s still bound 2 s after its connection closed", bare, res)
}
