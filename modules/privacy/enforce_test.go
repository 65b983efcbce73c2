package privacy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/enginetest"
)

// TestBlocking walks the examples of XEP-0016 sections 2.9 to 2.13: for each list, a
// stanza that must be refused and one that must pass, both directions.
func TestBlocking(t *testing.T) {
	type probe struct {
		from, to string // users; the receiving user is romeo unless to says otherwise
		send     string // stanza, %TO% replaced by the addressee's full JID
		blocked  bool
		reply    string // for a refused stanza, what the sender gets ("" for nothing)
	}
	msg := "<message to='%TO%' type='chat' id='m1'><body>%ID%</body></message>"
	iqGet := "<iq to='%TO%' type='get' id='%ID%'><query xmlns='jabber:iq:version'/></iq>"
	pres := "<presence to='%TO%'><status>%ID%</status></presence>"
	cases := []struct {
		name   string
		list   string
		probes []probe
	}{
		{"message by jid", "<item type='jid' value='tybalt@localhost' action='deny' order='3'><message/></item>", []probe{
			{from: "tybalt", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "mercutio", send: msg},
			{from: "tybalt", send: pres},
			{from: "tybalt", send: iqGet},
		}},
		{"message by group", "<item type='group' value='Enemies' action='deny' order='4'><message/></item>", []probe{
			{from: "tybalt", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "mercutio", send: msg},
		}},
		{"message by subscription", "<item type='subscription' value='none' action='deny' order='5'><message/></item>", []probe{
			{from: "paris", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "tybalt", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "mercutio", send: msg},
		}},
		{"message globally", "<item action='deny' order='6'><message/></item>", []probe{
			{from: "mercutio", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "mercutio", send: pres},
		}},
		{"presence-in by jid", "<item type='jid' value='tybalt@localhost' action='deny' order='7'><presence-in/></item>", []probe{
			{from: "tybalt", send: pres, blocked: true},
			{from: "tybalt", send: msg},
			{from: "mercutio", send: pres},
		}},
		{"presence-in by subscription", "<item type='subscription' value='to' action='deny' order='9'><presence-in/></item>", []probe{
			{from: "benvolio", send: pres, blocked: true},
			{from: "mercutio", send: pres},
		}},
		{"presence-out by jid", "<item type='jid' value='tybalt@localhost' action='deny' order='13'><presence-out/></item>", []probe{
			{from: "romeo", to: "tybalt", send: pres, blocked: true},
			{from: "romeo", to: "mercutio", send: pres},
			{from: "romeo", to: "tybalt", send: msg},
			{from: "tybalt", send: pres},
		}},
		{"presence-out by subscription", "<item type='subscription' value='from' action='deny' order='17'><presence-out/></item>", []probe{
			{from: "romeo", to: "juliet", send: pres, blocked: true},
			{from: "romeo", to: "mercutio", send: pres},
			{from: "romeo", to: "juliet", send: msg},
		}},
		{"iq by jid", "<item type='jid' value='tybalt@localhost' action='deny' order='29'><iq/></item>", []probe{
			{from: "tybalt", send: iqGet, blocked: true, reply: "service-unavailable"},
			{from: "tybalt", send: msg},
			{from: "mercutio", send: iqGet},
		}},
		{"iq globally", "<item action='deny' order='1'><iq/></item>", []probe{
			{from: "mercutio", send: iqGet, blocked: true, reply: "service-unavailable"},
		}},
		{"all by jid", "<item type='jid' value='tybalt@localhost' action='deny' order='23'/>", []probe{
			{from: "tybalt", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "tybalt", send: iqGet, blocked: true, reply: "service-unavailable"},
			{from: "tybalt", send: pres, blocked: true},
			{from: "romeo", to: "tybalt", send: msg, blocked: true, reply: "not-acceptable"},
			{from: "romeo", to: "tybalt", send: iqGet, blocked: true, reply: "not-acceptable"},
			{from: "romeo", to: "tybalt", send: pres, blocked: true},
			{from: "mercutio", send: msg},
		}},
		{"all by group", "<item type='group' value='Enemies' action='deny' order='13'/>", []probe{
			{from: "tybalt", send: iqGet, blocked: true, reply: "service-unavailable"},
			{from: "romeo", to: "tybalt", send: msg, blocked: true, reply: "not-acceptable"},
			{from: "juliet", send: msg},
		}},
		{"all by subscription", "<item type='subscription' value='none' action='deny' order='11'/>", []probe{
			{from: "paris", send: pres, blocked: true},
			{from: "romeo", to: "paris", send: msg, blocked: true, reply: "not-acceptable"},
			{from: "juliet", send: msg},
		}},
		{"all globally", "<item action='deny' order='7'/>", []probe{
			{from: "juliet", send: msg, blocked: true, reply: "service-unavailable"},
			{from: "romeo", to: "juliet", send: iqGet, blocked: true, reply: "not-acceptable"},
		}},
	}
	e := start(t, nil, nil)
	users := []string{"romeo", "tybalt", "mercutio", "paris", "juliet", "benvolio"}
	e.users(users...)
	// romeo's roster. paris is not in it (subscription "none").
	e.roster("romeo", backends.RosterItem{Contact: "tybalt@localhost", Subscription: backends.SubNone, Groups: []string{"Enemies"}})
	e.roster("romeo", backends.RosterItem{Contact: "juliet@localhost", Subscription: backends.SubFrom, Groups: []string{"Lovers"}})
	e.roster("romeo", backends.RosterItem{Contact: "benvolio@localhost", Subscription: backends.SubTo})
	e.roster("romeo", backends.RosterItem{Contact: "mercutio@localhost", Subscription: backends.SubBoth, Groups: []string{"Friends"}})

	conns := map[string]*enginetest.Raw{}
	for _, u := range users {
		conns[u] = e.login(u, "r", true)
	}
	romeo := conns["romeo"]
	for i, c := range cases {
		name := fmt.Sprintf("case%d", i)
		wantResult(t, iq(t, romeo, "set-"+name, "set", q+"<list name='"+name+"'>"+c.list+"</list></query>"))
		wantResult(t, iq(t, romeo, "act-"+name, "set", q+"<active name='"+name+"'/></query>"))
		romeo.Next(50 * time.Millisecond) // the list push
		for j, p := range c.probes {
			id := fmt.Sprintf("%s-p%d", name, j)
			to := p.to
			if to == "" {
				to = "romeo"
			}
			sender, receiver := conns[p.from], conns[to]
			text := strings.ReplaceAll(strings.ReplaceAll(p.send, "%TO%", to+"@localhost/r"), "%ID%", id)
			sender.Buf.Reset()
			receiver.Buf.Reset()
			sender.Send(text)
			if p.blocked {
				if p.reply != "" {
					got := sender.ReadUntil("</error>")
					if !strings.Contains(got, "type='error'") || !strings.Contains(got, "<"+p.reply+" ") {
						t.Fatalf("%s, probe %d (%s): sender got %q, want %s", c.name, j, text, got, p.reply)
					}
					silent(t, receiver, id)
					continue
				}
				silent(t, receiver, id)
				if got := sender.Next(100 * time.Millisecond); strings.Contains(got, "type='error'") {
					t.Fatalf("%s, probe %d: a refused stanza was answered: %q", c.name, j, got)
				}
				continue
			}
			got := receiver.ReadUntil(id)
			receiver.Buf.Reset()
			if strings.Contains(got, "type='error'") {
				t.Fatalf("%s, probe %d: %q", c.name, j, got)
			}
			if strings.HasPrefix(p.send, "<iq") {
				receiver.Send("<iq type='result' id='" + id + "' to='" + p.from + "@localhost/r'/>")
			}
			sender.Next(30 * time.Millisecond)
		}
		wantResult(t, iq(t, romeo, "off-"+name, "set", q+"<active/></query>"))
	}
}
