package carbons_test

import (
	"context"
	"encoding/xml"
	"net"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	mcarbons "mellium.im/xmpp/carbons"
	mjid "mellium.im/xmpp/jid"

	"github.com/hermod-im/hermod/engine/enginetest"
)

// TestMellium enables and disables carbons with an independent client library and
// checks that copies come and go accordingly.
func TestMellium(t *testing.T) {
	ts := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.DialTimeout("tcp", ts.C2S, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xmpp.NewClientSession(ctx, mjid.MustParse("romeo@localhost"), conn,
		xmpp.StartTLS(enginetest.ClientTLS()), xmpp.SASL("", "pw", msasl.ScramSha256), xmpp.BindResource())
	if err != nil {
		t.Fatalf("mellium login: %v", err)
	}
	copies := make(chan string, 8)
	go func() {
		_ = s.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var sb strings.Builder
			for {
				tok, err := r.Token()
				if err != nil {
					break
				}
				if se, ok := tok.(xml.StartElement); ok {
					sb.WriteString("<" + se.Name.Space + " " + se.Name.Local + ">")
				}
				if cd, ok := tok.(xml.CharData); ok {
					sb.Write(cd)
				}
			}
			copies <- sb.String()
			return nil
		}))
	}()
	t.Cleanup(func() { s.Close(); conn.Close() })

	if err := mcarbons.Enable(ctx, s); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if err := mcarbons.Enable(ctx, s); err != nil {
		t.Fatalf("enable again: %v", err)
	}
	// Another resource of the account sends: the mellium session gets the <sent/> copy.
	home := login(t, ts, "romeo", "home", "0")
	balcony := login(t, ts, "juliet", "balcony", "0")
	home.Send("<message to='juliet@localhost/balcony' type='chat'><body>via home</body></message>")
	balcony.ReadUntil("via home")
	select {
	case got := <-copies:
		if !strings.Contains(got, "<urn:xmpp:carbons:2 sent><urn:xmpp:forward:0 forwarded><jabber:client message><jabber:client body>via home") {
			t.Fatalf("copy as mellium reads it: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no copy reached the mellium session")
	}
	if err := mcarbons.Disable(ctx, s); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if err := mcarbons.Disable(ctx, s); err != nil {
		t.Fatalf("disable again: %v", err)
	}
	home.Send("<message to='juliet@localhost/balcony' type='chat'><body>after disable</body></message>")
	balcony.ReadUntil("after disable")
	select {
	case got := <-copies:
		t.Fatalf("a copy after disable: %q", got)
	case <-time.After(300 * time.Millisecond):
	}
}
