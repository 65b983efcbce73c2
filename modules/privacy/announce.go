package privacy

import (
	"context"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Presence after a change of the lists in force. XEP-0016 section 2.11: when a user
// blocks outbound presence to a contact, the server sends the contact unavailable
// presence (if the contact was entitled to the user's presence); XEP-0191 sections 3.3
// and 3.4 say the same of block, and that an unblocked contact gets the current
// presence back. One mechanism serves every change: the list in force for each
// available session before and after it, compared for each subscriber.

// inForce returns the list in force for each available session of u. Called with
// u.mu held.
func (m *Module) inForce(u *user) map[*engine.Session]*rules {
	out := map[*engine.Session]*rules{}
	for _, s := range m.host.Sessions(u.bare.String()) {
		if avail, _ := s.Available(); avail {
			out[s] = u.effective(s)
		}
	}
	return out
}

// announce sends each subscriber of u ("from" or "both") to whom a session's presence
// is now denied that session's unavailable presence, and to whom it is allowed again
// its current presence. before is what inForce returned before the change. Called on a
// worker with u.mu held.
func (m *Module) announce(ctx context.Context, u *user, before map[*engine.Session]*rules) {
	if m.rosters == nil {
		return
	}
	var subscribers []jid.JID
	var view *rosterView
	loaded := false
	for s, old := range before {
		now := u.effective(s)
		if now == old {
			continue
		}
		if !loaded {
			loaded = true
			items, _, err := m.rosters.Roster(ctx, u.bare.Domainpart(), u.bare.Localpart())
			if err != nil {
				m.host.Log().Warn("privacy: roster for presence after a list change", "user", u.bare.String(), "err", err)
				return
			}
			view = newRosterView(items)
			for _, it := range items {
				if j, err := jid.Parse(it.Contact); err == nil && it.Subscription.HasFrom() {
					subscribers = append(subscribers, j)
				}
			}
		}
		for _, c := range subscribers {
			was, is := deniesOut(old, c, view), deniesOut(now, c, view)
			switch {
			case !was && is:
				var b stanza.Builder
				b.Start("presence").Attr("from", s.JID().String()).Attr("to", c.String()).Attr("type", "unavailable").End()
				if out, err := b.Finish(); err == nil {
					_ = m.host.Route(out) // a remote contact is unreachable without s2s
				}
			case was && !is:
				last := s.LastPresence()
				var h stanza.Header
				if last == nil || stanza.ParseHeader(last, &h) != nil {
					continue
				}
				_ = m.host.Route(stanza.AppendRewrite(nil, last, &h, nil, []byte(c.String())))
			}
		}
	}
}

func deniesOut(r *rules, c jid.JID, view *rosterView) bool {
	if r == nil {
		return false
	}
	deny, _ := r.decide(c, backends.PrivacyPresenceOut, view)
	return deny
}
