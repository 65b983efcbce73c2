package privacy

import (
	"context"
	"errors"
	"strconv"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// The jabber:iq:privacy protocol (XEP-0016 sections 2.3 to 2.8). Handlers run on
// workers with the user's mutex held, so the stored settings and the memory state
// change together and in the order the requests were taken.

// ownRequest reports whether iq is the user's own business: sent without 'to', to the
// user's bare JID, or to the server. Another account's lists are never reachable.
func (m *Module) ownRequest(iq *engine.IQ) bool {
	if iq.Session == nil {
		return false
	}
	return iq.ToAbsent || iq.To == iq.From.Bare() || iq.To.String() == m.host.Domain()
}

// answerError answers iq with the condition of a refusal, or internal-server-error for
// a storage failure (logged).
func (m *Module) answerError(iq *engine.IQ, err error) {
	var ce *condError
	switch {
	case errors.As(err, &ce):
		iq.Error(stanza.StanzaError{Condition: ce.cond, Text: ce.text})
	case errors.Is(err, backends.ErrInvalid):
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable})
	default:
		m.host.Log().Error("privacy: storage", "user", iq.From.Bare().String(), "err", err)
		iq.Error(engine.StorageFailure(err))
	}
}

func (m *Module) handlePrivacy(iq *engine.IQ) {
	if !m.ownRequest(iq) {
		iq.Error(stanza.StanzaError{Condition: stanza.Forbidden})
		return
	}
	u := m.lock(iq.From.Bare())
	defer m.unlock(u)
	u.prune(m.host.Sessions(u.bare.String()))
	ss := u.ensure(iq.Session)
	ss.privacy.Store(true)
	ctx := m.host.Context()
	before := m.inForce(u)
	children := iq.Payload.Children()
	if iq.Type == "get" {
		switch {
		case len(children) == 0:
			m.getNames(ctx, iq, u, ss)
		case len(children) == 1 && children[0].Is(NSPrivacy, "list"):
			m.getList(ctx, iq, u, children[0])
		default:
			// XEP-0016 section 2.3: one list at a time.
			iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
		}
		return
	}
	if len(children) != 1 {
		// Section 2.1: a set carries exactly one of active, default and list.
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
		return
	}
	el := children[0]
	var err error
	switch {
	case el.Is(NSPrivacy, "active"):
		err = m.setActive(ctx, u, ss, el)
	case el.Is(NSPrivacy, "default"):
		err = m.setDefault(ctx, iq.Session, u, el)
	case el.Is(NSPrivacy, "list"):
		var name string
		if name, err = m.setList(ctx, iq.Session, u, el); err == nil {
			iq.Result(nil)
			m.pushList(u, name, func(*session) bool { return true })
			m.announce(ctx, u, before)
			return
		}
	default:
		err = refuse(stanza.BadRequest, "a privacy set holds active, default or list")
	}
	if err != nil {
		m.answerError(iq, err)
		return
	}
	iq.Result(nil)
	m.announce(ctx, u, before)
}

func (m *Module) settings(ctx context.Context, u *user) (backends.PrivacySettings, error) {
	return m.store.PrivacySettings(ctx, u.bare.Domainpart(), u.bare.Localpart())
}

func (m *Module) update(ctx context.Context, u *user, fn backends.PrivacyUpdateFunc) (backends.PrivacySettings, error) {
	return m.store.UpdatePrivacy(ctx, u.bare.Domainpart(), u.bare.Localpart(), fn)
}

// getNames answers a get without a list: the session's active list, the default, and
// every list's name (XEP-0016 section 2.3).
func (m *Module) getNames(ctx context.Context, iq *engine.IQ, u *user, ss *session) {
	set, err := m.settings(ctx, u)
	if err != nil {
		m.answerError(iq, err)
		return
	}
	var b stanza.Builder
	b.Start("query").Xmlns(NSPrivacy)
	if a := ss.active.Load(); a != nil {
		b.Start("active").Attr("name", a.name).End()
	}
	if set.Default != "" {
		b.Start("default").Attr("name", set.Default).End()
	}
	for _, l := range set.Lists {
		b.Start("list").Attr("name", l.Name).End()
	}
	b.End()
	m.result(iq, &b)
}

// getList answers a get of one list, or item-not-found.
func (m *Module) getList(ctx context.Context, iq *engine.IQ, u *user, el *stanza.Element) {
	name, _ := el.Attr("", "name")
	set, err := m.settings(ctx, u)
	if err != nil {
		m.answerError(iq, err)
		return
	}
	l := set.List(name)
	if l == nil {
		iq.Error(stanza.StanzaError{Condition: stanza.ItemNotFound})
		return
	}
	var b stanza.Builder
	b.Start("query").Xmlns(NSPrivacy)
	appendList(&b, l)
	b.End()
	m.result(iq, &b)
}

func (m *Module) result(iq *engine.IQ, b *stanza.Builder) {
	out, err := b.Finish()
	if err != nil {
		m.host.Log().Error("privacy: build reply", "err", err)
		iq.Error(stanza.StanzaError{Condition: stanza.InternalServerError})
		return
	}
	iq.Result(out)
}

// setActive makes a list the session's active list, or declines one (<active/>
// without a name): section 2.4. The list applies before the result is sent.
func (m *Module) setActive(ctx context.Context, u *user, ss *session, el *stanza.Element) error {
	name, _ := el.Attr("", "name")
	if name == "" {
		ss.active.Store(nil)
		m.loadRoster(ctx, u)
		return nil
	}
	set, err := m.settings(ctx, u)
	if err != nil {
		return err
	}
	l := set.List(name)
	if l == nil {
		return refuse(stanza.ItemNotFound, "no such list")
	}
	ss.active.Store(compile(l))
	m.loadRoster(ctx, u)
	return nil
}

// othersUseDefault reports whether a connected resource other than self has no active
// list, so that the default list applies to it. Called with u.mu held.
func (m *Module) othersUseDefault(u *user, self *engine.Session) bool {
	for _, s := range m.host.Sessions(u.bare.String()) {
		if s == self {
			continue
		}
		if ss := u.find(s); ss == nil || ss.active.Load() == nil {
			return true
		}
	}
	return false
}

// othersUseActive reports whether a connected resource other than self has name as its
// active list. Called with u.mu held.
func (m *Module) othersUseActive(u *user, self *engine.Session, name string) bool {
	for _, s := range m.host.Sessions(u.bare.String()) {
		if s == self {
			continue
		}
		if ss := u.find(s); ss != nil {
			if a := ss.active.Load(); a != nil && a.name == name {
				return true
			}
		}
	}
	return false
}

// setDefault changes or declines the default list (section 2.5): conflict while the
// current default applies to another connected resource.
func (m *Module) setDefault(ctx context.Context, self *engine.Session, u *user, el *stanza.Element) error {
	name, _ := el.Attr("", "name")
	othersUse := m.othersUseDefault(u, self)
	set, err := m.update(ctx, u, func(s *backends.PrivacySettings) error {
		if name != "" && s.List(name) == nil {
			return refuse(stanza.ItemNotFound, "no such list")
		}
		if s.Default != name && s.Default != "" && othersUse {
			return refuse(stanza.Conflict, "the default list is in use by another resource")
		}
		s.Default = name
		return nil
	})
	if err != nil {
		return err
	}
	if l := set.DefaultList(); l != nil {
		u.def.Store(compile(l))
	} else {
		u.def.Store(nil)
	}
	m.loadRoster(ctx, u)
	return nil
}

// setList creates, replaces or (with no item) removes a list (sections 2.6 to 2.8),
// applying the new definition at once wherever the list is active or default. It
// returns the list's name for the push.
func (m *Module) setList(ctx context.Context, self *engine.Session, u *user, el *stanza.Element) (string, error) {
	if len(el.Children()) == 0 {
		name, _ := el.Attr("", "name")
		if name == "" {
			return "", refuse(stanza.BadRequest, "a list needs a name")
		}
		return name, m.removeList(ctx, self, u, name)
	}
	l, err := parseList(el, m.opts.MaxItems)
	if err != nil {
		return "", err
	}
	if err := m.checkGroups(ctx, u, &l); err != nil {
		return "", err
	}
	_, err = m.update(ctx, u, func(s *backends.PrivacySettings) error {
		if s.List(l.Name) == nil && len(s.Lists) >= m.opts.MaxLists {
			return refuse(stanza.PolicyViolation, "too many privacy lists")
		}
		s.Put(l)
		return nil
	})
	if err != nil {
		return "", err
	}
	m.applyEdit(ctx, u, l.Name, compile(&l))
	return l.Name, nil
}

// applyEdit swaps the new definition of list name (nil: removed) in wherever it
// applies (XEP-0016 rule 8). Called with u.mu held.
func (m *Module) applyEdit(ctx context.Context, u *user, name string, r *rules) {
	if d := u.def.Load(); d != nil && d.name == name {
		u.def.Store(r)
	}
	if p := u.sessions.Load(); p != nil {
		for _, ss := range *p {
			if a := ss.active.Load(); a != nil && a.name == name {
				ss.active.Store(r)
			}
		}
	}
	m.loadRoster(ctx, u)
}

func (m *Module) removeList(ctx context.Context, self *engine.Session, u *user, name string) error {
	othersUse := m.othersUseActive(u, self, name)
	othersUseDefault := m.othersUseDefault(u, self)
	_, err := m.update(ctx, u, func(s *backends.PrivacySettings) error {
		if s.List(name) == nil {
			return refuse(stanza.ItemNotFound, "no such list")
		}
		if othersUse || s.Default == name && othersUseDefault {
			return refuse(stanza.Conflict, "the list is in use by another resource")
		}
		s.Remove(name)
		return nil
	})
	if err != nil {
		return err
	}
	m.applyEdit(ctx, u, name, nil)
	return nil
}

// checkGroups refuses group items naming a group the user's roster does not have
// (XEP-0016 section 2.1 says item-not-found).
func (m *Module) checkGroups(ctx context.Context, u *user, l *backends.PrivacyList) error {
	var view *rosterView
	for _, it := range l.Items {
		if it.Type != backends.PrivacyGroup {
			continue
		}
		if view == nil {
			if m.rosters != nil {
				items, _, err := m.rosters.Roster(ctx, u.bare.Domainpart(), u.bare.Localpart())
				if err != nil {
					return err
				}
				view = newRosterView(items)
			} else {
				view = &rosterView{}
			}
		}
		if !view.hasGroup(it.Value) {
			return refuse(stanza.ItemNotFound, "no such group in the roster: "+it.Value)
		}
	}
	return nil
}

// pushList sends a privacy list push (section 2.6) to every connected resource of u
// for which want says yes.
func (m *Module) pushList(u *user, name string, want func(*session) bool) {
	for _, s := range m.host.Sessions(u.bare.String()) {
		ss := u.find(s)
		if ss == nil {
			ss = &session{s: s}
		}
		if !want(ss) {
			continue
		}
		var b stanza.Builder
		b.Start("iq").Attr("type", "set").Attr("id", m.nextPushID()).Attr("to", s.JID().String())
		b.Start("query").Xmlns(NSPrivacy).Start("list").Attr("name", name).End().End()
		b.End()
		if out, err := b.Finish(); err == nil {
			s.Send(out)
		}
	}
}

func (m *Module) nextPushID() string {
	return "privacy-push-" + strconv.FormatUint(m.pushID.Add(1), 10)
}
