package privacy

import (
	"strconv"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Namespaces and names of XEP-0016 and XEP-0191.
const (
	NSPrivacy        = "jabber:iq:privacy"
	NSBlocking       = "urn:xmpp:blocking"
	NSBlockingErrors = "urn:xmpp:blocking:errors"
	// BlockListName is the list the blocking command creates, and makes the default,
	// when the user has no default list (MongooseIM's approach: the block list is the
	// default privacy list).
	BlockListName = "urn:xmpp:blocking"
)

// condError is a request refused with a stanza error condition.
type condError struct {
	cond stanza.StanzaCondition
	text string
}

func (e *condError) Error() string { return e.text }

func refuse(cond stanza.StanzaCondition, text string) error { return &condError{cond, text} }

// kindNames are the item children of XEP-0016 and the kinds they stand for.
var kindNames = [...]struct {
	name string
	kind backends.PrivacyStanzas
}{
	{"message", backends.PrivacyMessage},
	{"iq", backends.PrivacyIQ},
	{"presence-in", backends.PrivacyPresenceIn},
	{"presence-out", backends.PrivacyPresenceOut},
}

// parseList reads a <list/> element of a privacy set into a stored list: name, items in
// order. maxItems caps the items. Errors are *condError with the condition XEP-0016
// prescribes: bad-request for malformed items or duplicate orders.
func parseList(el *stanza.Element, maxItems int) (backends.PrivacyList, error) {
	name, _ := el.Attr("", "name")
	if name == "" {
		return backends.PrivacyList{}, refuse(stanza.BadRequest, "a list needs a name")
	}
	if len(name) > backends.MaxPrivacyNameLen {
		return backends.PrivacyList{}, refuse(stanza.NotAcceptable, "list name too long")
	}
	l := backends.PrivacyList{Name: name}
	for _, c := range el.Children() {
		if !c.Is(NSPrivacy, "item") {
			return backends.PrivacyList{}, refuse(stanza.BadRequest, "a list holds only items")
		}
		if len(l.Items) == maxItems {
			return backends.PrivacyList{}, refuse(stanza.PolicyViolation, "too many items in one list")
		}
		it, err := parseItem(c)
		if err != nil {
			return backends.PrivacyList{}, err
		}
		l.Items = append(l.Items, it)
	}
	s := backends.PrivacySettings{Lists: []backends.PrivacyList{l}}
	s.Normalize()
	l = s.Lists[0]
	for i := 1; i < len(l.Items); i++ {
		if l.Items[i].Order == l.Items[i-1].Order {
			return backends.PrivacyList{}, refuse(stanza.BadRequest, "order values must be unique in a list")
		}
	}
	return l, nil
}

func parseItem(el *stanza.Element) (backends.PrivacyItem, error) {
	var it backends.PrivacyItem
	switch action, _ := el.Attr("", "action"); action {
	case "allow":
	case "deny":
		it.Deny = true
	default:
		return it, refuse(stanza.BadRequest, "an item's action is allow or deny")
	}
	order, ok := el.Attr("", "order")
	n, err := strconv.ParseUint(order, 10, 32)
	if !ok || err != nil || order[0] == '+' {
		return it, refuse(stanza.BadRequest, "an item's order is a non-negative integer")
	}
	it.Order = uint32(n)
	typ, hasType := el.Attr("", "type")
	value, _ := el.Attr("", "value")
	switch {
	case !hasType:
		it.Type = backends.PrivacyFallThrough
	case typ == "jid":
		j, err := jid.Parse(value)
		if err != nil {
			return it, refuse(stanza.BadRequest, "the value of a jid item must be a JID")
		}
		it.Type, it.Value = backends.PrivacyJID, j.String()
	case typ == "group":
		if value == "" || len(value) > backends.MaxGroupLen {
			return it, refuse(stanza.BadRequest, "the value of a group item must be a group name")
		}
		it.Type, it.Value = backends.PrivacyGroup, value
	case typ == "subscription":
		if _, ok := parseSub(value); !ok {
			return it, refuse(stanza.BadRequest, "the value of a subscription item is none, to, from or both")
		}
		it.Type, it.Value = backends.PrivacySubscription, value
	default:
		return it, refuse(stanza.BadRequest, "unknown item type")
	}
	for _, c := range el.Children() {
		found := false
		for _, k := range kindNames {
			if c.Is(NSPrivacy, k.name) {
				it.Stanzas |= k.kind
				found = true
			}
		}
		if !found {
			return it, refuse(stanza.BadRequest, "unknown child of an item")
		}
	}
	// All four children say the same as none; store the canonical form.
	if it.Stanzas == backends.PrivacyAllKinds {
		it.Stanzas = 0
	}
	return it, nil
}

// appendList writes a list as <list name='...'> with its items, for a privacy get.
func appendList(b *stanza.Builder, l *backends.PrivacyList) {
	b.Start("list").Attr("name", l.Name)
	for _, it := range l.Items {
		b.Start("item")
		if it.Type != backends.PrivacyFallThrough {
			b.Attr("type", it.Type.String()).Attr("value", it.Value)
		}
		if it.Deny {
			b.Attr("action", "deny")
		} else {
			b.Attr("action", "allow")
		}
		b.Attr("order", strconv.FormatUint(uint64(it.Order), 10))
		for _, k := range kindNames {
			if it.Stanzas&k.kind != 0 {
				b.Start(k.name).End()
			}
		}
		b.End()
	}
	b.End()
}
