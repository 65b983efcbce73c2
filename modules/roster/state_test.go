package roster

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// The nine states of RFC 6121 Appendix A.1, by the names its tables use.
var states = map[string]State{
	"None":                  {},
	"None + Pending Out":    {Out: true},
	"None + Pending In":     {In: true},
	"None + Pending Out+In": {Out: true, In: true},
	"To":                    {Sub: backends.SubTo},
	"To + Pending In":       {Sub: backends.SubTo, In: true},
	"From":                  {Sub: backends.SubFrom},
	"From + Pending Out":    {Sub: backends.SubFrom, Out: true},
	"Both":                  {Sub: backends.SubBoth},
}

// row is one line of an Appendix A table: the existing state, whether the stanza is
// routed (or delivered), and the new state ("" for "no state change").
type row struct {
	from string
	pass bool
	to   string
}

// The tables of Appendix A.2 (outbound) and A.3 (inbound), transcribed. MUST is true;
// "S.N." and "M.N." are false.
var (
	outboundTables = map[Kind][]row{
		Subscribe: { // Table 2
			{"None", true, "None + Pending Out"},
			{"None + Pending Out", true, ""},
			{"None + Pending In", true, "None + Pending Out+In"},
			{"None + Pending Out+In", true, ""},
			{"To", true, ""},
			{"To + Pending In", true, ""},
			{"From", true, "From + Pending Out"},
			{"From + Pending Out", true, ""},
			{"Both", true, ""},
		},
		Unsubscribe: { // Table 3
			{"None", true, ""},
			{"None + Pending Out", true, "None"},
			{"None + Pending In", true, ""},
			{"None + Pending Out+In", true, "None + Pending In"},
			{"To", true, "None"},
			{"To + Pending In", true, "None + Pending In"},
			{"From", true, ""},
			{"From + Pending Out", true, "From"},
			{"Both", true, "From"},
		},
		Subscribed: { // Table 4; the pre-approval rows are checked separately
			{"None + Pending In", true, "From"},
			{"None + Pending Out+In", true, "From + Pending Out"},
			{"To + Pending In", true, "Both"},
			{"From", false, ""},
			{"From + Pending Out", false, ""},
			{"Both", false, ""},
		},
		Unsubscribed: { // Table 5
			{"None", false, ""},
			{"None + Pending Out", false, ""},
			{"None + Pending In", true, "None"},
			{"None + Pending Out+In", true, "None + Pending Out"},
			{"To", false, ""},
			{"To + Pending In", true, "To"},
			{"From", true, "None"},
			{"From + Pending Out", true, "None + Pending Out"},
			{"Both", true, "To"},
		},
	}
	inboundTables = map[Kind][]row{
		Subscribe: { // Table 6
			{"None", true, "None + Pending In"},
			{"None + Pending Out", true, "None + Pending Out+In"},
			{"None + Pending In", false, ""},
			{"None + Pending Out+In", false, ""},
			{"To", true, "To + Pending In"},
			{"To + Pending In", false, ""},
			{"From", false, ""},
			{"From + Pending Out", false, ""},
			{"Both", false, ""},
		},
		Unsubscribe: { // Table 7
			{"None", false, ""},
			{"None + Pending Out", false, ""},
			{"None + Pending In", true, "None"},
			{"None + Pending Out+In", true, "None + Pending Out"},
			{"To", false, ""},
			{"To + Pending In", true, "To"},
			{"From", true, "None"},
			{"From + Pending Out", true, "None + Pending Out"},
			{"Both", true, "To"},
		},
		Subscribed: { // Table 8
			{"None", false, ""},
			{"None + Pending Out", true, "To"},
			{"None + Pending In", false, ""},
			{"None + Pending Out+In", true, "To + Pending In"},
			{"To", false, ""},
			{"To + Pending In", false, ""},
			{"From", false, ""},
			{"From + Pending Out", true, "Both"},
			{"Both", false, ""},
		},
		Unsubscribed: { // Table 9
			{"None", false, ""},
			{"None + Pending Out", true, "None"},
			{"None + Pending In", false, ""},
			{"None + Pending Out+In", true, "None + Pending In"},
			{"To", true, "None"},
			{"To + Pending In", true, "None + Pending In"},
			{"From", false, ""},
			{"From + Pending Out", true, "From"},
			{"Both", true, "From"},
		},
	}
)

func checkTable(t *testing.T, name string, rows []row, apply func(State) (State, bool)) {
	t.Helper()
	if len(rows) != len(states) && name != "outbound subscribed" {
		t.Fatalf("%s: the table has %d rows, want all %d states", name, len(rows), len(states))
	}
	for _, r := range rows {
		from, ok := states[r.from]
		if !ok {
			t.Fatalf("%s: unknown state %q", name, r.from)
		}
		want := from
		if r.to != "" {
			want = states[r.to]
		}
		got, pass := apply(from)
		if got != want || pass != r.pass {
			t.Errorf("%s in %q: got %q, pass=%v; want %q, pass=%v", name, r.from, got, pass, want, r.pass)
		}
	}
}

func TestOutboundTables(t *testing.T) {
	for k, rows := range outboundTables {
		checkTable(t, "outbound "+k.String(), rows, func(s State) (State, bool) { return Outbound(s, k, true) })
	}
}

func TestInboundTables(t *testing.T) {
	for k, rows := range inboundTables {
		checkTable(t, "inbound "+k.String(), rows, func(s State) (State, bool) {
			next, deliver, _ := Inbound(s, k)
			return next, deliver
		})
	}
}

// TestPreApproval checks Table 4's "pre-approval" rows and section 3.4: an unsolicited
// "subscribed" is never routed; with pre-approval support it marks the item, without
// it nothing changes; "unsubscribed" cancels it; the contact's later request is granted
// at once, without bothering the user.
func TestPreApproval(t *testing.T) {
	for _, name := range []string{"None", "None + Pending Out", "To"} {
		s := states[name]
		got, route := Outbound(s, Subscribed, true)
		want := s
		want.Approved = true
		if route || got != want {
			t.Errorf("subscribed in %q with pre-approval: %q, route=%v; want %q, no route", name, got, route, want)
		}
		if got, route := Outbound(s, Subscribed, false); route || got != s {
			t.Errorf("subscribed in %q without pre-approval: %q, route=%v; want no change", name, got, route)
		}
		cancelled, route := Outbound(want, Unsubscribed, true)
		if route || cancelled != s {
			t.Errorf("unsubscribed in pre-approved %q: %q, route=%v; want %q, no route", name, cancelled, route, s)
		}
		granted, deliver, reply := Inbound(want, Subscribe)
		wantGranted := State{Sub: withFrom(s.Sub), Out: s.Out}
		if deliver || reply != ReplySubscribed || granted != wantGranted {
			t.Errorf("subscribe in pre-approved %q: %q, deliver=%v, reply=%v; want %q, auto-reply subscribed",
				name, granted, deliver, reply, wantGranted)
		}
	}
}

// TestInboundAutoReply checks note [2] of Table 6: a request from a contact already
// subscribed is answered "subscribed" by the server.
func TestInboundAutoReply(t *testing.T) {
	for name, s := range states {
		_, _, reply := Inbound(s, Subscribe)
		if want := s.Sub.HasFrom(); (reply == ReplySubscribed) != want {
			t.Errorf("subscribe in %q: reply %v, want auto-reply %v", name, reply, want)
		}
		for _, k := range []Kind{Subscribed, Unsubscribe, Unsubscribed} {
			if _, _, reply := Inbound(s, k); reply != NoReply {
				t.Errorf("%s in %q: reply %v", k, name, reply)
			}
		}
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range []Kind{Subscribe, Subscribed, Unsubscribe, Unsubscribed} {
		if got, ok := ParseKind([]byte(k.String())); !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, ok)
		}
	}
	for _, typ := range []string{"", "available", "unavailable", "probe", "error", "Subscribe"} {
		if _, ok := ParseKind([]byte(typ)); ok {
			t.Errorf("ParseKind(%q) accepted", typ)
		}
	}
}
