package private_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/private"
	"github.com/hermod-im/hermod/stanza/jid"
)

const errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"

// exchange sends req on c and fails t unless the answer is exactly want.
func exchange(t *testing.T, c *enginetest.Raw, req, want string) {
	t.Helper()
	c.Buf.Reset()
	c.Send(req)
	end := "</iq>"
	if strings.HasSuffix(want, "/>") {
		end = want
	}
	if got := c.ReadUntil(end); got != want {
		t.Fatalf("answer to %s\n got  %s\n want %s", req, got, want)
	}
	c.Buf.Reset()
}

func TestPrivateXML(t *testing.T) {
	var srv *engine.Server
	ts := enginetest.Start(t, enginetest.WithModule(private.Name, private.New, nil), enginetest.WithServer(&srv))
	ts.AddUser("hamlet", "secret")
	ts.AddUser("macbeth", "secret")
	h := ts.Login(t, "hamlet", "secret", "denmark")
	h2 := ts.Login(t, "hamlet", "secret", "elsinore")
	m := ts.Login(t, "macbeth", "secret", "castle")
	const hj, mj = "hamlet@localhost/denmark", "macbeth@localhost/castle"
	const prefs = `<exodus xmlns="exodus:prefs">
      <defaultnick>Hamlet</defaultnick>
    </exodus>`
	// The fragment as stored: the serialiser writes namespace declarations with
	// single quotes; everything else is kept as sent.
	stored := strings.ReplaceAll(prefs, `"exodus:prefs"`, `'exodus:prefs'`)

	// Example 1: store.
	exchange(t, h, `<iq type="set" id="1001"><query xmlns="jabber:iq:private">`+prefs+`</query></iq>`,
		"<iq type='result' id='1001' to='"+hj+"'/>")
	// Example 2: retrieve, from another resource, with and without 'to'.
	exchange(t, h2, `<iq type="get" id="1002"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
		"<iq type='result' id='1002' to='hamlet@localhost/elsinore'><query xmlns='jabber:iq:private'>"+stored+"</query></iq>")
	exchange(t, h, `<iq type="get" id="1002b" to="hamlet@localhost"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
		"<iq type='result' id='1002b' to='"+hj+"' from='hamlet@localhost'><query xmlns='jabber:iq:private'>"+stored+"</query></iq>")
	// Example 3: another user may neither write nor read it.
	exchange(t, m, `<iq type="set" to="hamlet@localhost" id="1003"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"><defaultnick>Macbeth</defaultnick></exodus></query></iq>`,
		"<iq type='error' id='1003' to='"+mj+"' from='hamlet@localhost'><error type='auth'><forbidden"+errNS+"</error></iq>")
	exchange(t, m, `<iq type="get" to="hamlet@localhost" id="1003b"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
		"<iq type='error' id='1003b' to='"+mj+"' from='hamlet@localhost'><error type='auth'><forbidden"+errNS+"</error></iq>")
	exchange(t, m, `<iq type="get" to="localhost" id="1003c"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
		"<iq type='error' id='1003c' to='"+mj+"' from='localhost'><error type='auth'><forbidden"+errNS+"</error></iq>")
	// Macbeth's own namespace of the same name is his alone.
	exchange(t, m, `<iq type="get" id="m1"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
		"<iq type='result' id='m1' to='"+mj+"'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>")
	exchange(t, h, `<iq type="get" id="1002c"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
		"<iq type='result' id='1002c' to='"+hj+"'><query xmlns='jabber:iq:private'>"+stored+"</query></iq>")
	// Example 4: no child.
	exchange(t, h, `<iq type="set" id="1004"><query xmlns="jabber:iq:private"/></iq>`,
		"<iq type='error' id='1004' to='"+hj+"'><error type='modify'><bad-request"+errNS+"</error></iq>")
	// Example 5 and the other reserved namespaces.
	for _, child := range []string{
		`<vCard xmlns="vcard-temp"><FN>Hamlet</FN></vCard>`,
		`<x xmlns="jabber:x:data"/>`,
		`<query xmlns="http://jabber.org/protocol/disco#info"/>`,
		`<plain/>`,         // inherits jabber:iq:private
		`<none xmlns=""/>`, // no namespace at all
	} {
		exchange(t, h, `<iq type="set" id="1005"><query xmlns="jabber:iq:private">`+child+`</query></iq>`,
			"<iq type='error' id='1005' to='"+hj+"'><error type='modify'><not-acceptable"+errNS+
				"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>namespace '"+nsOf(child)+"' is reserved</text></error></iq>")
	}
	// A get names one namespace.
	exchange(t, h, `<iq type="get" id="g2"><query xmlns="jabber:iq:private"><a xmlns="urn:a"/><b xmlns="urn:b"/></query></iq>`,
		"<iq type='error' id='g2' to='"+hj+"'><error type='modify'><bad-request"+errNS+
			"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>one namespace per get</text></error></iq>")
	// A set with two elements of one namespace, and another namespace (prefixed).
	exchange(t, h, `<iq type="set" id="s2"><query xmlns="jabber:iq:private"><a xmlns="urn:a">1</a><p:b xmlns:p="urn:b"/><a xmlns="urn:a">2</a></query></iq>`,
		"<iq type='result' id='s2' to='"+hj+"'/>")
	exchange(t, h, `<iq type="get" id="g3"><query xmlns="jabber:iq:private"><a xmlns="urn:a"/></query></iq>`,
		"<iq type='result' id='g3' to='"+hj+"'><query xmlns='jabber:iq:private'><a xmlns='urn:a'>1</a><a xmlns='urn:a'>2</a></query></iq>")
	exchange(t, h, `<iq type="get" id="g4"><query xmlns="jabber:iq:private"><q:b xmlns:q="urn:b"/></query></iq>`,
		"<iq type='result' id='g4' to='"+hj+"'><query xmlns='jabber:iq:private'><p:b xmlns:p='urn:b'/></query></iq>")
	exchange(t, h, `<iq type="get" id="g5"><query xmlns="jabber:iq:private"><q:c xmlns:q="urn:c"/></query></iq>`,
		"<iq type='result' id='g5' to='"+hj+"'><query xmlns='jabber:iq:private'><q:c xmlns:q='urn:c'/></query></iq>")
	// Not a <query/>.
	exchange(t, h, `<iq type="get" id="g6"><storage xmlns="jabber:iq:private"/></iq>`,
		"<iq type='error' id='g6' to='"+hj+"'><error type='modify'><bad-request"+errNS+"</error></iq>")

	// A removed account's data goes with it.
	srv.RemoveUser(jid.MustParse("hamlet@localhost"))
	_, err := ts.Store.(backends.PrivateXML).PrivateXML(context.Background(), "localhost", "hamlet", "exodus:prefs")
	if !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("private XML of a removed user: %v, want ErrNotFound", err)
	}
}

// nsOf returns the namespace a test child declares ("" for none, the inherited one
// for <plain/>).
func nsOf(child string) string {
	if !strings.Contains(child, "xmlns") {
		return private.NS
	}
	i := strings.Index(child, `xmlns="`) + len(`xmlns="`)
	return child[i : i+strings.IndexByte(child[i:], '"')]
}

func TestReserved(t *testing.T) {
	for ns, want := range map[string]bool{
		"": true, "vcard-temp": true, "jabber:iq:private": true, "jabber:x:data": true,
		"http://jabber.org/protocol/disco#info": true,
		"storage:bookmarks":                     false, "exodus:prefs": false, "urn:xmpp:bookmarks:1": false,
		"vcard-temp2": false, "http://jabber.org": false, "https://jabber.org/x": false,
	} {
		if got := private.Reserved(ns); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", ns, got, want)
		}
	}
}
