package sessions

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// run is the module's writer goroutine: it writes what the hooks noted, keeps the
// heartbeat, and notices outages and lost epochs. It exits when Stop closes m.stop.
func (m *Module) run() {
	defer close(m.done)
	hb := m.heartbeat()
	timer := time.NewTimer(hb)
	defer timer.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-m.wake:
			select {
			case <-time.After(linger):
			case <-m.stop:
				return
			}
			m.round()
		case <-timer.C:
			ctx, cancel := m.callContext()
			m.heartbeatOnce(ctx)
			if !m.outage.Load() && m.opts.PurgeDead {
				m.purgeDead(ctx)
			}
			cancel()
			m.round()
			next := hb
			if m.outage.Load() {
				next = min(hb, outageRetry)
			}
			timer.Reset(next)
		}
	}
}

// callContext bounds one registry call (or the few of a heartbeat). It does not derive
// from the host's context: a call in flight at shutdown finishes or times out.
func (m *Module) callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), m.opts.Timeout.D)
}

// heartbeatOnce refreshes the node and, when the registry came back or lost the
// node's entries, marks every live session for writing. Writer only (and Start).
func (m *Module) heartbeatOnce(ctx context.Context) {
	if m.purgePending {
		if _, err := m.reg.PurgeNode(ctx, m.opts.Node); err != nil {
			m.failed("purge", err)
			return
		}
		m.purgePending = false
	}
	epoch, err := m.reg.Refresh(ctx, m.opts.Node)
	if err != nil {
		m.failed("heartbeat", err)
		return
	}
	lost := m.epoch != "" && epoch != m.epoch
	m.epoch = epoch
	if m.recovered() || lost {
		if lost {
			m.log.Warn("the registry lost this node's entries; registering them again")
		}
		m.resync()
	}
}

// resync marks every live session for writing.
func (m *Module) resync() {
	m.mu.Lock()
	for full := range m.live {
		m.dirty[full] = struct{}{}
	}
	m.mu.Unlock()
	m.stats.resyncs.Add(1)
	m.signal()
}

// failed counts a failed call and logs the start of an outage once.
func (m *Module) failed(what string, err error) {
	m.stats.failures.Add(1)
	if !errors.Is(err, backends.ErrUnavailable) {
		m.log.Error("session registry", "op", what, "err", err)
		return
	}
	if m.outage.CompareAndSwap(false, true) {
		m.log.Warn("session registry unreachable: sessions are noted and written when it is back", "op", what, "err", err)
	}
}

// recovered ends an outage, logging it, and reports whether there was one.
func (m *Module) recovered() bool {
	if !m.outage.CompareAndSwap(true, false) {
		return false
	}
	m.log.Info("session registry reachable again: registering this node's sessions")
	return true
}

// write is one pending change: the entry to register, or the key to unregister.
type write struct {
	full string
	reg  *backends.Session // nil: unregister key
	key  backends.Session
}

// round writes everything noted so far, many calls at a time. A write that fails is
// noted again for a later round. Writer only.
func (m *Module) round() {
	m.mu.Lock()
	if len(m.dirty) == 0 {
		m.mu.Unlock()
		return
	}
	writes := make([]write, 0, len(m.dirty))
	for full := range m.dirty {
		w := write{full: full}
		if e := m.live[full]; e != nil {
			s := e.key
			avail, prio := e.sess.Available()
			s.Available, s.Priority = avail, int(prio)
			w.reg, w.key = &s, s
		} else {
			w.key = keyOf(full, m.opts.Node)
		}
		writes = append(writes, w)
	}
	clear(m.dirty)
	m.mu.Unlock()

	jobs := make(chan *write)
	var wg sync.WaitGroup
	var failedMu sync.Mutex
	var failed []string
	var firstErr error
	for range min(concurrency, len(writes)) {
		wg.Go(func() {
			for w := range jobs {
				// Each call gets the whole timeout: a resync of many sessions may take
				// longer than one, queued behind the others.
				ctx, cancel := m.callContext()
				var err error
				if w.reg != nil {
					err = m.reg.Register(ctx, *w.reg)
				} else {
					err = m.reg.Unregister(ctx, w.key.Domain, w.key.User, w.key.Resource, m.opts.Node)
				}
				cancel()
				switch {
				case err == nil && w.reg != nil:
					m.stats.registered.Add(1)
				case err == nil:
					m.stats.unregistered.Add(1)
				case errors.Is(err, backends.ErrInvalid):
					m.stats.failures.Add(1) // never writable: drop it
				default:
					failedMu.Lock()
					failed = append(failed, w.full)
					if firstErr == nil {
						firstErr = err
					}
					failedMu.Unlock()
				}
			}
		})
	}
	for i := range writes {
		jobs <- &writes[i]
	}
	close(jobs)
	wg.Wait()
	if len(failed) == 0 {
		if m.recovered() {
			m.resync()
		}
		return
	}
	m.failed("write", firstErr)
	m.stats.failures.Add(uint64(len(failed) - 1))
	m.mu.Lock()
	for _, full := range failed {
		m.dirty[full] = struct{}{}
	}
	m.mu.Unlock()
}

// keyOf splits a full JID noted by the hooks into the registry's key parts.
func keyOf(full, node string) backends.Session {
	s := backends.Session{Node: node}
	rest := full
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest, s.Resource = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		s.User, s.Domain = rest[:i], rest[i+1:]
	} else {
		s.Domain = rest
	}
	return s
}

// purgeDead purges the entries of nodes whose heartbeat expired. Writer only.
func (m *Module) purgeDead(ctx context.Context) {
	nodes, err := m.reg.Nodes(ctx)
	if err != nil {
		m.failed("nodes", err)
		return
	}
	for _, n := range nodes {
		if n.Alive || n.Name == m.opts.Node {
			continue
		}
		removed, err := m.reg.PurgeNode(ctx, n.Name)
		if err != nil {
			m.failed("purge dead node", err)
			return
		}
		m.stats.purgedDead.Add(uint64(removed))
		m.log.Info("purged a dead node's sessions", "dead", n.Name, "entries", removed)
	}
}
