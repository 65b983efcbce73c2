package disco_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmpp"
	mdisco "mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	mversion "mellium.im/xmpp/version"
	mtime "mellium.im/xmpp/xtime"

	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/version"
)

// melliumLogin logs user in with mellium.im/xmpp (STARTTLS, SCRAM-SHA-256) and serves
// the session until the test ends, so that its iq requests get their answers.
func melliumLogin(t *testing.T, ts *enginetest.Server, user string) *xmpp.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.DialTimeout("tcp", ts.C2S, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(user+"@localhost"), conn,
		xmpp.StartTLS(enginetest.ClientTLS()), xmpp.SASL("", "secret", msasl.ScramSha256), xmpp.BindResource())
	if err != nil {
		conn.Close()
		t.Fatalf("mellium login: %v", err)
	}
	go func() { _ = s.Serve(nil) }()
	t.Cleanup(func() { s.Close(); conn.Close() })
	return s
}

// TestMellium asks the host and an account with an independent client library.
func TestMellium(t *testing.T) {
	ts := start(t, nil)
	s := melliumLogin(t, ts, "romeo")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	host := jid.MustParse("localhost")

	got, err := mdisco.GetInfo(ctx, "", host, s)
	if err != nil {
		t.Fatalf("disco#info of the host: %v", err)
	}
	if !slices.ContainsFunc(got.Identity, func(id info.Identity) bool {
		return id.Category == "server" && id.Type == "im" && id.Name == "Hermod"
	}) {
		t.Errorf("host identities %+v lack server/im", got.Identity)
	}
	for _, f := range []string{mdisco.NSInfo, mdisco.NSItems, "urn:xmpp:ping", mversion.NS, mtime.NS, "vcard-temp", "jabber:iq:last"} {
		if !slices.ContainsFunc(got.Features, func(g info.Feature) bool { return g.Var == f }) {
			t.Errorf("host features %+v lack %s", got.Features, f)
		}
	}

	acct, err := mdisco.GetInfo(ctx, "", jid.MustParse("juliet@localhost"), s)
	if err != nil {
		t.Fatalf("disco#info of a subscribed-to account: %v", err)
	}
	if len(acct.Identity) != 1 || acct.Identity[0].Category != "account" || acct.Identity[0].Type != "registered" {
		t.Errorf("account identities %+v", acct.Identity)
	}
	if _, err := mdisco.GetInfo(ctx, "", jid.MustParse("tybalt@localhost"), s); err == nil {
		t.Error("disco#info of an account that did not share its presence succeeded")
	}

	v, err := mversion.Get(ctx, s, host)
	if err != nil || v.Name != "Hermod" || v.Version != version.BuildVersion() || v.OS != "" {
		t.Errorf("software version = %+v, %v", v, err)
	}
	now, err := mtime.Get(ctx, s, host)
	if err != nil || now.Sub(time.Now()).Abs() > time.Minute {
		t.Errorf("entity time = %v, %v", now, err)
	}
}
