package privacy_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/blocklist"
	mjid "mellium.im/xmpp/jid"

	"github.com/hermod-im/hermod/engine/enginetest"
)

// melliumLogin logs user in with mellium.im/xmpp (STARTTLS, SCRAM-SHA-256, password
// "pw") and serves the session until the test ends.
func melliumLogin(t *testing.T, ts *enginetest.Server, user string) *xmpp.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.DialTimeout("tcp", ts.C2S, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xmpp.NewClientSession(ctx, mjid.MustParse(user+"@localhost"), conn,
		xmpp.StartTLS(enginetest.ClientTLS()), xmpp.SASL("", "pw", msasl.ScramSha256), xmpp.BindResource())
	if err != nil {
		conn.Close()
		t.Fatalf("mellium login: %v", err)
	}
	go func() { _ = s.Serve(nil) }()
	t.Cleanup(func() { s.Close(); conn.Close() })
	return s
}

func fetch(t *testing.T, s *xmpp.Session) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := blocklist.Fetch(ctx, s)
	defer iter.Close()
	var out []string
	for iter.Next() {
		out = append(out, iter.JID().String())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("blocklist fetch: %v", err)
	}
	slices.Sort(out)
	return out
}

// TestMelliumBlocklist drives the blocking command with an independent client library.
func TestMelliumBlocklist(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt", "iago")
	s := melliumLogin(t, e.ts, "romeo")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got := fetch(t, s); len(got) != 0 {
		t.Fatalf("fresh block list: %v", got)
	}
	if err := blocklist.Add(ctx, s, mjid.MustParse("tybalt@localhost"), mjid.MustParse("iago@localhost")); err != nil {
		t.Fatalf("block: %v", err)
	}
	if got := fetch(t, s); !slices.Equal(got, []string{"iago@localhost", "tybalt@localhost"}) {
		t.Fatalf("block list: %v", got)
	}
	tybalt := e.login("tybalt", "pda", true)
	tybalt.Send("<message to='romeo@localhost' type='chat' id='t1'><body>hi</body></message>")
	if got := tybalt.ReadUntil("</message>"); !strings.Contains(got, "<service-unavailable ") {
		t.Fatalf("blocked sender got %q", got)
	}
	if err := blocklist.Remove(ctx, s, mjid.MustParse("tybalt@localhost")); err != nil {
		t.Fatalf("unblock: %v", err)
	}
	if got := fetch(t, s); !slices.Equal(got, []string{"iago@localhost"}) {
		t.Fatalf("block list after unblock: %v", got)
	}
	if err := blocklist.Remove(ctx, s); err != nil {
		t.Fatalf("unblock all: %v", err)
	}
	if got := fetch(t, s); len(got) != 0 {
		t.Fatalf("block list after unblock all: %v", got)
	}
}
