package roster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Both users of a subscription are on this host, so one pass applies what RFC 6121
// section 3 splits between two servers: the user's server processes the outbound
// stanza (Appendix A.2), the contact's server the inbound one (A.3), and each side's
// roster pushes, deliveries and presence notifications happen in the order the RFC
// gives. Each side is changed under its own stripe lock, never both at once.

// isLocal reports whether j is an account of this host.
func (s *Service) isLocal(j jid.JID) bool {
	return j.Localpart() != "" && j.Domainpart() == s.h.Domain()
}

// HandleSubscription takes a subscription stanza of kind k that the session sent to
// contact (a bare JID of this host), raw being the stanza as received and h its
// header. It queues the work behind the user's earlier subscription stanzas and
// reports false when the queue is full. Event loop; raw is copied.
func (s *Service) HandleSubscription(sess *engine.Session, raw []byte, h *stanza.Header, contact jid.JID, k Kind) bool {
	user := sess.JID().Bare()
	// contact may alias the connection's buffer (engine.Stanza.To): the queued work
	// needs its own copy. It is already normal, so Parse only checks it.
	contact, err := jid.Parse(strings.Clone(contact.String()))
	if err != nil {
		return false
	}
	// What the contact receives: stamped with the user's bare JID (3.1.2), addressed
	// to the contact's bare JID, children kept (status, nickname).
	out := stanza.AppendRewrite(nil, raw, h, []byte(user.String()), []byte(contact.String()))
	return s.enqueue(user.String(), func() {
		if err := s.outbound(s.h.Context(), user, contact, k, out); err != nil && !errors.Is(err, context.Canceled) {
			s.h.Log().Error("roster: subscription", "from", user.String(), "to", contact.String(), "type", k.String(), "err", err)
		}
	})
}

// read returns the state of (owner, contact) with the stored item. Worker; callers
// hold owner's stripe lock.
func (s *Service) read(ctx context.Context, owner, contact jid.JID) (State, backends.RosterItem, bool, error) {
	d, u, c := owner.Domainpart(), owner.Localpart(), contact.String()
	it, err := s.store.RosterItem(ctx, d, u, c)
	found := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return State{}, it, false, fmt.Errorf("read roster item: %w", err)
	}
	_, err = s.store.PendingIn(ctx, d, u, c)
	in := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return State{}, it, false, fmt.Errorf("read pending request: %w", err)
	}
	return stateOf(it, found, in), it, found, nil
}

// apply stores the move of (owner, contact) from prev to next: the item (created when
// the new state needs one, never deleted here) and the pending request (pending is the
// stanza to keep when next gains "Pending In"). A changed item updates the snapshot
// and is pushed to the owner's interested resources. Worker; callers hold owner's
// stripe lock.
func (s *Service) apply(ctx context.Context, owner, contact jid.JID, found bool, prev, next State, pending []byte) error {
	d, u, c := owner.Domainpart(), owner.Localpart(), contact.String()
	itemChanged := prev.Sub != next.Sub || prev.Out != next.Out || prev.Approved != next.Approved
	if !found {
		itemChanged = next.Sub != backends.SubNone || next.Out || next.Approved
	}
	if itemChanged {
		up, err := s.store.UpdateRosterItem(ctx, d, u, c, func(cur backends.RosterItem, _ bool) (backends.RosterItem, backends.RosterAction) {
			cur.Subscription, cur.Ask, cur.Approved = next.Sub, next.Out, next.Approved
			return cur, backends.RosterPut
		})
		if err != nil {
			return fmt.Errorf("write roster item: %w", err)
		}
		s.changed(owner, up.Item, false, up.Version)
	}
	switch {
	case next.In && !prev.In:
		if err := s.store.PutPendingIn(ctx, d, u, backends.PendingIn{Contact: c, Stanza: pending}); err != nil {
			return fmt.Errorf("store pending request: %w", err)
		}
	case !next.In && prev.In:
		if _, err := s.store.DeletePendingIn(ctx, d, u, c); err != nil {
			return fmt.Errorf("delete pending request: %w", err)
		}
	}
	return nil
}

// changed publishes a stored change of owner's roster: snapshot, pushes, event.
// Worker; callers hold owner's stripe lock, so that pushes leave in version order.
func (s *Service) changed(owner jid.JID, item backends.RosterItem, removed bool, version uint64) {
	s.updateSnapshot(owner.String(), item, !removed, version)
	s.push(owner, item, removed, version)
	s.h.Fire(engine.Event{Name: EventChanged, User: owner, Data: Change{Item: item, Removed: removed, Version: version}})
}

// outbound processes a subscription stanza from user to contact. Worker.
func (s *Service) outbound(ctx context.Context, user, contact jid.JID, k Kind, out []byte) error {
	lk := s.lockFor(user.String())
	lk.Lock()
	prev, _, found, err := s.read(ctx, user, contact)
	if err != nil {
		lk.Unlock()
		return err
	}
	next, route := Outbound(prev, k, s.preApproval)
	err = s.apply(ctx, user, contact, found, prev, next, nil)
	lk.Unlock()
	if err != nil || !route {
		return err
	}
	if k == Subscribe {
		// 3.1.3: a request for an account that does not exist is answered
		// "unsubscribed" on its behalf.
		if err := s.h.CheckUser(ctx, contact.Domainpart(), contact.Localpart()); errors.Is(err, backends.ErrNotFound) {
			return s.inbound(ctx, user, contact, Unsubscribed, presenceStanza(contact, user, "unsubscribed"))
		} else if err != nil {
			return fmt.Errorf("check that the contact exists: %w", err)
		}
	}
	if err := s.inbound(ctx, contact, user, k, out); err != nil {
		return err
	}
	switch k {
	case Subscribed:
		// 3.1.5: the approver's current presence follows the approval.
		s.sendPresence(user, contact, false)
	case Unsubscribed:
		// 3.2.2: a cancelled subscriber learns that the user is gone.
		s.sendPresence(user, contact, true)
	}
	return nil
}

// inbound processes a subscription stanza that peer sent to owner (both of this host):
// owner's side of the state machine, its pushes, the delivery of the stanza to owner's
// available resources and the replies made on owner's behalf. Worker.
func (s *Service) inbound(ctx context.Context, owner, peer jid.JID, k Kind, st []byte) error {
	lk := s.lockFor(owner.String())
	lk.Lock()
	prev, _, found, err := s.read(ctx, owner, peer)
	if err != nil {
		lk.Unlock()
		return err
	}
	next, deliver, reply := Inbound(prev, k)
	err = s.apply(ctx, owner, peer, found, prev, next, st)
	lk.Unlock()
	if err != nil {
		return err
	}
	if deliver {
		if err := s.h.Route(st); err != nil {
			return fmt.Errorf("deliver %s: %w", k, err)
		}
		if k == Unsubscribe {
			// 3.3.3: the former subscriber learns that owner is gone.
			s.sendPresence(owner, peer, true)
		}
	}
	if reply == ReplySubscribed {
		// 3.1.3 and 3.4: answered on owner's behalf; peer's side is the inbound
		// approval, then owner's current presence follows it.
		if err := s.inbound(ctx, peer, owner, Subscribed, presenceStanza(owner, peer, "subscribed")); err != nil {
			return err
		}
		s.sendPresence(owner, peer, false)
	}
	return nil
}

// presenceStanza builds <presence from=from to=to type=typ/>.
func presenceStanza(from, to jid.JID, typ string) []byte {
	var b stanza.Builder
	b.Start("presence").Attr("from", from.String()).Attr("to", to.String()).Attr("type", typ).End()
	out, _ := b.Finish()
	return out
}

// sendPresence sends to (a bare JID of this host) the presence of each available
// resource of owner: its last presence, or unavailable presence when unavailable is
// set. Any goroutine.
func (s *Service) sendPresence(owner, to jid.JID, unavailable bool) {
	bb := bytebufferpool.Get()
	defer bytebufferpool.Put(bb)
	toBytes := []byte(to.String())
	var check engine.Stanza
	for _, sess := range s.h.Sessions(owner.String()) {
		if avail, _ := sess.Available(); !avail {
			continue
		}
		if unavailable {
			var b stanza.Builder
			b.Reset(bb.B[:0])
			b.Start("presence").Attr("from", sess.JID().String()).Attr("to", to.String()).Attr("type", "unavailable").End()
			bb.B, _ = b.Finish()
		} else {
			last := sess.LastPresence()
			if last == nil {
				continue
			}
			var h stanza.Header
			if stanza.ParseHeader(last, &h) != nil {
				continue
			}
			bb.B = stanza.AppendRewrite(bb.B[:0], last, &h, nil, toBytes)
		}
		var h stanza.Header
		if stanza.ParseHeader(bb.B, &h) != nil {
			continue
		}
		check.Header = &h
		if !s.PresenceAllowed(&check, sess.JID(), sess, to, nil) {
			continue
		}
		if err := s.h.Route(bb.B); err != nil {
			s.h.Log().Debug("roster: presence to a contact", "to", to.String(), "err", err)
		}
	}
}

// cancelAll ends every subscription and request between owner and contact whose
// owner-side state was st, as if owner had sent "unsubscribe" and "unsubscribed": the
// roster removal of RFC 6121 2.5.2, and account removal. owner's own side is already
// gone. Worker.
func (s *Service) cancelAll(ctx context.Context, owner, contact jid.JID, st State) {
	if !s.isLocal(contact) || contact == owner {
		return
	}
	if st.Sub.HasTo() || st.Out {
		if err := s.inbound(ctx, contact, owner, Unsubscribe, presenceStanza(owner, contact, "unsubscribe")); err != nil {
			s.h.Log().Error("roster: cancel subscription", "from", owner.String(), "to", contact.String(), "err", err)
		}
	}
	if st.Sub.HasFrom() || st.In {
		if err := s.inbound(ctx, contact, owner, Unsubscribed, presenceStanza(owner, contact, "unsubscribed")); err != nil {
			s.h.Log().Error("roster: cancel subscription", "from", owner.String(), "to", contact.String(), "err", err)
		}
		if st.Sub.HasFrom() {
			s.sendPresence(owner, contact, true)
		}
	}
}

// DeliverPending sends the session the subscription requests its account has not
// answered (RFC 6121 3.1.3), dropping those already granted. Worker: it reads storage.
func (s *Service) DeliverPending(ctx context.Context, sess *engine.Session) {
	bare := sess.JID().Bare()
	ps, err := s.store.PendingIns(ctx, bare.Domainpart(), bare.Localpart())
	if err != nil {
		s.h.Log().Error("roster: read pending requests", "jid", bare.String(), "err", err)
		return
	}
	snap := s.Snapshot(bare.String())
	for _, p := range ps {
		if sub, _ := snap.Subscription(p.Contact); sub.HasFrom() {
			// Already granted: a stale request (a crash between the item's write
			// and the request's deletion) is dropped, not shown again.
			lk := s.lockFor(bare.String())
			lk.Lock()
			_, _ = s.store.DeletePendingIn(ctx, bare.Domainpart(), bare.Localpart(), p.Contact)
			lk.Unlock()
			continue
		}
		if len(p.Stanza) > 0 {
			sess.Send(p.Stanza)
			continue
		}
		if from, err := jid.Parse(p.Contact); err == nil {
			sess.Send(presenceStanza(from, bare, "subscribe"))
		}
	}
}
