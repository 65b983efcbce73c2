package disco_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/disco"
	"github.com/hermod-im/hermod/modules/last"
	xtime "github.com/hermod-im/hermod/modules/time"
	"github.com/hermod-im/hermod/modules/vcard"
	"github.com/hermod-im/hermod/modules/version"
)

const errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"

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

// start serves disco with opts next to modules that register host and account
// features (mod_disco starts first: its name sorts first), with users romeo, juliet
// and tybalt; juliet's roster has romeo as 'from' and tybalt as 'to'.
func start(t *testing.T, opts map[string]any) *enginetest.Server {
	t.Helper()
	ts := enginetest.Start(t,
		enginetest.WithModule(disco.Name, disco.New, opts),
		enginetest.WithModule(xtime.Name, xtime.New, nil),
		enginetest.WithModule(version.Name, version.New, nil),
		enginetest.WithModule(vcard.Name, vcard.New, nil),
		enginetest.WithModule(last.Name, last.New, nil))
	for _, u := range []string{"romeo", "juliet", "tybalt"} {
		ts.AddUser(u, "secret")
	}
	rs := ts.Store.(backends.Rosters)
	for _, it := range []backends.RosterItem{
		{Contact: "romeo@localhost", Subscription: backends.SubFrom},
		{Contact: "tybalt@localhost", Subscription: backends.SubTo},
	} {
		if _, err := rs.PutRosterItem(context.Background(), "localhost", "juliet", it); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

const hostFeatures = "<feature var='http://jabber.org/protocol/disco#info'/>" +
	"<feature var='http://jabber.org/protocol/disco#items'/>" +
	"<feature var='jabber:iq:last'/>" +
	"<feature var='jabber:iq:version'/>" +
	"<feature var='urn:xmpp:ping'/>" +
	"<feature var='urn:xmpp:time'/>" +
	"<feature var='vcard-temp'/>"

const accountInfo = "<query xmlns='http://jabber.org/protocol/disco#info'>" +
	"<identity category='account' type='registered'/>" +
	"<feature var='http://jabber.org/protocol/disco#info'/>" +
	"<feature var='http://jabber.org/protocol/disco#items'/>" +
	"<feature var='jabber:iq:last'/>" +
	"<feature var='vcard-temp'/>" +
	"</query>"

func TestHost(t *testing.T) {
	ts := start(t, nil)
	c := ts.Login(t, "romeo", "secret", "orchard")
	const rj = "romeo@localhost/orchard"
	// XEP-0030 example 1/2, and example 15/16 with no items configured.
	exchange(t, c, "<iq type='get' to='localhost' id='info1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
		"<iq type='result' id='info1' to='"+rj+"' from='localhost'><query xmlns='http://jabber.org/protocol/disco#info'>"+
			"<identity category='server' type='im' name='Hermod'/>"+hostFeatures+"</query></iq>")
	exchange(t, c, "<iq type='get' to='localhost' id='items1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
		"<iq type='result' id='items1' to='"+rj+"' from='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
	for _, tc := range []struct{ name, req, want string }{
		// Example 9/10: an unknown node.
		{"info of a node", "<iq type='get' to='localhost' id='n1'><query xmlns='http://jabber.org/protocol/disco#info' node='music'/></iq>",
			"<iq type='error' id='n1' to='" + rj + "' from='localhost'><error type='cancel'><item-not-found" + errNS},
		{"items of a node", "<iq type='get' to='localhost' id='n2'><query xmlns='http://jabber.org/protocol/disco#items' node='music'/></iq>",
			"<iq type='error' id='n2' to='" + rj + "' from='localhost'><error type='cancel'><item-not-found" + errNS},
		{"set", "<iq type='set' to='localhost' id='s1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='error' id='s1' to='" + rj + "' from='localhost'><error type='cancel'><not-allowed" + errNS},
		{"not a query", "<iq type='get' to='localhost' id='q1'><info xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='error' id='q1' to='" + rj + "' from='localhost'><error type='modify'><bad-request" + errNS},
	} {
		t.Run(tc.name, func(t *testing.T) { exchange(t, c, tc.req, tc.want) })
	}
}

func TestHostConfigured(t *testing.T) {
	ts := start(t, map[string]any{
		"name": "Capulet & Co",
		"items": []map[string]any{
			{"jid": "conference.localhost", "name": "Chatrooms"},
			{"jid": "Upload.LOCALHOST", "node": "files"},
		},
		"server_info": map[string]any{
			"admin-addresses": []any{"xmpp:admin@localhost", "mailto:admin@example.org"},
			"abuse-addresses": []any{"mailto:abuse@example.org"},
		},
	})
	c := ts.Login(t, "romeo", "secret", "orchard")
	const rj = "romeo@localhost/orchard"
	// XEP-0157 example: the form after identities and features.
	exchange(t, c, "<iq type='get' to='localhost' id='info1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
		"<iq type='result' id='info1' to='"+rj+"' from='localhost'><query xmlns='http://jabber.org/protocol/disco#info'>"+
			"<identity category='server' type='im' name='Capulet &amp; Co'/>"+hostFeatures+
			"<x xmlns='jabber:x:data' type='result'>"+
			"<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>"+
			"<field var='abuse-addresses'><value>mailto:abuse@example.org</value></field>"+
			"<field var='admin-addresses'><value>xmpp:admin@localhost</value><value>mailto:admin@example.org</value></field>"+
			"</x></query></iq>")
	exchange(t, c, "<iq type='get' to='localhost' id='items1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
		"<iq type='result' id='items1' to='"+rj+"' from='localhost'><query xmlns='http://jabber.org/protocol/disco#items'>"+
			"<item jid='conference.localhost' name='Chatrooms'/><item jid='upload.localhost' node='files'/></query></iq>")
}

func TestAccounts(t *testing.T) {
	ts := start(t, nil)
	r := ts.Login(t, "romeo", "secret", "orchard")
	j := ts.Login(t, "juliet", "secret", "balcony")
	tyb := ts.Login(t, "tybalt", "secret", "street")
	const rj, jj, tj = "romeo@localhost/orchard", "juliet@localhost/balcony", "tybalt@localhost/street"
	for _, tc := range []struct {
		name string
		c    *enginetest.Raw
		req  string
		want string
	}{
		{"own account, no 'to'", j, "<iq type='get' id='a1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='result' id='a1' to='" + jj + "'>" + accountInfo + "</iq>"},
		{"own bare JID", j, "<iq type='get' to='juliet@localhost' id='a2'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='result' id='a2' to='" + jj + "' from='juliet@localhost'>" + accountInfo + "</iq>"},
		{"a subscriber ('from')", r, "<iq type='get' to='juliet@localhost' id='a3'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='result' id='a3' to='" + rj + "' from='juliet@localhost'>" + accountInfo + "</iq>"},
		{"a subscriber's items", r, "<iq type='get' to='juliet@localhost' id='a4'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
			"<iq type='result' id='a4' to='" + rj + "' from='juliet@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"},
		{"a contact she is subscribed to ('to' only)", tyb, "<iq type='get' to='juliet@localhost' id='a5'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='error' id='a5' to='" + tj + "' from='juliet@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"not in the roster", j, "<iq type='get' to='romeo@localhost' id='a6'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='error' id='a6' to='" + jj + "' from='romeo@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"items, not in the roster", j, "<iq type='get' to='romeo@localhost' id='a7'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
			"<iq type='error' id='a7' to='" + jj + "' from='romeo@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"no such account", r, "<iq type='get' to='nobody@localhost' id='a8'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='error' id='a8' to='" + rj + "' from='nobody@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"a node of an account", j, "<iq type='get' id='a9'><query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>",
			"<iq type='error' id='a9' to='" + jj + "'><error type='cancel'><item-not-found" + errNS},
	} {
		t.Run(tc.name, func(t *testing.T) { exchange(t, tc.c, tc.req, tc.want) })
	}
}

func TestOptions(t *testing.T) {
	for name, opts := range map[string]disco.Options{
		"bad item JID":       {Items: []disco.Item{{JID: "a@@b"}}},
		"empty item JID":     {Items: []disco.Item{{}}},
		"unknown info field": {ServerInfo: map[string][]string{"admin-address": {"mailto:a@b"}}},
	} {
		_, err := disco.New(engine.ModuleConfig{Name: disco.Name, Decode: func(v any) error {
			*v.(*disco.Options) = opts
			return nil
		}})
		if err == nil || !strings.Contains(err.Error(), disco.Name) {
			t.Errorf("%s: New = %v, want an error naming the module", name, err)
		}
	}
}
