package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hermod-im/hermod/backends"
)

// Registry is a backends.Sessions on a Redis server. Make one with Open; all methods are
// safe for concurrent use from any goroutine, and may block on the network (never call
// them on an event loop).
type Registry struct {
	opts   Options
	c      *goredis.Client
	keys   keyspace
	health health

	shards  []*shard
	closing chan struct{} // closed by Close: writers drain their queues and exit
	stopped chan struct{} // closed once the writers have exited
	writers sync.WaitGroup
	once    sync.Once
}

var _ backends.Sessions = (*Registry)(nil)

// Open makes a registry for the server at opts.Addr and starts its writers. It does not
// contact the server: a registry opened while Redis is down works once it is up. Close
// it when done. Safe from any goroutine; it does not block.
func Open(opts Options) (*Registry, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := goredis.NewClient(&goredis.Options{
		Addr:                  o.Addr,
		Username:              o.Username,
		Password:              o.Password,
		DB:                    o.DB,
		Protocol:              2,
		DialTimeout:           o.Timeout,
		ReadTimeout:           o.Timeout,
		WriteTimeout:          o.Timeout,
		PoolTimeout:           o.Timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1, // the gate and the callers decide when to try again
		DialerRetries:         1,
		PoolSize:              o.PoolSize,
		DisableIdentity:       true, // CLIENT SETINFO needs Redis 7.2
	})
	return newRegistry(o, c), nil
}

func newRegistry(o Options, c *goredis.Client) *Registry {
	r := &Registry{opts: o, c: c, keys: newKeyspace(o.Prefix), closing: make(chan struct{}), stopped: make(chan struct{})}
	per := max(1, o.QueueSize/o.Shards)
	r.shards = make([]*shard, o.Shards)
	for i := range r.shards {
		r.shards[i] = &shard{q: make(chan *op, per)}
		r.writers.Add(1)
		go r.write(r.shards[i])
	}
	return r
}

// TTL implements backends.Sessions. Safe from any goroutine; it does not block.
func (r *Registry) TTL() time.Duration { return r.opts.TTL }

// Close waits for the queued writes, then closes the connections. Later calls fail with
// ErrClosed. Safe to call more than once, from any goroutine.
func (r *Registry) Close() error {
	var err error
	r.once.Do(func() {
		close(r.closing)
		r.writers.Wait()
		close(r.stopped)
		err = r.c.Close()
	})
	if err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// begin checks that a call may proceed and returns the context of its round trip.
func (r *Registry) begin(ctx context.Context, op string) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	select {
	case <-r.closing:
		return nil, nil, fmt.Errorf("redis: %s: %w", op, backends.ErrClosed)
	default:
	}
	if err := r.health.admit(op); err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	return rctx, cancel, nil
}

// end classifies err, records the outcome in the gate and returns the error to give
// the caller.
func (r *Registry) end(ctx context.Context, op string, err error) error {
	err = classify(ctx, op, err)
	if ctx.Err() == nil {
		r.health.record(err)
	}
	return err
}

// UserSessions implements backends.Sessions.
func (r *Registry) UserSessions(ctx context.Context, domain, user string) ([]backends.Session, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("redis: sessions of %s@%s: %w", user, domain, err)
	}
	op := "sessions of " + user + "@" + domain
	rctx, cancel, err := r.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()
	vals, err := userScript.RunRO(rctx, r.c, []string{r.keys.user(domain, user)}, r.keys.hb).StringSlice()
	if err = r.end(ctx, op, err); err != nil {
		return nil, err
	}
	out := make([]backends.Session, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		s := backends.Session{Domain: domain, User: user, Resource: vals[i]}
		if err := decodeEntry(vals[i+1], &s); err != nil {
			return nil, fmt.Errorf("redis: %s: %w", op, err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b backends.Session) int { return strings.Compare(a.Resource, b.Resource) })
	return out, nil
}

// nodeBatch is how many index members NodeSessions and PurgeNode handle per round trip.
const nodeBatch = 1000

// maxNodeRounds bounds the round trips of NodeSessions and PurgeNode: a node holding
// more than nodeBatch*maxNodeRounds entries is beyond what one node can serve.
const maxNodeRounds = 10_000

// NodeSessions implements backends.Sessions.
func (r *Registry) NodeSessions(ctx context.Context, node string) ([]backends.Session, error) {
	if err := backends.ValidateNode(node); err != nil {
		return nil, fmt.Errorf("redis: sessions of node: %w", err)
	}
	op := "sessions of node " + node
	var out []backends.Session
	seen := map[string]struct{}{} // SSCAN may return a member twice
	err := r.scanIndex(ctx, op, node, func(rctx context.Context, members []string) error {
		members = slices.DeleteFunc(members, func(m string) bool {
			_, dup := seen[m]
			seen[m] = struct{}{}
			return dup
		})
		cmds, err := r.c.Pipelined(rctx, func(p goredis.Pipeliner) error {
			for _, m := range members {
				d, u, res, err := parseMember(m)
				if err != nil {
					return err
				}
				p.HGet(rctx, r.keys.user(d, u), res)
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
		for i, c := range cmds {
			v, err := c.(*goredis.StringCmd).Result()
			if errors.Is(err, goredis.Nil) || entryNode(v) != node {
				continue // moved to another node since: not ours
			}
			d, u, res, _ := parseMember(members[i])
			s := backends.Session{Domain: d, User: u, Resource: res}
			if err := decodeEntry(v, &s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b backends.Session) int {
		return cmp.Or(strings.Compare(a.Domain, b.Domain), strings.Compare(a.User, b.User), strings.Compare(a.Resource, b.Resource))
	})
	return out, nil
}

// scanIndex walks node's index with SSCAN, handing each batch of members to fn with the
// context of the round trip.
func (r *Registry) scanIndex(ctx context.Context, op, node string, fn func(rctx context.Context, members []string) error) error {
	idx := r.keys.idx + node
	var cursor uint64
	for range maxNodeRounds {
		rctx, cancel, err := r.begin(ctx, op)
		if err != nil {
			return err
		}
		var members []string
		members, cursor, err = r.c.SScan(rctx, idx, cursor, "", nodeBatch).Result()
		if err == nil && len(members) > 0 {
			err = fn(rctx, members)
		}
		cancel()
		if err = r.end(ctx, op, err); err != nil {
			return err
		}
		if cursor == 0 {
			return nil
		}
	}
	return fmt.Errorf("redis: %s: index not walked in %d rounds", op, maxNodeRounds)
}

// CountSessions implements backends.Sessions.
func (r *Registry) CountSessions(ctx context.Context, node string) (int, error) {
	if err := backends.ValidateNode(node); err != nil {
		return 0, fmt.Errorf("redis: count sessions of node: %w", err)
	}
	op := "count sessions of node " + node
	rctx, cancel, err := r.begin(ctx, op)
	if err != nil {
		return 0, err
	}
	defer cancel()
	n, err := r.c.SCard(rctx, r.keys.idx+node).Result()
	return int(n), r.end(ctx, op, err)
}

// Refresh implements backends.Sessions.
func (r *Registry) Refresh(ctx context.Context, node string) (string, error) {
	if err := backends.ValidateNode(node); err != nil {
		return "", fmt.Errorf("redis: refresh: %w", err)
	}
	op := "refresh " + node
	rctx, cancel, err := r.begin(ctx, op)
	if err != nil {
		return "", err
	}
	defer cancel()
	var b [8]byte
	_, _ = rand.Read(b[:])
	epoch, err := refreshScript.Run(rctx, r.c, []string{r.keys.hb + node, r.keys.nodes},
		hex.EncodeToString(b[:]), r.opts.TTL.Milliseconds(), node).Text()
	return epoch, r.end(ctx, op, err)
}

// Nodes implements backends.Sessions.
func (r *Registry) Nodes(ctx context.Context) ([]backends.NodeState, error) {
	const op = "nodes"
	rctx, cancel, err := r.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()
	names, err := r.c.SMembers(rctx, r.keys.nodes).Result()
	var cmds []goredis.Cmder
	if err == nil && len(names) > 0 {
		cmds, err = r.c.Pipelined(rctx, func(p goredis.Pipeliner) error {
			for _, n := range names {
				p.Exists(rctx, r.keys.hb+n)
			}
			return nil
		})
	}
	if err = r.end(ctx, op, err); err != nil {
		return nil, err
	}
	out := make([]backends.NodeState, len(names))
	for i, n := range names {
		out[i] = backends.NodeState{Name: n, Alive: cmds[i].(*goredis.IntCmd).Val() == 1}
	}
	slices.SortFunc(out, func(a, b backends.NodeState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// PurgeNode implements backends.Sessions.
func (r *Registry) PurgeNode(ctx context.Context, node string) (int, error) {
	if err := backends.ValidateNode(node); err != nil {
		return 0, fmt.Errorf("redis: purge: %w", err)
	}
	op := "purge node " + node
	idx, tag := r.keys.idx+node, node+"|"
	removed := 0
	// The heartbeat goes first: from then on the node's entries are invisible, however
	// long the rest takes or if it fails half-way.
	rctx, cancel, err := r.begin(ctx, op)
	if err != nil {
		return 0, err
	}
	_, err = r.c.Pipelined(rctx, func(p goredis.Pipeliner) error {
		p.Del(rctx, r.keys.hb+node)
		p.SRem(rctx, r.keys.nodes, node)
		return nil
	})
	cancel()
	if err = r.end(ctx, op, err); err != nil {
		return 0, err
	}
	err = r.scanIndex(ctx, op, node, func(rctx context.Context, members []string) error {
		args := make([]any, 1, 1+writeArgs*len(members))
		args[0] = r.keys.idx
		for _, m := range members {
			d, u, res, err := parseMember(m)
			if err != nil {
				return err
			}
			args = append(args, "u", r.keys.user(d, u), idx, res, tag, m, node)
		}
		res, err := writeScript.Run(rctx, r.c, nil, args...).Slice()
		if err != nil {
			return err
		}
		for _, v := range res {
			if e, ok := v.(error); ok {
				return e
			}
			if n, _ := v.(int64); n == 1 {
				removed++
			}
		}
		return nil
	})
	return removed, err
}
