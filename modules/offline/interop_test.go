package offline

import (
	"bytes"
	"context"
	"encoding/xml"
	"net"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	mdelay "mellium.im/xmpp/delay"
	"mellium.im/xmpp/jid"
	mstanza "mellium.im/xmpp/stanza"

	"github.com/hermod-im/hermod/engine/enginetest"
)

// TestMellium receives an offline message with an independent client library, which
// parses its XEP-0203 delay.
func TestMellium(t *testing.T) {
	clk := &clock{}
	clk.t.Store(time.Date(2026, 11, 26, 19, 0, 0, 250_000_000, time.UTC).UnixMilli())
	ts := users(t, withModule(nil, clk))
	r := ts.Login(t, "romeo", "secret", "orchard")
	r.Send("<message to='juliet@localhost' type='chat' id='mx'><body>Wilt thou be gone?</body></message>")
	waitCount(t, ts.Store, "juliet", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.DialTimeout("tcp", ts.C2S, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xmpp.NewClientSession(ctx, jid.MustParse("juliet@localhost"), conn,
		xmpp.StartTLS(enginetest.ClientTLS()), xmpp.SASL("", "secret", msasl.ScramSha256), xmpp.BindResource())
	if err != nil {
		conn.Close()
		t.Fatalf("mellium login: %v", err)
	}
	t.Cleanup(func() { s.Close(); conn.Close() })

	type message struct {
		XMLName xml.Name     `xml:"message"`
		From    string       `xml:"from,attr"`
		Body    string       `xml:"body"`
		Delay   mdelay.Delay `xml:"urn:xmpp:delay delay"`
	}
	got := make(chan message, 4)
	go func() {
		_ = s.Serve(xmpp.HandlerFunc(func(tr xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var buf bytes.Buffer
			enc := xml.NewEncoder(&buf)
			if _, err := xmlstream.Copy(enc, xmlstream.Wrap(xmlstream.Inner(tr), *start)); err != nil {
				return err
			}
			_ = enc.Flush()
			var m message
			if err := xml.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Errorf("unmarshal %s: %v", buf.String(), err)
			}
			got <- m
			return nil
		}))
	}()
	if err := s.Send(ctx, mstanza.Presence{}.Wrap(nil)); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		want := time.Date(2026, 11, 26, 19, 0, 0, 250_000_000, time.UTC)
		if m.From != rj || m.Body != "Wilt thou be gone?" || !m.Delay.Time.Equal(want) ||
			m.Delay.From.String() != "localhost" || m.Delay.Reason != "Offline Storage" {
			t.Fatalf("got %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no offline message")
	}
}
