package roster

import (
	"errors"
	"slices"
	"strconv"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Namespaces of RFC 6121 section 2 and its stream features.
const (
	NS            = "jabber:iq:roster"
	NSVersioning  = "urn:xmpp:features:rosterver"
	NSPreApproval = "urn:xmpp:features:pre-approval"
)

// handleIQ answers roster gets and sets (RFC 6121 2.1.3 to 2.5). Worker.
func (s *Service) handleIQ(iq *engine.IQ) {
	owner := iq.From.Bare()
	// 2.3.3: only the account's own resources may read or change its roster. A
	// request to the server itself is the same as one without 'to'.
	if !iq.ToAbsent && iq.To != owner && iq.To.String() != s.h.Domain() {
		iq.Error(stanza.StanzaError{Condition: stanza.Forbidden})
		return
	}
	if iq.Session == nil || !iq.Payload.Is(NS, "query") {
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
		return
	}
	switch iq.Type {
	case "get":
		s.rosterGet(iq, owner)
	case "set":
		s.rosterSet(iq, owner)
	default:
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
	}
}

// storageError answers a failed storage call.
func storageError(iq *engine.IQ, err error) {
	iq.Host.Log().Error("roster: storage", "jid", iq.From.String(), "err", err)
	if errors.Is(err, backends.ErrInvalid) {
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable})
		return
	}
	iq.Error(engine.StorageFailure(err))
}

// rosterGet answers a roster get (2.1.3), or with an empty result when the client's
// cached version is current (2.6.3). The session becomes an interested resource.
func (s *Service) rosterGet(iq *engine.IQ, owner jid.JID) {
	ctx := iq.Host.Context()
	d, u := owner.Domainpart(), owner.Localpart()
	cached, hasVer := iq.Payload.Attr("", "ver")
	if s.versioning && hasVer && cached != "" {
		cur, err := s.store.RosterVersion(ctx, d, u)
		if err != nil {
			storageError(iq, err)
			return
		}
		if cached == strconv.FormatUint(cur, 10) {
			s.setInterested(iq.Session)
			iq.Result(nil)
			return
		}
	}
	items, ver, err := s.store.Roster(ctx, d, u)
	if err != nil {
		storageError(iq, err)
		return
	}
	var b stanza.Builder
	b.Start("query").Xmlns(NS)
	if s.versioning {
		b.Attr("ver", strconv.FormatUint(ver, 10))
	}
	for i := range items {
		s.appendItem(&b, &items[i], false)
	}
	b.End()
	out, err := b.Finish()
	if err != nil {
		storageError(iq, err)
		return
	}
	s.setInterested(iq.Session)
	iq.Result(out)
}

// appendItem writes an <item/> (2.1.2): subscription 'remove' for a removed item.
func (s *Service) appendItem(b *stanza.Builder, it *backends.RosterItem, removed bool) {
	b.Start("item").Attr("jid", it.Contact)
	if removed {
		b.Attr("subscription", "remove").End()
		return
	}
	if it.Name != "" {
		b.Attr("name", it.Name)
	}
	b.Attr("subscription", it.Subscription.String())
	if it.Ask {
		b.Attr("ask", "subscribe")
	}
	if it.Approved && s.preApproval {
		b.Attr("approved", "true")
	}
	for _, g := range it.Groups {
		b.Start("group").Text(g).End()
	}
	b.End()
}

// push sends a roster push of item to every interested resource of owner (2.1.6).
// Worker or any goroutine: it does not block.
func (s *Service) push(owner jid.JID, item backends.RosterItem, removed bool, version uint64) {
	targets := s.interested(owner.String())
	if len(targets) == 0 {
		return
	}
	var b stanza.Builder
	for _, sess := range targets {
		b.Reset(b.B[:0])
		b.Start("iq").Attr("type", "set").Attr("id", "push"+strconv.FormatUint(s.pushID.Add(1), 10)).
			Attr("from", owner.String()).Attr("to", sess.JID().String())
		b.Start("query").Xmlns(NS)
		if s.versioning {
			b.Attr("ver", strconv.FormatUint(version, 10))
		}
		s.appendItem(&b, &item, removed)
		b.End().End()
		out, err := b.Finish()
		if err != nil {
			s.h.Log().Error("roster: build push", "err", err)
			return
		}
		sess.Send(out)
	}
}

// parsedItem is the item of a roster set.
type parsedItem struct {
	contact jid.JID
	name    string
	groups  []string
	remove  bool
}

// parseSet reads the single item of a roster set and checks it against 2.3.3.
func parseSet(q *stanza.Element) (parsedItem, stanza.StanzaCondition) {
	var item *stanza.Element
	n := 0
	for el := range q.ChildrenNamed(NS, "item") {
		item = el
		n++
	}
	if n != 1 {
		return parsedItem{}, stanza.BadRequest
	}
	raw, ok := item.Attr("", "jid")
	if !ok {
		return parsedItem{}, stanza.BadRequest
	}
	c, err := jid.Parse(raw)
	if err != nil {
		return parsedItem{}, stanza.JIDMalformed
	}
	if len(c.String()) > backends.MaxJIDLen {
		// A full JID may be longer than any store keeps.
		return parsedItem{}, stanza.NotAcceptable
	}
	p := parsedItem{contact: c}
	if sub, _ := item.Attr("", "subscription"); sub == "remove" {
		p.remove = true
		return p, 0
	}
	p.name, _ = item.Attr("", "name")
	if len(p.name) > backends.MaxRosterNameLen {
		return p, stanza.NotAcceptable
	}
	for g := range item.ChildrenNamed(NS, "group") {
		name := g.Text()
		switch {
		case name == "" || len(name) > backends.MaxGroupLen:
			return p, stanza.NotAcceptable
		case slices.Contains(p.groups, name):
			return p, stanza.BadRequest
		}
		p.groups = append(p.groups, name)
	}
	if len(p.groups) > backends.MaxGroups {
		return p, stanza.NotAcceptable
	}
	return p, 0
}

// rosterSet adds, updates (2.3, 2.4) or removes (2.5) an item.
func (s *Service) rosterSet(iq *engine.IQ, owner jid.JID) {
	p, cond := parseSet(iq.Payload)
	if cond != 0 {
		iq.Error(stanza.StanzaError{Condition: cond})
		return
	}
	if p.contact.Bare() == owner {
		// The interoperability note of 2.3.3: the user's own JID is refused.
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
		return
	}
	if p.remove {
		s.rosterRemove(iq, owner, p.contact)
		return
	}
	ctx := iq.Host.Context()
	d, u, c := owner.Domainpart(), owner.Localpart(), p.contact.String()
	lk := s.lockFor(owner.String())
	lk.Lock()
	defer lk.Unlock()
	if s.maxItems > 0 {
		if snap := s.Snapshot(owner.String()); snap != nil && snap.Len() >= s.maxItems {
			if _, in := snap.Subscription(c); !in {
				iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed, Text: "roster full"})
				return
			}
		}
	}
	up, err := s.store.UpdateRosterItem(ctx, d, u, c, func(cur backends.RosterItem, _ bool) (backends.RosterItem, backends.RosterAction) {
		// 2.1.2.5: a client does not set the subscription; only name and groups
		// change, and the item is replaced as a whole (2.4).
		cur.Name, cur.Groups = p.name, p.groups
		return cur, backends.RosterPut
	})
	if err != nil {
		storageError(iq, err)
		return
	}
	iq.Result(nil)
	s.changed(owner, up.Item, false, up.Version)
}

// rosterRemove deletes an item and cancels the subscriptions it carried (2.5.2).
func (s *Service) rosterRemove(iq *engine.IQ, owner, contact jid.JID) {
	ctx := iq.Host.Context()
	d, u, c := owner.Domainpart(), owner.Localpart(), contact.String()
	lk := s.lockFor(owner.String())
	lk.Lock()
	st, _, found, err := s.read(ctx, owner, contact)
	if err != nil {
		lk.Unlock()
		storageError(iq, err)
		return
	}
	if !found {
		lk.Unlock()
		iq.Error(stanza.StanzaError{Condition: stanza.ItemNotFound})
		return
	}
	ver, err := s.store.DeleteRosterItem(ctx, d, u, c)
	if err == nil && st.In {
		_, err = s.store.DeletePendingIn(ctx, d, u, c)
	}
	if err != nil {
		lk.Unlock()
		storageError(iq, err)
		return
	}
	iq.Result(nil)
	s.changed(owner, backends.RosterItem{Contact: c}, true, ver)
	lk.Unlock()
	s.cancelAll(ctx, owner, contact.Bare(), st)
}

// deliverPendingLater queues the delivery of pending requests to a session that just
// sent initial presence. Event loop.
func (s *Service) deliverPendingLater(sess *engine.Session) {
	if !s.h.Go(func() { s.DeliverPending(s.h.Context(), sess) }) {
		s.h.Log().Warn("roster: pending requests not delivered: worker queue full", "jid", sess.JID().String())
	}
}
