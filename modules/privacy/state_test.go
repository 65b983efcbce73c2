package privacy

import (
	"fmt"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza/jid"
)

// testModule returns a module holding, without a server, the default list of
// romeo@example.com: a block list of n JIDs followed by the rules of XEP-0016's
// "private" example, with a roster of n contacts.
func testModule(n int) *Module {
	m := &Module{users: xsync.NewMap[string, *user]()}
	l := backends.PrivacyList{Name: "default"}
	var roster []backends.RosterItem
	for i := range n {
		c := fmt.Sprintf("blocked%d@example.org", i)
		l.Items = append(l.Items, backends.PrivacyItem{Type: backends.PrivacyJID, Value: c, Deny: true, Order: uint32(i)})
		roster = append(roster, backends.RosterItem{Contact: fmt.Sprintf("friend%d@example.net", i), Subscription: backends.SubBoth, Groups: []string{"Friends"}})
	}
	l.Items = append(l.Items,
		backends.PrivacyItem{Type: backends.PrivacySubscription, Value: "both", Order: uint32(n + 10)},
		backends.PrivacyItem{Deny: true, Order: uint32(n + 15), Stanzas: backends.PrivacyMessage})
	u := &user{bare: jid.MustParse("romeo@example.com")}
	u.def.Store(compile(&l))
	u.roster.Store(newRosterView(roster))
	m.users.Store(u.bare.String(), u)
	return m
}
