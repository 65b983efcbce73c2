package privacy

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

func item(typ backends.PrivacyItemType, value string, deny bool, order uint32, kinds backends.PrivacyStanzas) backends.PrivacyItem {
	return backends.PrivacyItem{Type: typ, Value: value, Deny: deny, Order: order, Stanzas: kinds}
}

const (
	msg    = backends.PrivacyMessage
	iqKind = backends.PrivacyIQ
	presIn = backends.PrivacyPresenceIn
	presOu = backends.PrivacyPresenceOut
	noKind = backends.PrivacyStanzas(0)
)

func TestDecideJIDForms(t *testing.T) {
	cases := []struct {
		value string
		other string
		want  bool
	}{
		{"tybalt@example.com/pda", "tybalt@example.com/pda", true},
		{"tybalt@example.com/pda", "tybalt@example.com/home", false},
		{"tybalt@example.com/pda", "tybalt@example.com", false},
		{"tybalt@example.com", "tybalt@example.com/pda", true},
		{"tybalt@example.com", "tybalt@example.com", true},
		{"tybalt@example.com", "paris@example.com/pda", false},
		{"tybalt@example.com", "tybalt@example.org/pda", false},
		{"example.com/pda", "example.com/pda", true},
		{"example.com/pda", "tybalt@example.com/pda", true},
		{"example.com/pda", "tybalt@example.com/home", false},
		{"example.com", "example.com", true},
		{"example.com", "tybalt@example.com/pda", true},
		{"example.com", "example.com/x", true},
		{"example.com", "tybalt@example.org", false},
		{"Tybalt@EXAMPLE.com", "tybalt@example.com/pda", true}, // values are matched normalised
	}
	for _, c := range cases {
		value := jid.MustParse(c.value).String()
		r := compile(&backends.PrivacyList{Name: "l", Items: []backends.PrivacyItem{item(backends.PrivacyJID, value, true, 1, 0)}})
		got, _ := r.decide(jid.MustParse(c.other), msg, nil)
		if got != c.want {
			t.Errorf("item %q vs %q: deny %v, want %v", c.value, c.other, got, c.want)
		}
	}
}

func TestDecide(t *testing.T) {
	roster := newRosterView([]backends.RosterItem{
		{Contact: "friend@example.com", Subscription: backends.SubBoth, Groups: []string{"Friends"}},
		{Contact: "enemy@example.com", Subscription: backends.SubTo, Groups: []string{"Enemies", "Work"}},
		{Contact: "fan@example.com", Subscription: backends.SubFrom},
	})
	const (
		friend   = "friend@example.com/phone"
		enemy    = "enemy@example.com/x"
		fan      = "fan@example.com"
		stranger = "stranger@example.org/y"
	)
	type check struct {
		other string
		kind  backends.PrivacyStanzas
		deny  bool
	}
	cases := []struct {
		name   string
		items  []backends.PrivacyItem
		checks []check
	}{
		{"empty list allows", nil, []check{{stranger, msg, false}, {stranger, noKind, false}}},
		{"no fall-through means allow", []backends.PrivacyItem{item(backends.PrivacyJID, "enemy@example.com", true, 1, msg)},
			[]check{{enemy, msg, true}, {friend, msg, false}, {enemy, iqKind, false}}},
		{"message only", []backends.PrivacyItem{item(backends.PrivacyFallThrough, "", true, 6, msg)},
			[]check{{stranger, msg, true}, {stranger, iqKind, false}, {stranger, presIn, false}, {stranger, presOu, false}, {stranger, noKind, false}}},
		{"iq only", []backends.PrivacyItem{item(backends.PrivacyFallThrough, "", true, 1, iqKind)},
			[]check{{stranger, iqKind, true}, {stranger, msg, false}}},
		{"presence-in only", []backends.PrivacyItem{item(backends.PrivacyFallThrough, "", true, 1, presIn)},
			[]check{{stranger, presIn, true}, {stranger, presOu, false}, {stranger, noKind, false}}},
		{"presence-out only", []backends.PrivacyItem{item(backends.PrivacyFallThrough, "", true, 1, presOu)},
			[]check{{stranger, presOu, true}, {stranger, presIn, false}}},
		{"two kinds", []backends.PrivacyItem{item(backends.PrivacyFallThrough, "", true, 1, msg|presIn)},
			[]check{{stranger, presIn, true}, {stranger, msg, true}, {stranger, iqKind, false}}},
		{"no children blocks everything, subscriptions too", []backends.PrivacyItem{item(backends.PrivacyJID, "enemy@example.com", true, 1, 0)},
			[]check{{enemy, msg, true}, {enemy, iqKind, true}, {enemy, presIn, true}, {enemy, presOu, true}, {enemy, noKind, true}, {friend, noKind, false}}},
		{"group", []backends.PrivacyItem{item(backends.PrivacyGroup, "Enemies", true, 4, msg)},
			[]check{{enemy, msg, true}, {friend, msg, false}, {stranger, msg, false}}},
		{"second group of an item", []backends.PrivacyItem{item(backends.PrivacyGroup, "Work", true, 4, 0)},
			[]check{{enemy, iqKind, true}, {fan, iqKind, false}}},
		{"subscription none covers strangers", []backends.PrivacyItem{item(backends.PrivacySubscription, "none", true, 5, msg)},
			[]check{{stranger, msg, true}, {friend, msg, false}, {fan, msg, false}}},
		{"subscription values are exact", []backends.PrivacyItem{item(backends.PrivacySubscription, "from", true, 17, presOu)},
			[]check{{fan, presOu, true}, {friend, presOu, false}, {enemy, presOu, false}}},
		{"subscription to", []backends.PrivacyItem{item(backends.PrivacySubscription, "to", true, 9, presIn)},
			[]check{{enemy, presIn, true}, {friend, presIn, false}}},
		{"order decides, not position", []backends.PrivacyItem{
			item(backends.PrivacyFallThrough, "", true, 15, 0),
			item(backends.PrivacySubscription, "both", false, 10, 0),
		}, []check{{friend, msg, false}, {stranger, msg, true}, {enemy, presIn, true}}},
		{"first match wins", []backends.PrivacyItem{
			item(backends.PrivacyJID, "example.com", false, 1, 0),
			item(backends.PrivacyJID, "enemy@example.com", true, 2, 0),
		}, []check{{enemy, msg, false}}},
		{"a run of block items folds into a set, in order with the rest", []backends.PrivacyItem{
			item(backends.PrivacyJID, "friend@example.com/phone", true, 1, 0),
			item(backends.PrivacyJID, "a@example.com", true, 2, 0),
			item(backends.PrivacyJID, "enemy@example.com", true, 3, 0),
			item(backends.PrivacyJID, "b@example.com", true, 4, 0),
			item(backends.PrivacyJID, "c@example.com", true, 5, 0),
			item(backends.PrivacyJID, "fan@example.com", false, 6, 0),
			item(backends.PrivacyJID, "d@example.com", true, 7, msg),
			item(backends.PrivacyFallThrough, "", true, 8, iqKind),
		}, []check{{friend, msg, true}, {"friend@example.com/laptop", msg, false}, {enemy, presIn, true}, {"c@example.com", noKind, true},
			{fan, iqKind, false}, {"d@example.com/x", msg, true}, {"d@example.com/x", iqKind, true}, {"e@example.com", iqKind, true}, {"e@example.com", msg, false}}},
		{"allow then deny all (whitelist)", []backends.PrivacyItem{
			item(backends.PrivacyJID, "friend@example.com", false, 6, 0),
			item(backends.PrivacyFallThrough, "", true, 666, 0),
		}, []check{{friend, msg, false}, {fan, msg, true}, {fan, noKind, true}}},
	}
	for _, c := range cases {
		l := &backends.PrivacyList{Name: c.name, Items: c.items}
		s := backends.PrivacySettings{Lists: []backends.PrivacyList{*l}}
		s.Normalize()
		r := compile(&s.Lists[0])
		for _, ch := range c.checks {
			if got, _ := r.decide(jid.MustParse(ch.other), ch.kind, roster); got != ch.deny {
				t.Errorf("%s: %s kind %d: deny %v, want %v", c.name, ch.other, ch.kind, got, ch.deny)
			}
		}
	}
}

func TestDecideWithoutRoster(t *testing.T) {
	r := compile(&backends.PrivacyList{Name: "l", Items: []backends.PrivacyItem{
		item(backends.PrivacyGroup, "Friends", false, 1, 0),
		item(backends.PrivacySubscription, "none", true, 2, 0),
	}})
	if !r.needsRoster {
		t.Fatal("a list with group items does not ask for the roster")
	}
	if deny, ru := r.decide(jid.MustParse("a@b"), msg, nil); !deny || ru.typ != backends.PrivacySubscription {
		t.Fatalf("without a roster everyone has subscription none: deny %v by %+v", deny, ru)
	}
}

func TestKindOf(t *testing.T) {
	cases := []struct {
		raw      string
		out      bool
		wantKind backends.PrivacyStanzas
	}{
		{"<message to='a@b'/>", false, msg},
		{"<message to='a@b'/>", true, noKind},
		{"<iq type='get' id='1'/>", false, iqKind},
		{"<iq type='get' id='1'/>", true, noKind},
		{"<presence/>", false, presIn},
		{"<presence type='unavailable'/>", true, presOu},
		{"<presence type='subscribe'/>", false, noKind},
		{"<presence type='probe'/>", true, noKind},
	}
	for _, c := range cases {
		var h stanza.Header
		if err := stanza.ParseHeader([]byte(c.raw), &h); err != nil {
			t.Fatal(err)
		}
		if got := kindOf(&h, c.out); got != c.wantKind {
			t.Errorf("kindOf(%s, out=%v) = %d, want %d", c.raw, c.out, got, c.wantKind)
		}
	}
}

func TestPrepend(t *testing.T) {
	j := func(s ...string) []jid.JID {
		var out []jid.JID
		for _, x := range s {
			out = append(out, jid.MustParse(x))
		}
		return out
	}
	orders := func(items []backends.PrivacyItem) []uint32 {
		var o []uint32
		for _, it := range items {
			o = append(o, it.Order)
		}
		return o
	}
	cases := []struct {
		name  string
		items []backends.PrivacyItem
		add   []jid.JID
		want  []uint32
	}{
		{"empty", nil, j("a@x", "b@x"), []uint32{0, 1}},
		{"room below", []backends.PrivacyItem{{Order: 10}, {Order: 20}}, j("a@x"), []uint32{9, 10, 20}},
		{"shift", []backends.PrivacyItem{{Order: 0}, {Order: 5}}, j("a@x", "b@x"), []uint32{0, 1, 2, 7}},
		{"renumber at the top", []backends.PrivacyItem{{Order: 0}, {Order: 4294967295}}, j("a@x"), []uint32{0, 1, 2}},
	}
	for _, c := range cases {
		got := prepend(c.items, c.add)
		o := orders(got)
		if len(o) != len(c.want) {
			t.Fatalf("%s: orders %v, want %v", c.name, o, c.want)
		}
		for i := range o {
			if o[i] != c.want[i] {
				t.Fatalf("%s: orders %v, want %v", c.name, o, c.want)
			}
		}
		for i := range c.add {
			if !isBlockItem(&got[i]) || got[i].Value != c.add[i].String() {
				t.Fatalf("%s: item %d is %+v, want a block item", c.name, i, got[i])
			}
		}
	}
}

func TestFoldRuns(t *testing.T) {
	l := &backends.PrivacyList{Name: "l"}
	for i, v := range []string{"a@x", "b@x", "c@x", "d@x", "e@x/res", "f@x", "g@x", "h@x"} {
		l.Items = append(l.Items, item(backends.PrivacyJID, v, true, uint32(i), 0))
	}
	r := compile(l)
	// a-d fold, e (a full JID) breaks the run, f-h are too few.
	if len(r.items) != 5 || r.items[0].form != formBareSet || len(r.items[0].set) != 4 || r.items[2].form != formBare {
		t.Fatalf("compiled %d items: %+v", len(r.items), r.items)
	}
	if !r.items[0].isBlock() {
		t.Fatal("a folded run of block items is not a block item")
	}
}
