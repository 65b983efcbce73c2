package vcard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/vcard"
	"github.com/hermod-im/hermod/stanza/jid"
)

const errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"

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

// The vCard of XEP-0054's examples, shortened; whitespace, attributes and a multi-byte
// character kept so that "verbatim" is tested.
const peterCard = `<vCard xmlns='vcard-temp'>
    <FN>Peter Saint-Andre</FN>
    <N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N>
    <NICKNAME>stpeter</NICKNAME>
    <URL>http://www.xmpp.org/xsf/people/stpeter.shtml</URL>
    <TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL>
    <JABBERID>stpeter@jabber.org</JABBERID>
    <DESC>More information &amp; more: Zoë</DESC>
  </vCard>`

func TestVCard(t *testing.T) {
	var srv *engine.Server
	ts := enginetest.Start(t, enginetest.WithModule(vcard.Name, vcard.New, map[string]any{"max_size": 1000}),
		enginetest.WithServer(&srv))
	ts.AddUser("stpeter", "secret")
	ts.AddUser("jer", "secret")
	ts.AddUser("nocard", "secret")
	p := ts.Login(t, "stpeter", "secret", "roundabout")
	j := ts.Login(t, "jer", "secret", "home")
	const pj, jj = "stpeter@localhost/roundabout", "jer@localhost/home"

	// 3.1: no vCard yet: an empty one.
	exchange(t, p, "<iq id='v1' type='get'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v1' to='"+pj+"'><vCard xmlns='vcard-temp'/></iq>")
	// 3.2: publish.
	exchange(t, p, "<iq id='v2' type='set'>"+peterCard+"</iq>", "<iq type='result' id='v2' to='"+pj+"'/>")
	// 3.1 again: the vCard comes back verbatim, with 'to' or without.
	exchange(t, p, "<iq id='v1b' type='get'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v1b' to='"+pj+"'>"+peterCard+"</iq>")
	exchange(t, p, "<iq id='v1c' type='get' to='stpeter@localhost'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v1c' to='"+pj+"' from='stpeter@localhost'>"+peterCard+"</iq>")
	// 3.3: another user reads it at the bare JID.
	exchange(t, j, "<iq id='v3' type='get' to='stpeter@localhost'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v3' to='"+jj+"' from='stpeter@localhost'>"+peterCard+"</iq>")
	// 3.2: nobody else may change it.
	exchange(t, j, "<iq id='v4' to='stpeter@localhost' type='set'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>",
		"<iq type='error' id='v4' to='"+jj+"' from='stpeter@localhost'><error type='auth'><forbidden"+errNS)
	exchange(t, j, "<iq id='v4b' to='localhost' type='set'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>",
		"<iq type='error' id='v4b' to='"+jj+"' from='localhost'><error type='auth'><forbidden"+errNS)
	exchange(t, p, "<iq id='v5' type='get'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v5' to='"+pj+"'>"+peterCard+"</iq>")
	// 3.3: no vCard and no such user give the same error.
	for _, who := range []string{"nocard@localhost", "nobody@localhost"} {
		exchange(t, j, "<iq id='v6' type='get' to='"+who+"'><vCard xmlns='vcard-temp'/></iq>",
			"<iq type='error' id='v6' to='"+jj+"' from='"+who+"'><error type='cancel'><service-unavailable"+errNS)
	}
	// The host has no vCard of its own.
	exchange(t, j, "<iq id='v7' type='get' to='localhost'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v7' to='"+jj+"' from='localhost'><vCard xmlns='vcard-temp'/></iq>")
	// Not a <vCard/>.
	exchange(t, j, "<iq id='v8' type='get'><card xmlns='vcard-temp'/></iq>",
		"<iq type='error' id='v8' to='"+jj+"'><error type='modify'><bad-request"+errNS)
	// Over max_size: refused, the old vCard kept.
	big := "<vCard xmlns='vcard-temp'><DESC>" + strings.Repeat("x", 1000) + "</DESC></vCard>"
	exchange(t, p, "<iq id='v9' type='set'>"+big+"</iq>",
		"<iq type='error' id='v9' to='"+pj+"'><error type='modify'><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"+
			"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>vCard larger than 1000 bytes</text></error></iq>")
	exchange(t, j, "<iq id='v10' type='get' to='stpeter@localhost'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v10' to='"+jj+"' from='stpeter@localhost'>"+peterCard+"</iq>")
	// Replaced as a whole (no partial updates in XEP-0054).
	exchange(t, p, "<iq id='v11' type='set'><vCard xmlns='vcard-temp'><FN>P</FN></vCard></iq>", "<iq type='result' id='v11' to='"+pj+"'/>")
	exchange(t, j, "<iq id='v12' type='get' to='stpeter@localhost'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='result' id='v12' to='"+jj+"' from='stpeter@localhost'><vCard xmlns='vcard-temp'><FN>P</FN></vCard></iq>")

	// A removed account's vCard goes with it.
	srv.RemoveUser(jid.MustParse("stpeter@localhost"))
	_, err := ts.Store.(backends.VCards).VCard(context.Background(), "localhost", "stpeter")
	if !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("vCard of a removed user: %v, want ErrNotFound", err)
	}
}

func TestVCardOfDeletedAccountNotServed(t *testing.T) {
	// An account deleted behind the server's back (no user-removed event) must not
	// keep publishing its vCard.
	ts := enginetest.Start(t, enginetest.WithModule(vcard.Name, vcard.New, nil))
	ts.AddUser("ghost", "secret")
	ts.AddUser("jer", "secret")
	ctx := context.Background()
	if err := ts.Store.(backends.VCards).SetVCard(ctx, "localhost", "ghost", []byte("<vCard xmlns='vcard-temp'><FN>Boo</FN></vCard>")); err != nil {
		t.Fatal(err)
	}
	if err := ts.Store.DeleteAccount(ctx, "localhost", "ghost"); err != nil {
		t.Fatal(err)
	}
	j := ts.Login(t, "jer", "secret", "home")
	exchange(t, j, "<iq id='g1' type='get' to='ghost@localhost'><vCard xmlns='vcard-temp'/></iq>",
		"<iq type='error' id='g1' to='jer@localhost/home' from='ghost@localhost'><error type='cancel'><service-unavailable"+errNS)
	if got := j.Next(300 * time.Millisecond); got != "" {
		t.Fatalf("unexpected %q", got)
	}
}

func TestOptions(t *testing.T) {
	for _, bad := range []int{0, -1, backends.MaxVCardLen + 1} {
		_, err := vcard.New(engine.ModuleConfig{Name: vcard.Name, Decode: func(v any) error {
			v.(*vcard.Options).MaxSize = bad
			return nil
		}})
		if err == nil {
			t.Errorf("max_size %d accepted", bad)
		}
	}
}
