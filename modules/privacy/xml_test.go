package privacy

import (
	"reflect"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza"
)

func parseListXML(raw []byte, maxItems int) (backends.PrivacyList, error) {
	el, err := stanza.ParseIn(raw, NSPrivacy)
	if err != nil {
		return backends.PrivacyList{}, err
	}
	defer el.Release()
	return parseList(el, maxItems)
}

func TestListRoundTrip(t *testing.T) {
	in := "<list name='public'>" +
		"<item type='jid' value='Tybalt@Example.com/pda' action='deny' order='1'><message/><presence-out/></item>" +
		"<item type='group' value='Enemies &amp; co' action='deny' order='4'><iq/><presence-in/></item>" +
		"<item type='subscription' value='none' action='allow' order='3'><message/><iq/><presence-in/><presence-out/></item>" +
		"<item action='allow' order='68'/></list>"
	l, err := parseListXML([]byte(in), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := backends.PrivacyList{Name: "public", Items: []backends.PrivacyItem{
		{Type: backends.PrivacyJID, Value: "tybalt@example.com/pda", Deny: true, Order: 1, Stanzas: backends.PrivacyMessage | backends.PrivacyPresenceOut},
		{Type: backends.PrivacySubscription, Value: "none", Order: 3}, // all four children: stored as none
		{Type: backends.PrivacyGroup, Value: "Enemies & co", Deny: true, Order: 4, Stanzas: backends.PrivacyIQ | backends.PrivacyPresenceIn},
		{Order: 68},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("parsed\n %+v\nwant\n %+v", l, want)
	}
	var b stanza.Builder
	appendList(&b, &l)
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	const wantXML = "<list name='public'>" +
		"<item type='jid' value='tybalt@example.com/pda' action='deny' order='1'><message/><presence-out/></item>" +
		"<item type='subscription' value='none' action='allow' order='3'/>" +
		"<item type='group' value='Enemies &amp; co' action='deny' order='4'><iq/><presence-in/></item>" +
		"<item action='allow' order='68'/></list>"
	if string(out) != wantXML {
		t.Fatalf("serialised\n %s\nwant\n %s", out, wantXML)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"<list name='public'><item type='jid' value='tybalt@example.com' action='deny' order='1'/><item action='allow' order='2'/></list>",
		"<list name='x'><item type='group' value='Enemies' action='deny' order='4'><message/></item></list>",
		"<list name='x'><item type='subscription' value='both' action='allow' order='10'><presence-in/><presence-out/><iq/></item><item action='deny' order='15'/></list>",
		"<list name='x'><item type='jid' value='example.com/pda' action='deny' order='4294967295'/></list>",
		"<list name='x'><item action='deny' order='1'/><item action='deny' order='1'/></list>",
		"<list/>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		l, err := parseListXML(raw, 16)
		if err != nil {
			return
		}
		s := backends.PrivacySettings{Lists: []backends.PrivacyList{l}}
		if err := s.Validate(); err != nil {
			t.Fatalf("parseList accepted a list storage refuses: %v\n%+v", err, l)
		}
		var b stanza.Builder
		appendList(&b, &l)
		out, err := b.Finish()
		if err != nil {
			t.Fatalf("serialise: %v", err)
		}
		again, err := parseListXML(out, 16)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, l) {
			t.Fatalf("round trip changed the list:\n %+v\n %+v", l, again)
		}
	})
}
