package roster

import (
	"fmt"

	"github.com/hermod-im/hermod/backends"
)

// State is the subscription state of one (user, contact) pair as RFC 6121 Appendix A
// names it, from the user's side: one of the four primary states plus the "Pending
// Out" (Out) and "Pending In" (In) sub-states, and a subscription pre-approval
// (section 3.4). The zero State is "None", which also stands for a contact that is
// not in the roster at all.
type State struct {
	Sub      backends.Subscription
	Out      bool // the user asked for the contact's presence: ask='subscribe'
	In       bool // the contact asked for the user's presence: a stored request
	Approved bool // the user pre-approved the contact's request
}

// String names the state as Appendix A.1 does ("None + Pending Out+In").
func (s State) String() string {
	name := [...]string{"None", "To", "From", "Both"}[s.Sub&3]
	switch {
	case s.Out && s.In:
		name += " + Pending Out+In"
	case s.Out:
		name += " + Pending Out"
	case s.In:
		name += " + Pending In"
	}
	if s.Approved {
		name += " (pre-approved)"
	}
	return name
}

// Kind is the type of a subscription-related presence stanza.
type Kind uint8

// The four subscription stanza types of RFC 6121 section 3.
const (
	Subscribe Kind = iota + 1
	Subscribed
	Unsubscribe
	Unsubscribed
)

// ParseKind maps a presence 'type' to a Kind; ok is false for every other type.
func ParseKind(typ []byte) (k Kind, ok bool) {
	switch string(typ) {
	case "subscribe":
		return Subscribe, true
	case "subscribed":
		return Subscribed, true
	case "unsubscribe":
		return Unsubscribe, true
	case "unsubscribed":
		return Unsubscribed, true
	}
	return 0, false
}

// String returns the 'type' attribute value.
func (k Kind) String() string {
	switch k {
	case Subscribe:
		return "subscribe"
	case Subscribed:
		return "subscribed"
	case Unsubscribe:
		return "unsubscribe"
	case Unsubscribed:
		return "unsubscribed"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func withTo(s backends.Subscription) backends.Subscription {
	if s.HasFrom() {
		return backends.SubBoth
	}
	return backends.SubTo
}

func withoutTo(s backends.Subscription) backends.Subscription {
	if s.HasFrom() {
		return backends.SubFrom
	}
	return backends.SubNone
}

func withFrom(s backends.Subscription) backends.Subscription {
	if s.HasTo() {
		return backends.SubBoth
	}
	return backends.SubFrom
}

func withoutFrom(s backends.Subscription) backends.Subscription {
	if s.HasTo() {
		return backends.SubTo
	}
	return backends.SubNone
}

// Outbound applies a subscription stanza of kind k that the user sends to the contact
// (Appendix A.2, tables 2 to 5) to the user's state s. It returns the new state and
// whether the stanza is routed to the contact. preApproval says whether the server
// supports pre-approvals (section 3.4): without them an unsolicited "subscribed" is
// ignored.
func Outbound(s State, k Kind, preApproval bool) (next State, route bool) {
	switch k {
	case Subscribe:
		// Table 2: always routed; "pending out" unless already subscribed.
		if !s.Sub.HasTo() {
			s.Out = true
		}
		return s, true
	case Unsubscribe:
		// Table 3: always routed; the user's subscription and request end.
		s.Out = false
		s.Sub = withoutTo(s.Sub)
		return s, true
	case Subscribed:
		// Table 4: approves a pending request; otherwise, unless the contact is
		// already subscribed, a pre-approval, which is never routed.
		switch {
		case s.In:
			s.In, s.Approved = false, false
			s.Sub = withFrom(s.Sub)
			return s, true
		case s.Sub.HasFrom():
			return s, false
		}
		if preApproval {
			s.Approved = true
		}
		return s, false
	case Unsubscribed:
		// Table 5: denies a pending request or cancels the contact's subscription;
		// otherwise not routed, but it cancels a pre-approval.
		switch {
		case s.In:
			s.In = false
			return s, true
		case s.Sub.HasFrom():
			s.Sub = withoutFrom(s.Sub)
			return s, true
		}
		s.Approved = false
		return s, false
	}
	return s, false
}

// Reply is the answer a server sends on the user's behalf to an inbound subscription
// stanza.
type Reply uint8

const (
	// NoReply: nothing is sent back.
	NoReply Reply = iota
	// ReplySubscribed: the contact is (now) subscribed to the user's presence.
	ReplySubscribed
)

// Inbound applies a subscription stanza of kind k that the contact sent to the user
// (Appendix A.3, tables 6 to 9) to the user's state s. It returns the new state,
// whether the stanza is delivered to the user, and the reply the server sends the
// contact on the user's behalf.
func Inbound(s State, k Kind) (next State, deliver bool, reply Reply) {
	switch k {
	case Subscribe:
		// Table 6.
		switch {
		case s.Sub.HasFrom():
			return s, false, ReplySubscribed // note [2]
		case s.In:
			return s, false, NoReply
		case s.Approved:
			// Note [1]: a pre-approved request is granted at once.
			s.Approved = false
			s.Sub = withFrom(s.Sub)
			return s, false, ReplySubscribed
		}
		s.In = true
		return s, true, NoReply
	case Unsubscribe:
		// Table 7. Its note [1] (auto-reply "unsubscribed") is left out: the
		// sender's state already has neither "to" nor "pending out" once its own
		// server processed the unsubscribe, so the reply would change nothing.
		if !s.In && !s.Sub.HasFrom() {
			return s, false, NoReply
		}
		s.In = false
		s.Sub = withoutFrom(s.Sub)
		return s, true, NoReply
	case Subscribed:
		// Table 8.
		if !s.Out {
			return s, false, NoReply
		}
		s.Out = false
		s.Sub = withTo(s.Sub)
		return s, true, NoReply
	case Unsubscribed:
		// Table 9.
		if !s.Out && !s.Sub.HasTo() {
			return s, false, NoReply
		}
		s.Out = false
		s.Sub = withoutTo(s.Sub)
		return s, true, NoReply
	}
	return s, false, NoReply
}

// stateOf returns the state of an item (found says whether it exists) with the
// pending-in flag.
func stateOf(it backends.RosterItem, found, in bool) State {
	if !found {
		return State{In: in}
	}
	return State{Sub: it.Subscription, Out: it.Ask, In: in, Approved: it.Approved}
}
