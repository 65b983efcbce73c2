package privacy

import (
	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// rules is a privacy list compiled for matching on event loops: items in processing
// order, JID values pre-split. A rules value is immutable once built, so a pointer to
// it can be swapped atomically while loops read the old one.
type rules struct {
	name  string
	items []rule
	// needsRoster is set when an item matches on roster group or subscription.
	needsRoster bool
}

// jidForm is which of the four forms of XEP-0016 section 2.1 a JID item has.
type jidForm uint8

const (
	formFull        jidForm = iota // user@domain/resource: that resource only
	formBare                       // user@domain: any resource
	formDomainRes                  // domain/resource: that resource of any JID at domain
	formDomain                     // domain: the domain and every JID at it
	formUnparseable                // stored value that is not a JID: matches nothing
	formBareSet                    // a run of user@domain items folded into one set
)

// minSetRun is the shortest run of consecutive user@domain items with one action and
// one set of kinds that compile folds into a set: a block list of a thousand JIDs is
// then one map lookup rather than a thousand comparisons. Within such a run the order
// cannot matter: the items share their action.
const minSetRun = 4

// rule is one compiled item.
type rule struct {
	typ   backends.PrivacyItemType
	deny  bool
	kinds backends.PrivacyStanzas // PrivacyAllKinds for an item without children
	all   bool                    // the item had no children: it also covers stanzas of no kind
	value string                  // JID string, group name
	form  jidForm
	local string // JID items: the parts to compare
	dom   string
	res   string
	sub   backends.Subscription
	set   map[string]struct{} // formBareSet: the bare JIDs
}

// compile builds the rules of a stored list. Items are already in order.
func compile(l *backends.PrivacyList) *rules {
	r := &rules{name: l.Name, items: make([]rule, len(l.Items))}
	for i, it := range l.Items {
		ru := rule{typ: it.Type, deny: it.Deny, kinds: it.Stanzas, value: it.Value}
		if ru.kinds == 0 {
			ru.kinds, ru.all = backends.PrivacyAllKinds, true
		}
		switch it.Type {
		case backends.PrivacyJID:
			j, err := jid.Parse(it.Value)
			if err != nil {
				ru.form = formUnparseable
				break
			}
			ru.local, ru.dom, ru.res = j.Localpart(), j.Domainpart(), j.Resourcepart()
			switch {
			case ru.local != "" && ru.res != "":
				ru.form = formFull
			case ru.local != "":
				ru.form = formBare
			case ru.res != "":
				ru.form = formDomainRes
			default:
				ru.form = formDomain
			}
		case backends.PrivacyGroup:
			r.needsRoster = true
		case backends.PrivacySubscription:
			ru.sub, _ = parseSub(it.Value)
			r.needsRoster = true
		}
		r.items[i] = ru
	}
	r.items = foldRuns(r.items)
	return r
}

// foldRuns replaces each run of at least minSetRun consecutive user@domain items with
// the same action and kinds by one set item.
func foldRuns(items []rule) []rule {
	same := func(a, b *rule) bool {
		return a.typ == backends.PrivacyJID && a.form == formBare && b.typ == backends.PrivacyJID &&
			b.form == formBare && a.deny == b.deny && a.kinds == b.kinds && a.all == b.all
	}
	out := items[:0:0]
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && same(&items[i], &items[j]) {
			j++
		}
		if j-i < minSetRun {
			out = append(out, items[i:j]...)
			i = j
			continue
		}
		set := items[i]
		set.form, set.value, set.local, set.dom = formBareSet, "", "", ""
		set.set = make(map[string]struct{}, j-i)
		for _, ru := range items[i:j] {
			set.set[ru.value] = struct{}{}
		}
		out = append(out, set)
		i = j
	}
	return out
}

func parseSub(s string) (backends.Subscription, bool) {
	switch s {
	case "none":
		return backends.SubNone, true
	case "to":
		return backends.SubTo, true
	case "from":
		return backends.SubFrom, true
	case "both":
		return backends.SubBoth, true
	}
	return backends.SubNone, false
}

// matchJID reports whether other is covered by the item's JID (the matching order of
// XEP-0016 section 2.1; a domain/resource item matches that resource of any JID at the
// domain, as ejabberd and MongooseIM read it).
func (ru *rule) matchJID(other jid.JID) bool {
	switch ru.form {
	case formFull:
		return other.Localpart() == ru.local && other.Domainpart() == ru.dom && other.Resourcepart() == ru.res
	case formBare:
		return other.Localpart() == ru.local && other.Domainpart() == ru.dom
	case formDomainRes:
		return other.Domainpart() == ru.dom && other.Resourcepart() == ru.res
	case formDomain:
		return other.Domainpart() == ru.dom
	case formBareSet:
		_, ok := ru.set[other.Bare().String()]
		return ok
	}
	return false
}

// decide processes the list for a stanza of kind exchanged with other (the sender of an
// inbound stanza, the addressee of an outbound one). kind is one bit of
// backends.PrivacyStanzas, or 0 for a stanza that only items without children cover
// (outbound messages and iqs, subscription requests, probes). It returns whether the
// stanza is denied and the item that decided, nil when none matched (XEP-0016 rule 7:
// the fall-through action is then "allow"). roster may be nil: every contact then has
// subscription "none" and no group. It does not allocate.
func (r *rules) decide(other jid.JID, kind backends.PrivacyStanzas, roster *rosterView) (bool, *rule) {
	var contact contactInfo // the zero value: not in the roster, subscription none
	looked := false
	for i := range r.items {
		ru := &r.items[i]
		if kind == 0 && !ru.all || kind != 0 && ru.kinds&kind == 0 {
			continue
		}
		switch ru.typ {
		case backends.PrivacyJID:
			if !ru.matchJID(other) {
				continue
			}
		case backends.PrivacyGroup, backends.PrivacySubscription:
			if !looked {
				contact, looked = roster.lookup(other), true
			}
			if ru.typ == backends.PrivacyGroup && !contact.inGroup(ru.value) ||
				ru.typ == backends.PrivacySubscription && contact.sub != ru.sub {
				continue
			}
		}
		return ru.deny, ru
	}
	return false, nil
}

// isBlock reports whether the item is one the blocking command writes: a JID denied for
// every kind of stanza.
func (ru *rule) isBlock() bool { return ru.typ == backends.PrivacyJID && ru.deny && ru.all }

// blocked returns the JIDs the list blocks in the sense of XEP-0191: its jid items
// with action deny and no children.
func blockedJIDs(l *backends.PrivacyList) []string {
	var out []string
	for _, it := range l.Items {
		if isBlockItem(&it) {
			out = append(out, it.Value)
		}
	}
	return out
}

func isBlockItem(it *backends.PrivacyItem) bool {
	return it.Type == backends.PrivacyJID && it.Deny && it.Stanzas == 0
}

// Directions of a stanza relative to the user whose list is processed.
const (
	inbound  = false
	outbound = true
)

// kindOf classifies a stanza for decide. Presence notifications are presence without a
// type or of type unavailable (XEP-0016 section 2); subscription requests and probes
// are no kind and only items without children cover them.
func kindOf(h *stanza.Header, out bool) backends.PrivacyStanzas {
	switch h.Kind {
	case stanza.Message:
		if out {
			return 0
		}
		return backends.PrivacyMessage
	case stanza.IQ:
		if out {
			return 0
		}
		return backends.PrivacyIQ
	case stanza.Presence:
		if t := string(h.Type); t != "" && t != "unavailable" {
			return 0
		}
		if out {
			return backends.PrivacyPresenceOut
		}
		return backends.PrivacyPresenceIn
	}
	return 0
}

// rosterView is what matching needs of a user's roster: each contact's subscription and
// groups. Immutable once built; nil means "not loaded", which matches as an empty
// roster.
type rosterView struct {
	contacts map[string]contactInfo // bare JID -> info
}

type contactInfo struct {
	sub    backends.Subscription
	groups []string
}

func newRosterView(items []backends.RosterItem) *rosterView {
	v := &rosterView{contacts: make(map[string]contactInfo, len(items))}
	for _, it := range items {
		v.contacts[it.Contact] = contactInfo{sub: it.Subscription, groups: it.Groups}
	}
	return v
}

// lookup returns the contact's entry; the zero entry (subscription none, no group)
// when other is not in the roster.
func (v *rosterView) lookup(other jid.JID) contactInfo {
	if v == nil {
		return contactInfo{}
	}
	return v.contacts[other.Bare().String()]
}

func (c *contactInfo) inGroup(g string) bool {
	for _, x := range c.groups {
		if x == g {
			return true
		}
	}
	return false
}

// hasGroup reports whether any contact of the roster is in group g.
func (v *rosterView) hasGroup(g string) bool {
	if v == nil {
		return false
	}
	for _, c := range v.contacts {
		if c.inGroup(g) {
			return true
		}
	}
	return false
}
