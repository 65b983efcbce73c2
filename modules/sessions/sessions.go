package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/redis"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_sessions"

// Defaults of Options.
const (
	DefaultTTL     = 30 * time.Second
	DefaultTimeout = 2 * time.Second
	// outageRetry is how often the heartbeat is tried while the registry is down.
	outageRetry = time.Second
	// linger is how long the writer waits after being woken, so that changes made
	// together (and the engine's own presence bookkeeping) land in one round.
	linger = 2 * time.Millisecond
	// concurrency is how many registry calls one round has in flight.
	concurrency = 256
)

// Options are the keys of [modules.mod_sessions].
type Options struct {
	// Node names this server in the registry; the host name by default.
	Node string `toml:"node"`
	// TTL is how long the node's entries outlive its last heartbeat, for a registry the
	// module opens (default 30s).
	TTL config.Duration `toml:"ttl"`
	// Heartbeat is how often the node refreshes its heartbeat (default TTL/3, at most
	// TTL/2).
	Heartbeat config.Duration `toml:"heartbeat"`
	// Timeout bounds one registry call (default 2s).
	Timeout config.Duration `toml:"timeout"`
	// RedisAddr, when set, makes the module open its own Redis registry at host:port
	// instead of using the server's store.
	RedisAddr     string `toml:"redis_addr"`
	RedisDB       int    `toml:"redis_db"`
	RedisPassword string `toml:"redis_password"`
	// KeyPrefix starts every Redis key (default "hermod:").
	KeyPrefix string `toml:"key_prefix"`
	// PurgeDead makes the module purge the entries of nodes whose heartbeat expired
	// (default true).
	PurgeDead bool `toml:"purge_dead"`
}

// Module records the host's sessions in the registry.
type Module struct {
	opts Options
	host *engine.Host
	log  *slog.Logger
	reg  backends.Sessions
	own  bool // reg was opened by the module, which closes it

	mu    sync.Mutex
	live  map[string]*entry   // full JID -> the session holding it on this node
	dirty map[string]struct{} // full JIDs whose entry must be written (or removed)
	wake  chan struct{}       // capacity 1: a change is waiting

	stop chan struct{}
	done chan struct{}

	epoch        string // the registry's epoch for the node, as last seen; writer only
	purgePending bool   // the start-up purge failed; writer only
	outage       atomic.Bool
	stats        counters
}

// entry is a bound session of this host.
type entry struct {
	sess *engine.Session
	full string           // the full JID, the module's own copy
	key  backends.Session // Domain, User, Resource, Node, Since
}

type counters struct {
	registered, unregistered, failures, resyncs, purgedDead atomic.Uint64
}

// Stats are the module's counters, for tests and metrics.
type Stats struct {
	// Live is the number of sessions the module tracks; Pending how many of them (or of
	// those that ended) still wait to be written.
	Live, Pending int
	// Registered and Unregistered count successful writes; Failures failed ones.
	Registered, Unregistered, Failures uint64
	// Resyncs counts the times every live session was written again.
	Resyncs uint64
	// PurgedDead counts the entries of dead nodes purged.
	PurgedDead uint64
	// Outage is true while the registry cannot be reached.
	Outage bool
}

// New is the module's engine.ModuleFactory: it decodes and checks the options, and
// touches no registry. The engine calls it on the goroutine starting the server.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{TTL: config.Dur(DefaultTTL), Timeout: config.Dur(DefaultTimeout), PurgeDead: true}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	if m.opts.Node == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("%s: no node name given and no host name: %w", Name, err)
		}
		m.opts.Node = h
	}
	if err := backends.ValidateNode(m.opts.Node); err != nil {
		return nil, mc.Errorf("node", "%v", err)
	}
	if m.opts.TTL.D < 10*time.Millisecond {
		return nil, mc.Errorf("ttl", "%v is below 10ms", m.opts.TTL.D)
	}
	if m.opts.Timeout.D <= 0 {
		m.opts.Timeout.D = DefaultTimeout
	}
	return m, nil
}

// openRegistry returns the registry the options name, and whether the module owns it.
func openRegistry(o Options, store backends.Store) (backends.Sessions, bool, error) {
	if o.RedisAddr != "" {
		r, err := redis.Open(redis.Options{Addr: o.RedisAddr, DB: o.RedisDB, Password: o.RedisPassword,
			Prefix: o.KeyPrefix, TTL: o.TTL.D, Timeout: o.Timeout.D})
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", Name, err)
		}
		return r, true, nil
	}
	if reg, ok := store.(backends.Sessions); ok {
		return reg, false, nil
	}
	return nil, false, fmt.Errorf("%s: the store (%T) keeps no sessions: set redis_addr", Name, store)
}

// heartbeat returns the interval between refreshes.
func (m *Module) heartbeat() time.Duration {
	ttl := m.reg.TTL()
	if hb := m.opts.Heartbeat.D; hb > 0 && hb <= ttl/2 {
		return hb
	}
	return max(ttl/3, time.Millisecond)
}

// Start opens the registry, purges what an earlier run of this node left, and starts
// the writer. The engine calls it once, on the goroutine starting the server; it may
// block up to twice the timeout on an unresponsive registry. It fails only when there is no registry to use: a registry that cannot be
// reached now is written to when it can.
func (m *Module) Start(h *engine.Host) error {
	reg, own, err := openRegistry(m.opts, h.Store())
	if err != nil {
		return err
	}
	m.host, m.log, m.reg, m.own = h, h.Log().With("module", Name, "node", m.opts.Node), reg, own
	m.live, m.dirty = map[string]*entry{}, map[string]struct{}{}
	m.wake, m.stop, m.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})

	ctx, cancel := context.WithTimeout(h.Context(), m.opts.Timeout.D)
	defer cancel()
	if n, err := m.reg.PurgeNode(ctx, m.opts.Node); err != nil {
		m.purgePending = true
		m.failed("purge at start", err)
	} else {
		if n > 0 {
			m.log.Info("purged entries of an earlier run", "entries", n)
		}
		m.heartbeatOnce(ctx)
	}

	h.OnSessionOpened(engine.PriorityLast, m.opened)
	h.OnSessionClosed(engine.PriorityLast, m.closed)
	h.OnUserSend(engine.PriorityLast, m.presence)
	go m.run()
	return nil
}

// Stop ends the writer, removes the node's entries and closes a registry the module
// opened. The engine calls it once, after the last client has gone; it may block up to
// the timeout.
func (m *Module) Stop() error {
	close(m.stop)
	<-m.done
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.Timeout.D)
	defer cancel()
	_, err := m.reg.PurgeNode(ctx, m.opts.Node)
	if err != nil {
		err = fmt.Errorf("%s: purge node %s at stop: %w", Name, m.opts.Node, err)
	}
	if m.own {
		err = errors.Join(err, m.reg.Close())
	}
	return err
}

// Registry returns the registry the module writes to. Safe from any goroutine.
func (m *Module) Registry() backends.Sessions { return m.reg }

// Node returns the module's node name. Safe from any goroutine.
func (m *Module) Node() string { return m.opts.Node }

// Stats returns the module's counters. Safe from any goroutine.
func (m *Module) Stats() Stats {
	m.mu.Lock()
	live, pending := len(m.live), len(m.dirty)
	m.mu.Unlock()
	return Stats{Live: live, Pending: pending, Registered: m.stats.registered.Load(),
		Unregistered: m.stats.unregistered.Load(), Failures: m.stats.failures.Load(),
		Resyncs: m.stats.resyncs.Load(), PurgedDead: m.stats.purgedDead.Load(), Outage: m.outage.Load()}
}

// opened runs on a worker after a bind: it notes the session and returns at once.
func (m *Module) opened(_ context.Context, s *engine.Session) {
	j := s.JID()
	full := strings.Clone(j.String())
	e := &entry{sess: s, full: full, key: backends.Session{Domain: strings.Clone(j.Domainpart()), User: strings.Clone(j.Localpart()),
		Resource: strings.Clone(j.Resourcepart()), Node: m.opts.Node, Since: time.Now()}}
	m.mu.Lock()
	m.live[full] = e
	m.dirty[full] = struct{}{}
	m.mu.Unlock()
	m.signal()
}

// closed runs on a worker after a session left the session table.
func (m *Module) closed(_ context.Context, s *engine.Session) {
	full := s.JID().String()
	m.mu.Lock()
	// A session replaced by a newer bind of the same resource closes after the new one
	// opened: leave the new one's entry alone.
	if e := m.live[full]; e != nil && e.sess == s {
		delete(m.live, full)
		m.dirty[strings.Clone(full)] = struct{}{}
	}
	m.mu.Unlock()
	m.signal()
}

// presence runs on the sender's event loop for every stanza a user sends: broadcast
// presence (no 'to') may change availability or priority. It only marks the session;
// the writer reads the session's presence when it writes, after the engine applied it.
func (m *Module) presence(st *engine.Stanza) engine.HookResult {
	if st.Header.Kind != stanza.Presence || !st.To.IsZero() || st.Session == nil {
		return engine.Continue
	}
	m.mu.Lock()
	if e := m.live[st.From.String()]; e != nil && e.sess == st.Session {
		m.dirty[e.full] = struct{}{}
	}
	m.mu.Unlock()
	m.signal()
	return engine.Continue
}

func (m *Module) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}
