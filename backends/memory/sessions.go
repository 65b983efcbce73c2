package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Sessions is an in-memory backends.Sessions: the registry of a single-node server, and
// the reference the networked registries are tested against. Expiry is checked when
// entries are read, against the wall clock. The zero value is not usable: call
// NewSessions. All methods are safe for concurrent use and never block on I/O.
type Sessions struct {
	ttl time.Duration

	mu     sync.RWMutex
	closed bool
	users  map[userKey]map[string]sessionEntry // (domain, user) -> resource -> entry
	nodes  map[string]*nodeEntry
	epochs uint64 // epochs handed out so far
}

type sessionEntry struct {
	node      string
	priority  int
	available bool
	since     time.Time
}

// nodeEntry is a node's heartbeat and the index of its entries.
type nodeEntry struct {
	name    string    // the registry's own copy, so entries do not pin callers' buffers
	expires time.Time // zero: never refreshed, or purged
	epoch   string
	held    map[sessionKey]struct{}
}

type sessionKey struct{ domain, user, resource string }

var _ backends.Sessions = (*Sessions)(nil)

// NewSessions returns an empty registry whose nodes' entries outlive their last Refresh
// by ttl, which must be positive. Safe from any goroutine.
func NewSessions(ttl time.Duration) *Sessions {
	if ttl <= 0 {
		panic("memory: NewSessions with a non-positive ttl")
	}
	return &Sessions{ttl: ttl, users: map[userKey]map[string]sessionEntry{}, nodes: map[string]*nodeEntry{}}
}

// TTL implements backends.Sessions.
func (r *Sessions) TTL() time.Duration { return r.ttl }

// check reports why a call cannot proceed. Callers hold r.mu.
func (r *Sessions) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	if r.closed {
		return fmt.Errorf("memory: %s: %w", op, backends.ErrClosed)
	}
	return nil
}

// node returns the entry of name, creating it. Callers hold r.mu for writing.
func (r *Sessions) node(name string) *nodeEntry {
	n := r.nodes[name]
	if n == nil {
		n = &nodeEntry{name: strings.Clone(name), held: map[sessionKey]struct{}{}}
		r.nodes[n.name] = n
	}
	return n
}

func (n *nodeEntry) alive(now time.Time) bool { return n != nil && now.Before(n.expires) }

// Register implements backends.Sessions.
func (r *Sessions) Register(ctx context.Context, s backends.Session) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("memory: register %s@%s/%s: %w", s.User, s.Domain, s.Resource, err)
	}
	if s.Since.IsZero() {
		s.Since = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "register"); err != nil {
		return err
	}
	uk := keyOf(s.Domain, s.User)
	res := r.users[uk]
	if res == nil {
		res = map[string]sessionEntry{}
		r.users[uk] = res
	}
	sk := sessionKey{uk.domain, uk.user, strings.Clone(s.Resource)}
	if old, ok := res[sk.resource]; ok && old.node != s.Node {
		if n := r.nodes[old.node]; n != nil {
			delete(n.held, sk)
		}
	}
	n := r.node(s.Node)
	res[sk.resource] = sessionEntry{node: n.name, priority: s.Priority, available: s.Available, since: s.Since.Truncate(time.Millisecond)}
	n.held[sk] = struct{}{}
	return nil
}

// Unregister implements backends.Sessions.
func (r *Sessions) Unregister(ctx context.Context, domain, user, resource, node string) error {
	if err := validateFullKey(domain, user, resource, node); err != nil {
		return fmt.Errorf("memory: unregister %s@%s/%s: %w", user, domain, resource, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "unregister"); err != nil {
		return err
	}
	r.remove(sessionKey{domain, user, resource}, node)
	return nil
}

// remove deletes the entry k if node holds it. Callers hold r.mu for writing.
func (r *Sessions) remove(k sessionKey, node string) bool {
	if n := r.nodes[node]; n != nil {
		delete(n.held, k)
	}
	uk := userKey{k.domain, k.user}
	res := r.users[uk]
	if e, ok := res[k.resource]; !ok || e.node != node {
		return false
	}
	delete(res, k.resource)
	if len(res) == 0 {
		delete(r.users, uk)
	}
	return true
}

func validateFullKey(domain, user, resource, node string) error {
	s := backends.Session{Domain: domain, User: user, Resource: resource, Node: node}
	return s.Validate()
}

// UserSessions implements backends.Sessions.
func (r *Sessions) UserSessions(ctx context.Context, domain, user string) ([]backends.Session, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("memory: sessions of %s@%s: %w", user, domain, err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := r.check(ctx, "user sessions"); err != nil {
		return nil, err
	}
	now := time.Now()
	var out []backends.Session
	for res, e := range r.users[userKey{domain, user}] {
		if r.nodes[e.node].alive(now) {
			out = append(out, e.session(domain, user, res))
		}
	}
	sortSessions(out)
	return out, nil
}

func (e sessionEntry) session(domain, user, resource string) backends.Session {
	return backends.Session{Domain: domain, User: user, Resource: resource, Node: e.node,
		Priority: e.priority, Available: e.available, Since: e.since}
}

func sortSessions(ss []backends.Session) {
	slices.SortFunc(ss, func(a, b backends.Session) int {
		return cmp.Or(strings.Compare(a.Domain, b.Domain), strings.Compare(a.User, b.User), strings.Compare(a.Resource, b.Resource))
	})
}

// NodeSessions implements backends.Sessions.
func (r *Sessions) NodeSessions(ctx context.Context, node string) ([]backends.Session, error) {
	if err := backends.ValidateNode(node); err != nil {
		return nil, fmt.Errorf("memory: sessions of node: %w", err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := r.check(ctx, "node sessions"); err != nil {
		return nil, err
	}
	n := r.nodes[node]
	if n == nil {
		return nil, nil
	}
	out := make([]backends.Session, 0, len(n.held))
	for k := range n.held {
		out = append(out, r.users[userKey{k.domain, k.user}][k.resource].session(k.domain, k.user, k.resource))
	}
	sortSessions(out)
	return out, nil
}

// CountSessions implements backends.Sessions.
func (r *Sessions) CountSessions(ctx context.Context, node string) (int, error) {
	if err := backends.ValidateNode(node); err != nil {
		return 0, fmt.Errorf("memory: count sessions of node: %w", err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := r.check(ctx, "count sessions"); err != nil {
		return 0, err
	}
	if n := r.nodes[node]; n != nil {
		return len(n.held), nil
	}
	return 0, nil
}

// Refresh implements backends.Sessions.
func (r *Sessions) Refresh(ctx context.Context, node string) (string, error) {
	if err := backends.ValidateNode(node); err != nil {
		return "", fmt.Errorf("memory: refresh: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "refresh "+node); err != nil {
		return "", err
	}
	now := time.Now()
	n := r.node(node)
	if !n.alive(now) {
		r.epochs++
		n.epoch = "m" + strconv.FormatUint(r.epochs, 10)
	}
	n.expires = now.Add(r.ttl)
	return n.epoch, nil
}

// Nodes implements backends.Sessions.
func (r *Sessions) Nodes(ctx context.Context) ([]backends.NodeState, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := r.check(ctx, "nodes"); err != nil {
		return nil, err
	}
	now := time.Now()
	var out []backends.NodeState
	for name, n := range r.nodes {
		if n.epoch != "" {
			out = append(out, backends.NodeState{Name: name, Alive: n.alive(now)})
		}
	}
	slices.SortFunc(out, func(a, b backends.NodeState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// PurgeNode implements backends.Sessions.
func (r *Sessions) PurgeNode(ctx context.Context, node string) (int, error) {
	if err := backends.ValidateNode(node); err != nil {
		return 0, fmt.Errorf("memory: purge: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "purge "+node); err != nil {
		return 0, err
	}
	n := r.nodes[node]
	if n == nil {
		return 0, nil
	}
	removed := 0
	for k := range n.held {
		if r.remove(k, node) {
			removed++
		}
	}
	delete(r.nodes, node)
	return removed, nil
}

// Close empties the registry; later calls return ErrClosed. It may be called more than
// once.
func (r *Sessions) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.users, r.nodes = nil, nil
	return nil
}
