package mysql

import (
	"context"

	"github.com/hermod-im/hermod/backends"
)

var _ backends.Pinger = (*Store)(nil)

// Ping implements backends.Pinger: one round trip on a pooled connection, bounded by
// QueryTimeout. Any goroutine may call it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx, "ping"); err != nil {
		return err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	return s.fail(rctx, "ping", s.db.PingContext(rctx))
}
