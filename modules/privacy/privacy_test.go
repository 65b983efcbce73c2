package privacy_test

import (
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

const q = "<query xmlns='jabber:iq:privacy'>"

// The lists of XEP-0016 section 2.3, with example.com and example.org read as
// localhost.
const (
	listPublic = q + "<list name='public'>" +
		"<item type='jid' value='tybalt@localhost' action='deny' order='1'/>" +
		"<item action='allow' order='2'/></list></query>"
	listPrivate = q + "<list name='private'>" +
		"<item type='subscription' value='both' action='allow' order='10'/>" +
		"<item action='deny' order='15'/></list></query>"
	listSpecial = q + "<list name='special'>" +
		"<item type='jid' value='juliet@localhost' action='allow' order='6'/>" +
		"<item type='jid' value='benvolio@localhost' action='allow' order='7'/>" +
		"<item type='jid' value='mercutio@localhost' action='allow' order='42'/>" +
		"<item action='deny' order='666'/></list></query>"
)

// TestRetrieveAndManage walks sections 2.3 to 2.8 with the XEP's own requests.
func TestRetrieveAndManage(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt")
	orchard := e.login("romeo", "orchard", true)

	wantResult(t, iq(t, orchard, "empty1", "get", q+"</query>"))
	for _, l := range []string{listPublic, listPrivate, listSpecial} {
		wantResult(t, iq(t, orchard, "add", "set", l))
	}
	wantResult(t, iq(t, orchard, "default1", "set", q+"<default name='public'/></query>"))
	wantResult(t, iq(t, orchard, "active1", "set", q+"<active name='private'/></query>"))

	// Example 1-2: names, preceded by the active and the default list.
	got := iq(t, orchard, "getlist1", "get", q+"</query>")
	want := "<query xmlns='jabber:iq:privacy'><active name='private'/><default name='public'/>" +
		"<list name='private'/><list name='public'/><list name='special'/></query>"
	if !strings.Contains(got, want) || !strings.Contains(got, "type='result'") {
		t.Fatalf("getlist1: %q, want %q", got, want)
	}
	// Examples 3-8: each list, as stored.
	for id, l := range map[string]string{"getlist2": listPublic, "getlist3": listPrivate, "getlist4": listSpecial} {
		name := l[strings.Index(l, "name='")+6:]
		name = name[:strings.IndexByte(name, '\'')]
		got := iq(t, orchard, id, "get", q+"<list name='"+name+"'/></query>")
		if !strings.Contains(got, l) {
			t.Fatalf("%s: %q, want %q", id, got, l)
		}
	}
	// Example 9-10: a list that does not exist; more than one list.
	wantError(t, iq(t, orchard, "getlist5", "get", q+"<list name='The Empty Set'/></query>"), "item-not-found")
	wantError(t, iq(t, orchard, "getlist6", "get", q+"<list name='public'/><list name='private'/><list name='special'/></query>"), "bad-request")

	// Section 2.4: a missing active list; declining.
	wantError(t, iq(t, orchard, "active2", "set", q+"<active name='The Empty Set'/></query>"), "item-not-found")
	wantResult(t, iq(t, orchard, "active3", "set", q+"<active/></query>"))
	if got := iq(t, orchard, "n2", "get", q+"</query>"); strings.Contains(got, "<active") {
		t.Fatalf("active list still named after declining: %q", got)
	}
	// Section 2.5: a missing default list.
	wantError(t, iq(t, orchard, "default1b", "set", q+"<default name='The Empty Set'/></query>"), "item-not-found")

	// A set with two children is a bad request (section 2.1).
	wantError(t, iq(t, orchard, "two", "set", q+"<active/><default/></query>"), "bad-request")

	// Section 2.8: removal; removing a missing list.
	wantResult(t, iq(t, orchard, "remove1", "set", q+"<list name='special'/></query>"))
	// The push names the removed list.
	expect(t, orchard, "</iq>", "<list name='special'/>", "type='set'")
	wantError(t, iq(t, orchard, "remove2", "set", q+"<list name='special'/></query>"), "item-not-found")
	// Removing the default list (used by no other resource) clears the default.
	wantResult(t, iq(t, orchard, "remove3", "set", q+"<list name='public'/></query>"))
	if got := iq(t, orchard, "n3", "get", q+"</query>"); strings.Contains(got, "<default") || strings.Contains(got, "'public'") {
		t.Fatalf("after removing the default list: %q", got)
	}
}

func TestBadLists(t *testing.T) {
	e := start(t, nil, map[string]any{"max_items": 3, "max_lists": 2})
	e.users("romeo")
	e.roster("romeo", backends.RosterItem{Contact: "juliet@localhost", Subscription: backends.SubBoth, Groups: []string{"Friends"}})
	c := e.login("romeo", "orchard", false)
	for _, tc := range []struct{ name, list, cond string }{
		{"duplicate order", "<item action='deny' order='1'/><item type='jid' value='a@b' action='allow' order='1'/>", "bad-request"},
		{"no action", "<item order='1'/>", "bad-request"},
		{"bad action", "<item action='maybe' order='1'/>", "bad-request"},
		{"no order", "<item action='deny'/>", "bad-request"},
		{"negative order", "<item action='deny' order='-1'/>", "bad-request"},
		{"bad jid", "<item type='jid' value='@@' action='deny' order='1'/>", "bad-request"},
		{"bad subscription", "<item type='subscription' value='sometimes' action='deny' order='1'/>", "bad-request"},
		{"unknown type", "<item type='colour' value='red' action='deny' order='1'/>", "bad-request"},
		{"unknown child", "<item action='deny' order='1'><chat/></item>", "bad-request"},
		{"group not in roster", "<item type='group' value='Enemies' action='deny' order='1'/>", "item-not-found"},
		{"too many items", "<item action='deny' order='1'/><item action='deny' order='2'/><item action='deny' order='3'/><item action='deny' order='4'/>", "policy-violation"},
	} {
		wantError(t, iq(t, c, "bad", "set", q+"<list name='x'>"+tc.list+"</list></query>"), tc.cond)
	}
	wantError(t, iq(t, c, "noname", "set", q+"<list><item action='deny' order='1'/></list></query>"), "bad-request")
	// A group that is in the roster is fine.
	wantResult(t, iq(t, c, "g", "set", q+"<list name='g'><item type='group' value='Friends' action='allow' order='1'/></list></query>"))
	c.Next(100e6)
	wantResult(t, iq(t, c, "h", "set", q+"<list name='h'><item action='allow' order='1'/></list></query>"))
	c.Next(100e6)
	wantError(t, iq(t, c, "i", "set", q+"<list name='i'><item action='allow' order='1'/></list></query>"), "policy-violation")
}

// TestOtherUsersLists: one user cannot read or change another's lists.
func TestOtherUsersLists(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo", "tybalt")
	romeo := e.login("romeo", "orchard", false)
	wantResult(t, iq(t, romeo, "mine", "set", listPublic))
	tybalt := e.login("tybalt", "pda", false)
	for _, p := range []string{q + "</query>", q + "<list name='public'/></query>"} {
		tybalt.Buf.Reset()
		tybalt.Send("<iq type='get' id='peek' to='romeo@localhost'>" + p + "</iq>")
		got := answer(t, tybalt, "peek")
		wantError(t, got, "forbidden")
		if strings.Contains(got, "tybalt@localhost' action") {
			t.Fatalf("another user's list leaked: %q", got)
		}
	}
	tybalt.Buf.Reset()
	tybalt.Send("<iq type='set' id='meddle' to='romeo@localhost'>" + q + "<list name='public'/></query></iq>")
	wantError(t, answer(t, tybalt, "meddle"), "forbidden")
	if got := iq(t, romeo, "still", "get", q+"<list name='public'/></query>"); !strings.Contains(got, "tybalt@localhost") {
		t.Fatalf("romeo's list changed: %q", got)
	}
}

// TestPushesAndConflicts: edits are pushed to every resource (section 2.6); a list in
// use by another resource cannot be removed, nor the default changed (rule 11).
func TestPushesAndConflicts(t *testing.T) {
	e := start(t, nil, nil)
	e.users("romeo")
	orchard := e.login("romeo", "orchard", true)
	home := e.login("romeo", "home", true)
	orchard.Next(100e6)

	wantResult(t, iq(t, orchard, "edit1", "set", q+"<list name='public'>"+
		"<item type='jid' value='tybalt@localhost' action='deny' order='3'/>"+
		"<item type='jid' value='paris@localhost' action='deny' order='5'/>"+
		"<item action='allow' order='68'/></list></query>"))
	for _, rc := range []struct {
		c        interface{ ReadUntil(string) string }
		resource string
	}{{orchard, "orchard"}, {home, "home"}} {
		got := rc.c.ReadUntil("</iq>")
		for _, want := range []string{"type='set'", "to='romeo@localhost/" + rc.resource + "'", "<query xmlns='jabber:iq:privacy'><list name='public'/></query>"} {
			if !strings.Contains(got, want) {
				t.Fatalf("push to %s: %q lacks %q", rc.resource, got, want)
			}
		}
	}
	orchard.Buf.Reset()
	home.Buf.Reset()

	wantResult(t, iq(t, orchard, "d", "set", q+"<default name='public'/></query>"))
	wantResult(t, iq(t, home, "a", "set", listSpecial))
	home.Next(100e6)
	orchard.Next(100e6)
	wantResult(t, iq(t, home, "a2", "set", q+"<active name='special'/></query>"))
	// orchard cannot remove home's active list.
	wantError(t, iq(t, orchard, "rm", "set", q+"<list name='special'/></query>"), "conflict")
	// home uses an active list, so only orchard uses the default: orchard may change
	// it... after home declines its active list, the default is shared and cannot be.
	wantResult(t, iq(t, home, "decl", "set", q+"<active/></query>"))
	wantError(t, iq(t, orchard, "default3", "set", q+"<default/></query>"), "conflict")
	wantError(t, iq(t, orchard, "default1", "set", q+"<default name='special'/></query>"), "conflict")
	wantError(t, iq(t, orchard, "rmdef", "set", q+"<list name='public'/></query>"), "conflict")
	// Once home has an active list again, orchard alone uses the default.
	wantResult(t, iq(t, home, "a3", "set", q+"<active name='special'/></query>"))
	wantResult(t, iq(t, orchard, "default2", "set", q+"<default/></query>"))
	// Home may remove its own active list.
	wantResult(t, iq(t, home, "rmown", "set", q+"<list name='special'/></query>"))
	if got := iq(t, home, "n", "get", q+"</query>"); strings.Contains(got, "<active") {
		t.Fatalf("removed active list still active: %q", got)
	}
}
