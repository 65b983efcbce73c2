package backends

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MaxNodeLen is the longest cluster node name in bytes.
const MaxNodeLen = 255

// Session is one bound resource as the session registry records it: which node of a
// cluster holds it, and what a router needs to choose among a user's resources (RFC 6121
// section 8.5: availability and priority).
type Session struct {
	// Domain and User are the normalised domainpart and localpart of the bare JID, as
	// for Accounts.
	Domain, User string
	// Resource is the resourcepart of the full JID: non-empty, at most MaxPartLen bytes,
	// opaque to the registry.
	Resource string
	// Node names the cluster node that holds the session's connection (ValidateNode).
	Node string
	// Priority is the presence priority, -128 to 127 (RFC 6121 section 4.7.2.3).
	Priority int
	// Available is true once the session has sent available presence and until it
	// sends unavailable presence.
	Available bool
	// Since is when the resource was bound. A zero value given to Register is replaced
	// by the registry's current time. Registries keep milliseconds; the location of the
	// returned time is unspecified (compare with Equal).
	Since time.Time
}

// Validate checks the session's key parts, node and priority. The error wraps
// ErrInvalid.
func (s *Session) Validate() error {
	if err := ValidateKey(s.Domain, s.User); err != nil {
		return err
	}
	if s.Resource == "" {
		return fmt.Errorf("session of %s@%s without a resource: %w", s.User, s.Domain, ErrInvalid)
	}
	if len(s.Resource) > MaxPartLen {
		return fmt.Errorf("resource of %d bytes exceeds %d: %w", len(s.Resource), MaxPartLen, ErrInvalid)
	}
	if s.Priority < -128 || s.Priority > 127 {
		return fmt.Errorf("priority %d outside -128..127: %w", s.Priority, ErrInvalid)
	}
	return ValidateNode(s.Node)
}

// ValidateNode checks a cluster node name: non-empty, at most MaxNodeLen bytes, without
// '|' or control characters (registries use '|' as a separator in stored values). The
// error wraps ErrInvalid.
func ValidateNode(node string) error {
	if node == "" {
		return fmt.Errorf("empty node name: %w", ErrInvalid)
	}
	if len(node) > MaxNodeLen {
		return fmt.Errorf("node name of %d bytes exceeds %d: %w", len(node), MaxNodeLen, ErrInvalid)
	}
	if strings.ContainsFunc(node, func(r rune) bool { return r == '|' || r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("node name %q contains '|' or a control character: %w", node, ErrInvalid)
	}
	return nil
}

// NodeState is a node the registry knows, and whether its heartbeat is live.
type NodeState struct {
	Name  string
	Alive bool
}

// Sessions is the session registry: every node of a cluster records which full JIDs it
// holds, so that any node can ask where a user's resources are and with what presence.
// It is transient data: nothing in it outlives the nodes that wrote it.
//
// # Liveness
//
// Each node keeps a heartbeat by calling Refresh at least every TTL/3. A node's entries
// are visible to UserSessions only while its heartbeat is live: when a node stops
// refreshing (it crashed, or lost its connection to the registry) for TTL, all of its
// entries vanish at once, without anybody scanning them. Entries registered before a
// node's first Refresh are stored but not visible until it. PurgeNode then frees the
// storage a dead node left behind; any node may call it.
//
// # Epochs
//
// Refresh returns the node's epoch, an opaque string that stays the same as long as
// the registry keeps the node's entries. It changes when they were lost: the heartbeat
// expired, the registry's server restarted empty, or PurgeNode ran. A node that sees a
// new epoch registers its live sessions again.
//
// # Writes
//
// Register and Unregister are the high-volume side (one each per login and logout).
// Networked registries gather the calls made close together into one round trip, with
// a bounded queue: a caller blocks while the queue is full, for no longer than its
// context allows. Writes to one user are applied in the order they were made.
//
// The calling rules of Accounts apply: every method may block, none may be called on an
// event loop, all are safe for concurrent use from any goroutine. While the registry's
// server cannot be reached, calls fail promptly with an error wrapping ErrUnavailable;
// after Close, with ErrClosed. A context that is already done makes a method return its
// error; a write the registry already accepted may still be applied after the context
// is cancelled. Sessions returned share no memory with the registry.
type Sessions interface {
	// Register records s, replacing the entry of the same full JID whichever node held
	// it (a resource that moved to another node). ErrInvalid if s is malformed.
	Register(ctx context.Context, s Session) error

	// Unregister removes the entry of the full JID if node still holds it: an entry
	// that another node has since taken over is left alone. Removing an absent entry is
	// not an error. ErrInvalid if the key or node is malformed.
	Unregister(ctx context.Context, domain, user, resource, node string) error

	// UserSessions returns the user's entries held by nodes whose heartbeat is live, in
	// byte-wise order of Resource. A user without any gives an empty list.
	UserSessions(ctx context.Context, domain, user string) ([]Session, error)

	// NodeSessions returns every entry node holds, live or not (a survivor may read
	// what a dead node held before purging it), in byte-wise order of Domain, User,
	// Resource.
	NodeSessions(ctx context.Context, node string) ([]Session, error)

	// CountSessions returns how many entries node holds, live or not.
	CountSessions(ctx context.Context, node string) (int, error)

	// Refresh extends node's heartbeat by TTL, making its entries visible, and returns
	// its epoch (see the type's doc).
	Refresh(ctx context.Context, node string) (epoch string, err error)

	// Nodes returns the nodes that have refreshed and not been purged since, with
	// their liveness, in byte-wise order of Name.
	Nodes(ctx context.Context) ([]NodeState, error)

	// PurgeNode removes node's heartbeat and every entry it holds (not those another
	// node has taken over), and returns how many entries it removed. Registrations for
	// node made while PurgeNode runs may or may not survive it.
	PurgeNode(ctx context.Context, node string) (int, error)

	// TTL returns how long a node's entries outlive its last Refresh. Safe from any
	// goroutine; it does not block.
	TTL() time.Duration

	// Close waits for the writes already queued, then releases the registry. Calls made
	// after Close return an error wrapping ErrClosed. It may be called more than once.
	Close() error
}
