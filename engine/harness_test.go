package engine_test

import (
	"testing"
	"time"

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
