package offline

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// pendingMessage is a message waiting for the next flush.
type pendingMessage struct {
	domain, user string    // the recipient account
	raw          []byte    // the message with 'from' stamped (the sender's full JID)
	stamp        time.Time // when it arrived
}

// enqueue copies the message out of the connection's buffer and makes sure a flush
// will write it. On the sender's event loop: it never blocks.
func (m *Module) enqueue(st *engine.Stanza) {
	raw := stanza.AppendRewrite(nil, st.Raw, st.Header, []byte(st.From.String()), nil)
	// st.To may alias the connection's buffer: the parts are copied.
	p := pendingMessage{domain: strings.Clone(st.To.Domainpart()), user: strings.Clone(st.To.Localpart()), raw: raw, stamp: m.now()}
	m.mu.Lock()
	if len(m.pending) >= maxPendingMessages || m.pendingBytes+len(raw) > maxPendingBytes {
		m.mu.Unlock()
		m.bounce(p.raw, stanza.StanzaError{Condition: stanza.ResourceConstraint, Text: "offline storage is busy"})
		return
	}
	m.pending = append(m.pending, p)
	m.pendingBytes += len(raw)
	if m.flushing {
		m.mu.Unlock()
		return
	}
	m.flushing = true
	m.mu.Unlock()
	if !m.host.Go(m.flush) {
		// No flush is running, so the queue held only this message.
		m.mu.Lock()
		m.pending, m.pendingBytes, m.flushing = nil, 0, false
		m.idle.Broadcast()
		m.mu.Unlock()
		m.bounce(p.raw, stanza.StanzaError{Condition: stanza.ResourceConstraint, Text: "offline storage is busy"})
	}
}

// flush writes what is queued, batch after batch, until the queue is empty. It runs
// on a worker; at most one runs at a time.
func (m *Module) flush() {
	for {
		m.mu.Lock()
		batch := m.pending
		m.pending, m.pendingBytes = nil, 0
		if len(batch) == 0 {
			m.flushing = false
			m.idle.Broadcast()
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		m.write(batch)
	}
}

// write stores one batch: messages for accounts that do not exist are bounced, the
// others appended in one call, those refused (queue full) bounced. Accounts that
// became available while their messages were being written get a delivery, so that
// a message stored just after the login's delivery read the queue is not left
// waiting for the next login.
func (m *Module) write(batch []pendingMessage) {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	type account struct{ domain, user string }
	exists := make(map[account]bool)
	msgs := make([]backends.OfflineMessage, 0, len(batch))
	kept := make([]int, 0, len(batch)) // batch index of each element of msgs
	for i, p := range batch {
		a := account{p.domain, p.user}
		ok, seen := exists[a]
		if !seen {
			err := m.host.CheckUser(ctx, p.domain, p.user)
			if err != nil && !errors.Is(err, backends.ErrNotFound) {
				m.host.Log().Error("offline: read account", "user", p.user+"@"+p.domain, "err", err)
				m.bounce(p.raw, engine.StorageFailure(err))
				continue
			}
			ok = err == nil
			exists[a] = ok
		}
		if !ok {
			m.bounce(p.raw, stanza.StanzaError{Condition: stanza.ServiceUnavailable})
			continue
		}
		var h stanza.Header
		if err := stanza.ParseHeader(p.raw, &h); err != nil {
			m.host.Log().Error("offline: stored message unreadable", "err", err)
			continue
		}
		raw, err := appendDelay(nil, p.raw, &h, m.host.Domain(), p.stamp)
		if err != nil {
			m.host.Log().Error("offline: add delay", "err", err)
			m.bounce(p.raw, stanza.StanzaError{Condition: stanza.InternalServerError})
			continue
		}
		msgs = append(msgs, backends.OfflineMessage{Domain: p.domain, User: p.user, Stamp: p.stamp, Raw: raw})
		kept = append(kept, i)
	}
	if len(msgs) == 0 {
		return
	}
	seqs, err := m.store.AppendOffline(ctx, msgs, m.opts.MaxMessages)
	if err != nil {
		m.host.Log().Error("offline: store messages", "count", len(msgs), "err", err)
		for _, i := range kept {
			m.bounce(batch[i].raw, engine.StorageFailure(err))
		}
		return
	}
	stored := make(map[account]bool)
	for j, seq := range seqs {
		p := batch[kept[j]]
		if seq == 0 {
			m.bounce(p.raw, stanza.StanzaError{Condition: m.full, Text: "the recipient's offline message queue is full"})
			continue
		}
		stored[account{p.domain, p.user}] = true
	}
	for a := range stored {
		if s := m.bestSession(a.user + "@" + a.domain); s != nil {
			m.deliver(s)
		}
	}
}

// bounce sends the error reply to raw (a message with 'from' stamped) to its sender.
// Any goroutine.
func (m *Module) bounce(raw []byte, e stanza.StanzaError) {
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil || h.IsError() {
		return
	}
	reply := stanza.AppendErrorReply(nil, raw, &h, e)
	if err := m.host.Route(reply); err != nil {
		m.host.Log().Debug("offline: bounce not routed", "err", err)
	}
}
