package redis

import (
	"context"

	"github.com/hermod-im/hermod/backends"
)

var _ backends.Pinger = (*Registry)(nil)

// Ping implements backends.Pinger: a PING round trip, bounded by Options.Timeout and
// subject to the same fail-fast gate as every other call. Any goroutine may call it.
func (r *Registry) Ping(ctx context.Context) error {
	rctx, cancel, err := r.begin(ctx, "ping")
	if err != nil {
		return err
	}
	defer cancel()
	return r.end(ctx, "ping", r.c.Ping(rctx).Err())
}
