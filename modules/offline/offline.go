// Package offline is mod_offline: offline message storage (XEP-0160) with delayed
// delivery stamps (XEP-0203).
//
// A chat or normal message for an account with no available resource of non-negative
// priority (the engine's OnUndeliverable hook) is stamped with its sender, given a
// <delay/> from the host, and kept through backends.Offline, up to max_messages per
// account. It is delivered, oldest first, when the account next sends available
// presence of non-negative priority, to the resource that sent it, and deleted once
// handed to that session.
//
// # Choices
//
//   - Queue full: resource-constraint (type wait) with a text, bounced to the sender.
//     XEP-0160 section 2 suggests service-unavailable, but that condition also means
//     "no such user" and "no offline storage" (RFC 6121 8.5.2.2.1), and tells the
//     sender there is no point in trying again; resource-constraint says what happened
//     and that a later try may work (the queue drains at the next login). Option
//     full_error = "service-unavailable" restores the XEP's condition.
//   - A message for an account that does not exist is bounced with
//     service-unavailable (RFC 6121 8.5.1), as if no module had taken it.
//   - Chat-state-only messages and messages with a <no-store/> hint (XEP-0334) are
//     dropped silently; <store/> forces storage. Error, groupchat and headline
//     messages are never stored (XEP-0160 section 4; the engine does not offer them).
//
// # Threads and storage
//
// Hooks run on event loops and never touch storage. The undeliverable hook copies the
// message into a bounded in-memory queue; one flush at a time runs on the worker pool
// and writes everything queued since the last one in a single AppendOffline (one
// commit), so the write rate follows the store's commit rate rather than the message
// rate. The account check and the bounces of refused messages happen in the flush.
// Deliveries run on workers too, one at a time per account.
package offline

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_offline"

// FeatureMsgOffline is the disco feature of XEP-0160.
const FeatureMsgOffline = "msgoffline"

// EventDelivered is fired (Host.Fire) after offline messages were handed to a session;
// Event.User is the account's bare JID and Event.Data the number of messages (int). It
// fires on the worker that delivered them.
const EventDelivered = "offline-delivered"

// DefaultMaxMessages is the default of Options.MaxMessages.
const DefaultMaxMessages = 100

// Bounds of the in-memory queue between the hook and the store: past them, messages
// are bounced with resource-constraint rather than queued (the store is not keeping
// up, or is down).
const (
	maxPendingMessages = 10_000
	maxPendingBytes    = 64 << 20
)

// storageTimeout bounds each storage call made outside an iq.
const storageTimeout = 30 * time.Second

// Options are the module's configuration keys.
type Options struct {
	// MaxMessages is how many messages one account may have waiting; default
	// DefaultMaxMessages, 1 to 1,000,000.
	MaxMessages int `toml:"max_messages"`
	// FullError is the condition bounced when the queue is full: "resource-constraint"
	// (default) or "service-unavailable".
	FullError string `toml:"full_error"`
}

// Module stores and delivers the offline messages of one host.
type Module struct {
	opts  Options
	full  stanza.StanzaCondition
	host  *engine.Host
	store backends.Offline
	now   func() time.Time // replaced by tests

	mu           sync.Mutex
	idle         sync.Cond // signalled when flushing becomes false
	pending      []pendingMessage
	pendingBytes int
	flushing     bool // a flush is queued or running; pending is non-empty only then

	locks userLocks // one delivery at a time per account
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{MaxMessages: DefaultMaxMessages, FullError: "resource-constraint"}, now: time.Now}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	if m.opts.MaxMessages < 1 || m.opts.MaxMessages > 1_000_000 {
		return nil, mc.Errorf("max_messages", "%d: want 1 to 1000000", m.opts.MaxMessages)
	}
	switch m.opts.FullError {
	case "resource-constraint":
		m.full = stanza.ResourceConstraint
	case "service-unavailable":
		m.full = stanza.ServiceUnavailable
	default:
		return nil, mc.Errorf("full_error", "%q: want \"resource-constraint\" or \"service-unavailable\"", m.opts.FullError)
	}
	m.idle.L = &m.mu
	return m, nil
}

// Start checks that the store keeps offline messages and registers the hooks.
func (m *Module) Start(h *engine.Host) error {
	st, ok := h.Store().(backends.Offline)
	if !ok {
		return fmt.Errorf("%s: the storage backend %T does not store offline messages (backends.Offline)", Name, h.Store())
	}
	m.host, m.store = h, st
	h.AddFeature(FeatureMsgOffline)
	h.OnUndeliverable(engine.PriorityDefault, m.onUndeliverable)
	h.OnUserSend(engine.PriorityLast, m.onSend)
	h.On(engine.EventUserRemoved, engine.PriorityDefault, m.onUserRemoved)
	return nil
}

// Stop waits until every message queued has been written (or bounced). The worker
// pool is still running when modules stop.
func (m *Module) Stop() error {
	m.mu.Lock()
	for m.flushing {
		m.idle.Wait()
	}
	m.mu.Unlock()
	return nil
}

// onUndeliverable runs on the sender's event loop for a chat or normal message to an
// account of this host with no available resource.
func (m *Module) onUndeliverable(st *engine.Stanza) engine.HookResult {
	switch string(st.Header.Type) {
	case "", "normal", "chat":
	default:
		return engine.Continue
	}
	switch decide(st.Raw) {
	case drop:
		return engine.Stop
	case bounce:
		return engine.Continue
	}
	m.enqueue(st)
	return engine.Stop
}

// onSend runs on the sender's event loop for every stanza a user sends: it starts a
// delivery when a session becomes available with a non-negative priority, which it
// was not before (XEP-0160: "when the recipient next sends non-negative available
// presence").
func (m *Module) onSend(st *engine.Stanza) engine.HookResult {
	h := st.Header
	if h.Kind != stanza.Presence || h.To != nil || len(h.Type) != 0 {
		return engine.Continue
	}
	if avail, prio := st.Session.Available(); avail && prio >= 0 {
		return engine.Continue // already eligible: nothing new to deliver
	}
	if priorityOf(st.Raw) < 0 {
		return engine.Continue
	}
	s := st.Session
	if !m.host.Go(func() { m.deliver(s) }) {
		m.host.Log().Warn("offline delivery postponed to the next presence: worker queue full", "jid", s.JID().String())
	}
	return engine.Continue
}

// onUserRemoved deletes a removed account's messages. It runs on the goroutine that
// removes the account, which may block.
func (m *Module) onUserRemoved(ev engine.Event) engine.HookResult {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	if _, err := m.store.DeleteOffline(ctx, ev.User.Domainpart(), ev.User.Localpart(), math.MaxUint64); err != nil {
		m.host.Log().Error("delete offline messages of removed user", "user", ev.User.String(), "err", err)
	}
	return engine.Continue
}
