package mysql

import (
	"context"
)

// RaiseRosterVersions makes every roster version handed out from now on greater than
// above, by moving the roster_versions sequence forward (SETVAL never moves it back).
// `hermod db import` calls it (transfer.RosterVersionRaiser) before writing a roster
// that had version above elsewhere, so that the version it gets here is one no client
// can have cached. Any goroutine may call it.
func (s *Store) RaiseRosterVersions(ctx context.Context, above uint64) error {
	const op = "raise roster versions"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	_, err := s.db.ExecContext(wctx, "SELECT SETVAL(roster_versions, ?)", above)
	return s.fail(ctx, op, err)
}
