package privacy

import (
	"context"
	"slices"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// The blocking command (XEP-0191) as a front end to the default privacy list, as
// MongooseIM does and XEP-0191 section 6 recommends: blocking a JID puts a jid item
// with action deny and no children at the head of the default list (creating the list
// BlockListName and making it the default when the user has none), the block list is
// the set of such items in the default list, and unblocking removes them.

func (m *Module) handleBlocking(iq *engine.IQ) {
	if !m.ownRequest(iq) {
		iq.Error(stanza.StanzaError{Condition: stanza.Forbidden})
		return
	}
	u := m.lock(iq.From.Bare())
	defer m.unlock(u)
	u.prune(m.host.Sessions(u.bare.String()))
	ss := u.ensure(iq.Session)
	ctx := m.host.Context()
	before := m.inForce(u)
	el := iq.Payload
	switch {
	case iq.Type == "get" && el.Is(NSBlocking, "blocklist"):
		ss.blocklist.Store(true)
		set, err := m.settings(ctx, u)
		if err != nil {
			m.answerError(iq, err)
			return
		}
		var b stanza.Builder
		b.Start("blocklist").Xmlns(NSBlocking)
		if l := set.DefaultList(); l != nil {
			for _, j := range blockedJIDs(l) {
				b.Start("item").Attr("jid", j).End()
			}
		}
		b.End()
		m.result(iq, &b)
	case iq.Type == "set" && el.Is(NSBlocking, "block"):
		jids, err := blockItems(el)
		if err == nil && len(jids) == 0 {
			err = refuse(stanza.BadRequest, "block needs at least one item")
		}
		if err == nil {
			err = m.block(ctx, u, jids)
		}
		if err != nil {
			m.answerError(iq, err)
			return
		}
		iq.Result(nil)
		m.pushBlocking(u, "block", jids)
		m.announce(ctx, u, before)
	case iq.Type == "set" && el.Is(NSBlocking, "unblock"):
		jids, err := blockItems(el)
		if err == nil {
			err = m.unblock(ctx, u, jids)
		}
		if err != nil {
			m.answerError(iq, err)
			return
		}
		iq.Result(nil)
		m.pushBlocking(u, "unblock", jids)
		m.announce(ctx, u, before)
	default:
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
	}
}

// blockItems reads the <item jid='...'/> children of block or unblock, normalised and
// without duplicates.
func blockItems(el *stanza.Element) ([]jid.JID, error) {
	var out []jid.JID
	for _, c := range el.Children() {
		if !c.Is(NSBlocking, "item") {
			return nil, refuse(stanza.BadRequest, "only items may be blocked")
		}
		v, _ := c.Attr("", "jid")
		j, err := jid.Parse(v)
		if err != nil {
			return nil, refuse(stanza.JIDMalformed, "not a JID: "+v)
		}
		if !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out, nil
}

// block adds jids to the block list and applies it at once. Called with u.mu held.
func (m *Module) block(ctx context.Context, u *user, jids []jid.JID) error {
	var added []jid.JID
	set, err := m.update(ctx, u, func(s *backends.PrivacySettings) error {
		added = added[:0]
		var l backends.PrivacyList
		if d := s.DefaultList(); d != nil {
			l = cloneList(d)
		} else if old := s.List(BlockListName); old != nil {
			l = cloneList(old)
		} else {
			if len(s.Lists) >= m.opts.MaxLists {
				return refuse(stanza.PolicyViolation, "too many privacy lists")
			}
			l.Name = BlockListName
		}
		for _, j := range jids {
			if !slices.ContainsFunc(l.Items, func(it backends.PrivacyItem) bool {
				return isBlockItem(&it) && it.Value == j.String()
			}) {
				added = append(added, j)
			}
		}
		if len(l.Items)+len(added) > m.opts.MaxItems {
			return refuse(stanza.PolicyViolation, "too many blocked JIDs")
		}
		l.Items = prepend(l.Items, added)
		s.Put(l)
		s.Default = l.Name
		return nil
	})
	if err != nil {
		return err
	}
	d := set.DefaultList()
	r := compile(d)
	u.def.Store(r) // the list may have just become the default
	m.applyEdit(ctx, u, d.Name, r)
	m.pushList(u, d.Name, func(ss *session) bool { return ss.privacy.Load() })
	return nil
}

// prepend puts block items for jids before items, keeping the existing orders when
// there is room below them and shifting them otherwise (XEP-0191 section 6: block items
// come first).
func prepend(items []backends.PrivacyItem, jids []jid.JID) []backends.PrivacyItem {
	n := uint32(len(jids))
	if n == 0 {
		return items
	}
	var start uint32
	switch {
	case len(items) == 0:
	case items[0].Order >= n:
		start = items[0].Order - n
	case uint64(items[len(items)-1].Order)+uint64(n) <= 1<<32-1:
		for i := range items {
			items[i].Order += n
		}
	default:
		for i := range items {
			items[i].Order = n + uint32(i)
		}
	}
	head := make([]backends.PrivacyItem, 0, len(jids)+len(items))
	for i, j := range jids {
		head = append(head, backends.PrivacyItem{Type: backends.PrivacyJID, Value: j.String(), Deny: true, Order: start + uint32(i)})
	}
	return append(head, items...)
}

func cloneList(l *backends.PrivacyList) backends.PrivacyList {
	return backends.PrivacyList{Name: l.Name, Items: slices.Clone(l.Items)}
}

// unblock removes jids (all block items when jids is empty) from the block list.
// Called with u.mu held.
func (m *Module) unblock(ctx context.Context, u *user, jids []jid.JID) error {
	var removed []string
	var name string
	set, err := m.update(ctx, u, func(s *backends.PrivacySettings) error {
		removed, name = removed[:0], ""
		d := s.DefaultList()
		if d == nil {
			return nil
		}
		l := cloneList(d)
		name = l.Name
		l.Items = slices.DeleteFunc(l.Items, func(it backends.PrivacyItem) bool {
			if !isBlockItem(&it) || len(jids) > 0 && !slices.ContainsFunc(jids, func(j jid.JID) bool { return j.String() == it.Value }) {
				return false
			}
			removed = append(removed, it.Value)
			return true
		})
		if len(l.Items) == 0 && l.Name == BlockListName {
			// The list was only ever the block list: nothing is left to keep.
			s.Remove(l.Name)
			return nil
		}
		s.Put(l)
		return nil
	})
	if err != nil || name == "" {
		return err
	}
	if d := set.List(name); d != nil {
		m.applyEdit(ctx, u, name, compile(d))
	} else {
		m.applyEdit(ctx, u, name, nil)
	}
	m.pushList(u, name, func(ss *session) bool { return ss.privacy.Load() })
	return nil
}

// pushBlocking sends a block or unblock push to every resource of u that retrieved the
// block list (XEP-0191 sections 3.3 to 3.5).
func (m *Module) pushBlocking(u *user, what string, jids []jid.JID) {
	for _, s := range m.host.Sessions(u.bare.String()) {
		ss := u.find(s)
		if ss == nil || !ss.blocklist.Load() {
			continue
		}
		var b stanza.Builder
		b.Start("iq").Attr("type", "set").Attr("id", m.nextPushID()).Attr("to", s.JID().String())
		b.Start(what).Xmlns(NSBlocking)
		for _, j := range jids {
			b.Start("item").Attr("jid", j.String()).End()
		}
		b.End().End()
		if out, err := b.Finish(); err == nil {
			s.Send(out)
		}
	}
}
