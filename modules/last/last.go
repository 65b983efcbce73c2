// Package last is mod_last: Last Activity (XEP-0012). Sent to the host it answers the
// server's uptime; sent to an account's bare JID, how long ago the user's last session
// ended and the status text of their last unavailable presence, or 0 while a session
// is connected. It records the end of every user's last session through
// backends.LastActivity.
//
// Who may ask about an account (XEP-0012 section 3): the user, and whoever is
// subscribed to the user's presence (the requester is in the user's roster with
// subscription 'from' or 'both'), read through backends.Rosters. Anyone else gets
// forbidden, as the XEP requires; ejabberd's subscription-required is not in the XEP.
// With a store that keeps no rosters, only the user may ask. An account that does not
// exist gets service-unavailable (RFC 6121 8.5.1), and so does an account with no
// recorded logout, as in ejabberd.
//
// Logouts are gathered in memory for flush_interval (DefaultFlushInterval) and written
// in one batch (backends.SetLastLogouts); queries read the gathered ones first.
//
// It must not block an event loop: its presence hook only reads the stanza and
// remembers a status in memory; storage runs in the session-closed hook, the iq
// handler (on workers) and the module's own writer goroutine.
package last

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Name is the module's configuration name.
const Name = "mod_last"

// NS is the XEP-0012 namespace.
const NS = "jabber:iq:last"

// removalTimeout bounds the storage work done outside an iq handler.
const removalTimeout = 10 * time.Second

// Options are the keys of [modules.mod_last].
type Options struct {
	// FlushInterval is how long logouts gather before they are written together
	// (DefaultFlushInterval); 0 writes each logout at once, durable before the session
	// is forgotten.
	FlushInterval config.Duration `toml:"flush_interval"`
}

// Module serves last activity for one host.
type Module struct {
	opts    Options
	host    *engine.Host
	store   backends.LastActivity
	rosters backends.Rosters // nil: only the user may ask
	started time.Time
	now     func() time.Time // replaced by tests

	// status holds the status text of the last unavailable presence of the sessions
	// that sent one with a status, until they close or become available again. Only
	// such sessions have an entry: an idle server holds nothing.
	status *xsync.Map[*engine.Session, string]

	// logouts gathers logouts for the writer; nil when FlushInterval is 0.
	logouts *logouts
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	opts := Options{FlushInterval: config.Dur(DefaultFlushInterval)}
	if err := mc.Decode(&opts); err != nil {
		return nil, err
	}
	return &Module{opts: opts, now: time.Now, status: xsync.NewMap[*engine.Session, string]()}, nil
}

// Start checks that the store keeps last logouts and registers the handlers.
func (m *Module) Start(h *engine.Host) error {
	st, ok := h.Store().(backends.LastActivity)
	if !ok {
		return fmt.Errorf("%s: the storage backend %T does not store last activity (backends.LastActivity)", Name, h.Store())
	}
	m.host, m.store = h, st
	m.rosters, _ = h.Store().(backends.Rosters)
	if m.rosters == nil {
		h.Log().Warn(Name + ": the storage backend keeps no rosters: only users themselves can read their last activity")
	}
	m.started = m.now()
	h.AddFeature(NS)
	h.AddAccountFeature(NS)
	h.HandleIQ(NS, m.handle)
	h.OnUserSend(engine.PriorityLast, m.onSend)
	h.OnSessionClosed(engine.PriorityDefault, m.onClosed)
	h.On(engine.EventUserRemoved, engine.PriorityDefault, m.onUserRemoved)
	if m.opts.FlushInterval.D > 0 {
		m.logouts = newLogouts(m.opts.FlushInterval.D, st, func(n int, err error) {
			h.Log().Error("store last logouts", "logouts", n, "err", err)
		})
		go m.logouts.run()
	}
	return nil
}

// Stop writes the logouts still gathered.
func (m *Module) Stop() error {
	if m.logouts != nil {
		m.logouts.close()
	}
	return nil
}

// onSend runs on the sender's event loop for every stanza a user sends: it looks only
// at presence without 'to' (the user's own availability).
func (m *Module) onSend(st *engine.Stanza) engine.HookResult {
	h := st.Header
	if h.Kind != stanza.Presence || h.To != nil {
		return engine.Continue
	}
	switch string(h.Type) {
	case "":
		m.status.Delete(st.Session)
	case "unavailable":
		if s := statusOf(st.Raw); s != "" {
			m.status.Store(st.Session, s)
		} else {
			m.status.Delete(st.Session)
		}
	}
	return engine.Continue
}

// statusOf returns the text of the presence's first <status/>, cut to
// backends.MaxStatusLen bytes on a character boundary.
func statusOf(raw []byte) string {
	el, err := stanza.ParseIn(raw, stanza.NSClient)
	if err != nil {
		return ""
	}
	defer el.Release()
	s, _ := el.ChildText(stanza.NSClient, "status")
	if len(s) > backends.MaxStatusLen {
		s = s[:backends.MaxStatusLen]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// onClosed runs on a worker when a session ended. The logout is recorded when it was
// the user's last session: while another one is connected the answer is 0 anyway.
func (m *Module) onClosed(ctx context.Context, s *engine.Session) {
	status, _ := m.status.LoadAndDelete(s)
	bare := s.JID().Bare()
	if len(m.host.Sessions(bare.String())) > 0 {
		return
	}
	domain, user := bare.Domainpart(), bare.Localpart()
	// Whole seconds, as stores keep them: a query answers the same before the write.
	rec := backends.LastLogout{At: m.now().Truncate(time.Second), Status: status}
	if m.logouts != nil {
		a := account{domain, user}
		// An account removed lately may have been created again: only then ask.
		if !m.logouts.put(a, rec) && m.exists(ctx, bare) {
			m.logouts.revive(a)
			m.logouts.put(a, rec)
		}
		return
	}
	// The sessions of a removed account close after its data was dropped: do not
	// leave a record behind.
	if !m.exists(ctx, bare) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removalTimeout)
	defer cancel()
	if err := m.store.SetLastLogout(ctx, domain, user, rec); err != nil {
		m.host.Log().Error("store last logout", "user", bare.String(), "err", err)
	}
}

// exists asks the host's authentication methods whether the account exists; a
// failure to answer counts as no, and is logged.
func (m *Module) exists(ctx context.Context, bare jid.JID) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removalTimeout)
	defer cancel()
	err := m.host.CheckUser(ctx, bare.Domainpart(), bare.Localpart())
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		m.host.Log().Error("read account", "user", bare.String(), "err", err)
	}
	return err == nil
}

// handle runs on a worker.
func (m *Module) handle(iq *engine.IQ) {
	switch {
	case iq.Type != "get":
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
	case !iq.Payload.Is(NS, "query"):
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
	case iq.ToAbsent || iq.To.Equal(iq.From.Bare()):
		iq.Result(appendQuery(nil, 0, "")) // the user is asking: a session is connected
	case iq.To.Localpart() == "":
		iq.Result(appendQuery(nil, m.now().Sub(m.started), ""))
	default:
		m.account(iq)
	}
}

// account answers a query about another account.
func (m *Module) account(iq *engine.IQ) {
	ctx := m.host.Context()
	domain, user := iq.To.Domainpart(), iq.To.Localpart()
	if err := m.host.CheckUser(ctx, domain, user); err != nil {
		m.fail(iq, "read account", err, stanza.ServiceUnavailable)
		return
	}
	allowed := false
	if m.rosters != nil {
		it, err := m.rosters.RosterItem(ctx, domain, user, iq.From.Bare().String())
		if err != nil && !errors.Is(err, backends.ErrNotFound) {
			m.fail(iq, "read roster item", err, 0)
			return
		}
		allowed = err == nil && it.Subscription.HasFrom()
	}
	if !allowed {
		iq.Error(stanza.StanzaError{Condition: stanza.Forbidden})
		return
	}
	if len(m.host.Sessions(iq.To.String())) > 0 {
		iq.Result(appendQuery(nil, 0, ""))
		return
	}
	l, ok := m.pendingLogout(domain, user)
	var err error
	if !ok {
		l, err = m.store.LastLogout(ctx, domain, user)
	}
	if err != nil {
		m.fail(iq, "read last logout", err, stanza.ServiceUnavailable)
		return
	}
	iq.Result(appendQuery(nil, m.now().Sub(l.At), l.Status))
}

// pendingLogout returns the account's logout still waiting to be written.
func (m *Module) pendingLogout(domain, user string) (backends.LastLogout, bool) {
	if m.logouts == nil {
		return backends.LastLogout{}, false
	}
	return m.logouts.get(account{domain, user})
}

// fail answers notFound for an error wrapping backends.ErrNotFound (when notFound is
// set), internal-server-error for any other, which it logs.
func (m *Module) fail(iq *engine.IQ, what string, err error, notFound stanza.StanzaCondition) {
	if notFound != 0 && errors.Is(err, backends.ErrNotFound) {
		iq.Error(stanza.StanzaError{Condition: notFound})
		return
	}
	m.host.Log().Error(what, "user", iq.To.String(), "err", err)
	iq.Error(engine.StorageFailure(err))
}

// appendQuery appends <query xmlns='jabber:iq:last' seconds='N'>status</query>, with
// d in whole seconds (a negative d, from a clock set back, counts as 0).
func appendQuery(dst []byte, d time.Duration, status string) []byte {
	dst = append(dst, "<query xmlns='jabber:iq:last' seconds='"...)
	dst = strconv.AppendInt(dst, int64(max(d, 0)/time.Second), 10)
	if status == "" {
		return append(dst, "'/>"...)
	}
	dst = append(dst, "'>"...)
	dst = stanza.EscapeText(dst, status)
	return append(dst, "</query>"...)
}

// onUserRemoved deletes a removed account's record. It runs on the goroutine that
// removes the account, which may block.
func (m *Module) onUserRemoved(ev engine.Event) engine.HookResult {
	if m.logouts != nil {
		m.logouts.forget(account{ev.User.Domainpart(), ev.User.Localpart()}, time.Now())
	}
	ctx, cancel := context.WithTimeout(context.Background(), removalTimeout)
	defer cancel()
	if err := m.store.DeleteLastLogout(ctx, ev.User.Domainpart(), ev.User.Localpart()); err != nil {
		m.host.Log().Error("delete last logout of removed user", "user", ev.User.String(), "err", err)
	}
	return engine.Continue
}
