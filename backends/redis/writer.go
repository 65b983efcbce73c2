package redis

import (
	"context"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// shard is one writer's queue. A user's writes always go to the same shard, so they
// reach the server in the order they were made.
type shard struct {
	q chan *op
}

// op is one queued Register or Unregister.
type op struct {
	unregister bool
	userKey    string
	idxKey     string
	resource   string
	arg        string // the encoded entry (register) or the node followed by '|' (unregister)
	member     string
	node       string
	desc       string
	done       chan error // buffered: the writer never blocks on a caller that left
}

// Register implements backends.Sessions.
func (r *Registry) Register(ctx context.Context, s backends.Session) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("redis: register %s@%s/%s: %w", s.User, s.Domain, s.Resource, err)
	}
	return r.enqueue(ctx, r.registerOp(s))
}

// registerOp is the write of a validated s.
func (r *Registry) registerOp(s backends.Session) *op {
	if s.Since.IsZero() {
		s.Since = time.Now()
	}
	return &op{
		userKey:  r.keys.user(s.Domain, s.User),
		idxKey:   r.keys.idx + s.Node,
		resource: s.Resource,
		arg:      encodeEntry(&s),
		member:   member(s.Domain, s.User, s.Resource),
		node:     s.Node,
		desc:     "register " + s.User + "@" + s.Domain + "/" + s.Resource,
		done:     make(chan error, 1),
	}
}

// Unregister implements backends.Sessions.
func (r *Registry) Unregister(ctx context.Context, domain, user, resource, node string) error {
	s := backends.Session{Domain: domain, User: user, Resource: resource, Node: node}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("redis: unregister %s@%s/%s: %w", user, domain, resource, err)
	}
	return r.enqueue(ctx, &op{
		unregister: true,
		userKey:    r.keys.user(domain, user),
		idxKey:     r.keys.idx + node,
		resource:   resource,
		arg:        node + "|",
		member:     member(domain, user, resource),
		node:       node,
		desc:       "unregister " + user + "@" + domain + "/" + resource,
		done:       make(chan error, 1),
	})
}

// shardSeed spreads users over shards; fixed per process, which is all ordering needs.
var shardSeed = maphash.MakeSeed()

// enqueue hands o to its shard's writer and waits for the outcome, or for ctx.
func (r *Registry) enqueue(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: %s: %w", o.desc, err)
	}
	if err := r.health.admit(o.desc); err != nil {
		return err
	}
	sh := r.shards[maphash.String(shardSeed, o.userKey)%uint64(len(r.shards))]
	select {
	case <-r.closing:
		return fmt.Errorf("redis: %s: %w", o.desc, backends.ErrClosed)
	default:
	}
	select {
	case sh.q <- o:
	case <-ctx.Done():
		return fmt.Errorf("redis: %s: waiting for the queue: %w", o.desc, ctx.Err())
	case <-r.closing:
		return fmt.Errorf("redis: %s: %w", o.desc, backends.ErrClosed)
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("redis: %s: queued, outcome unknown: %w", o.desc, ctx.Err())
	case <-r.stopped:
		select {
		case err := <-o.done:
			return err
		default: // queued after the writers' last look
			return fmt.Errorf("redis: %s: %w", o.desc, backends.ErrClosed)
		}
	}
}

// write is a shard's writer goroutine: it sends whatever is queued, up to MaxBatch, as
// one pipeline, until Close; then it finishes what is queued and exits.
func (r *Registry) write(sh *shard) {
	defer r.writers.Done()
	batch := make([]*op, 0, r.opts.MaxBatch)
	for {
		select {
		case o := <-sh.q:
			r.flush(r.fill(sh, append(batch[:0], o)))
		case <-r.closing:
			// An op queued after this last look is answered ErrClosed by enqueue,
			// once the writers have stopped.
			for {
				if batch = r.fill(sh, batch[:0]); len(batch) == 0 {
					return
				}
				r.flush(batch)
			}
		}
	}
}

// fill appends to batch what sh's queue holds, without waiting, up to MaxBatch.
func (r *Registry) fill(sh *shard, batch []*op) []*op {
	for len(batch) < r.opts.MaxBatch {
		select {
		case o := <-sh.q:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// flush sends batch as one call of writeScript and answers every op.
func (r *Registry) flush(batch []*op) {
	desc := fmt.Sprintf("%d writes", len(batch))
	if err := r.health.admit(desc); err != nil {
		answer(batch, func(o *op) error { return fmt.Errorf("redis: %s: %w", o.desc, err) })
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	defer cancel()
	args := make([]any, 1, 1+writeArgs*len(batch))
	args[0] = r.keys.idx
	for _, o := range batch {
		kind := "r"
		if o.unregister {
			kind = "u"
		}
		args = append(args, kind, o.userKey, o.idxKey, o.resource, o.arg, o.member, o.node)
	}
	// Run sends EVALSHA, and the script itself when the server lacks it (a restart).
	res, err := writeScript.Run(ctx, r.c, nil, args...).Slice()
	err = classify(context.Background(), desc, err)
	r.health.record(err)
	if err == nil && len(res) != len(batch) {
		err = fmt.Errorf("redis: %s: %d results", desc, len(res))
	}
	if err != nil {
		answer(batch, func(o *op) error { return fmt.Errorf("redis: %s: %w", o.desc, err) })
		return
	}
	for i, o := range batch {
		if e, ok := res[i].(error); ok {
			o.done <- fmt.Errorf("redis: %s: %w", o.desc, e)
		} else {
			o.done <- nil
		}
	}
}

func answer(batch []*op, fn func(*op) error) {
	for _, o := range batch {
		o.done <- fn(o)
	}
}
