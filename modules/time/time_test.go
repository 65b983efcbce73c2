package time

import (
	"strings"
	"testing"
	stdtime "time"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
)

func TestAppendTime(t *testing.T) {
	at := stdtime.Date(2006, 12, 19, 17, 58, 35, 123456789, stdtime.UTC)
	for _, c := range []struct {
		zone *stdtime.Location
		tzo  string
	}{
		{stdtime.UTC, "+00:00"},
		{stdtime.FixedZone("MDT", -6*3600), "-06:00"},
		{stdtime.FixedZone("IST", 5*3600+1800), "+05:30"},
		{stdtime.FixedZone("NST", -(3*3600 + 1800)), "-03:30"},
	} {
		got := string(AppendTime(nil, at.In(c.zone)))
		want := "<time xmlns='urn:xmpp:time'><tzo>" + c.tzo + "</tzo><utc>2006-12-19T17:58:35Z</utc></time>"
		if got != want {
			t.Errorf("zone %s:\n got  %s\n want %s", c.zone, got, want)
		}
	}
}

// fixedClock is New with a clock stopped at the XEP's example time, at UTC-6.
func fixedClock(mc engine.ModuleConfig) (engine.Module, error) {
	m, err := New(mc)
	if err != nil {
		return nil, err
	}
	m.(*Module).now = func() stdtime.Time {
		return stdtime.Date(2006, 12, 19, 11, 58, 35, 0, stdtime.FixedZone("", -6*3600))
	}
	return m, nil
}

func TestEntityTime(t *testing.T) {
	ts := enginetest.Start(t, enginetest.WithModule(Name, fixedClock, nil))
	ts.AddUser("romeo", "secret")
	ts.AddUser("juliet", "secret")
	c := ts.Login(t, "romeo", "secret", "orchard")
	const errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
	for _, tc := range []struct{ name, send, want string }{
		{"the XEP's example, to the server",
			"<iq type='get' to='localhost' id='time_1'><time xmlns='urn:xmpp:time'/></iq>",
			"<iq type='result' id='time_1' to='romeo@localhost/orchard' from='localhost'>" +
				"<time xmlns='urn:xmpp:time'><tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc></time></iq>"},
		{"set is not allowed",
			"<iq type='set' to='localhost' id='t2'><time xmlns='urn:xmpp:time'/></iq>",
			"<iq type='error' id='t2' to='romeo@localhost/orchard' from='localhost'><error type='cancel'><not-allowed" + errNS},
		{"another account's bare JID",
			"<iq type='get' to='juliet@localhost' id='t3'><time xmlns='urn:xmpp:time'/></iq>",
			"<iq type='error' id='t3' to='romeo@localhost/orchard' from='juliet@localhost'><error type='cancel'><service-unavailable" + errNS},
		{"the own account, without 'to'",
			"<iq type='get' id='t4'><time xmlns='urn:xmpp:time'/></iq>",
			"<iq type='error' id='t4' to='romeo@localhost/orchard'><error type='cancel'><service-unavailable" + errNS},
		{"another element in the namespace",
			"<iq type='get' to='localhost' id='t5'><clock xmlns='urn:xmpp:time'/></iq>",
			"<iq type='error' id='t5' to='romeo@localhost/orchard' from='localhost'><error type='modify'><bad-request" + errNS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Send(tc.send)
			if got := c.ReadUntil("</iq>"); got != tc.want {
				t.Fatalf("\n got  %s\n want %s", got, tc.want)
			}
			c.Buf.Reset()
		})
	}
	if strings.Contains(c.Next(300*stdtime.Millisecond), "<iq") {
		t.Fatal("more than one answer")
	}
}
