package roster

import (
	"slices"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza"
)

// FuzzParseSet feeds arbitrary roster sets to the parser of RFC 6121 2.3: it must not
// panic, and an item it accepts must be one every store accepts.
func FuzzParseSet(f *testing.F) {
	for _, q := range []string{
		"<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' name='Nurse'><group>Servants</group></item></query>",
		"<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/></query>",
		"<query xmlns='jabber:iq:roster'><item jid='a@b'><group>x</group><group>x</group></item></query>",
		"<query xmlns='jabber:iq:roster'><item jid='a@b'><group></group></item></query>",
		"<query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'/></query>",
		"<query xmlns='jabber:iq:roster'><item name='no jid'/></query>",
		"<query xmlns='jabber:iq:roster'><item jid='@b'/></query>",
		"<query xmlns='jabber:iq:roster'><item jid='A@B/R' name='&amp;&lt;'><group>&#x263A;</group></item></query>",
	} {
		f.Add([]byte(q))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		el, err := stanza.Parse(raw)
		if err != nil {
			return
		}
		defer el.Release()
		p, cond := parseSet(el)
		if cond != 0 || p.remove {
			return
		}
		it := backends.RosterItem{Contact: p.contact.String(), Name: p.name, Groups: p.groups}
		if err := it.Validate(); err != nil {
			t.Fatalf("accepted %q as %+v, which stores refuse: %v", raw, it, err)
		}
		if slices.Contains(p.groups, "") {
			t.Fatalf("accepted an empty group in %q", raw)
		}
	})
}
