package embedded

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"
)

// RaiseRosterVersions makes every roster version handed out from now on greater than
// above, by moving the file-wide version sequence forward (never back). `hermod db
// import` calls it (transfer.RosterVersionRaiser) before writing a roster that had
// version above elsewhere, so that the version it gets here is one no client can have
// cached. Any goroutine may call it; it writes the file and must not be called on an
// event loop.
func (s *Store) RaiseRosterVersions(ctx context.Context, above uint64) error {
	return s.write(ctx, "raise roster versions", func(tx *bbolt.Tx) (error, error) {
		top, err := tx.CreateBucketIfNotExists(bucketRosters)
		if err != nil {
			return nil, fmt.Errorf("embedded: raise roster versions: %w", err)
		}
		if top.Sequence() >= above {
			return nil, nil
		}
		if err := top.SetSequence(above); err != nil {
			return nil, fmt.Errorf("embedded: raise roster versions above %d: %w", above, err)
		}
		return nil, nil
	})
}
