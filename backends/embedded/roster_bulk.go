package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

var _ backends.RosterBulkWriter = (*Store)(nil)

// PutRosterItems implements backends.RosterBulkWriter: every entry in one write
// transaction and one commit, where PutRosterItem costs a transaction (or a share of
// a group commit) per item.
//
// Versions are exactly those of PutRosterItem called for each entry in order: entry i
// takes the i+1-th next value of the file-wide sequence, and each roster keeps the
// value of its last entry, so a roster's version does not depend on how an import was
// cut into batches. The items are written in key order, which keeps bbolt's page
// splits sequential.
func (s *Store) PutRosterItems(ctx context.Context, entries []backends.RosterEntry) error {
	if len(entries) == 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("embedded: put roster items: %w", err)
		}
		return nil
	}
	type entry struct {
		domain   string
		user     string
		key      []byte // rosterPrefix(user) + contact, in keys
		prefix   int    // length of the owner's prefix in key
		rec      []byte // the item record, in recs
		position int    // index in entries: the version is base+position+1
	}
	es := make([]entry, len(entries))
	var keys, recs []byte // every key and record back to back: two allocations per batch
	spans := make([][4]int, len(entries))
	for i := range entries {
		e := &entries[i]
		if err := validateRosterCall(e.Domain, e.User); err != nil {
			return fmt.Errorf("embedded: put roster items: entry %d: %w", i, err)
		}
		if err := e.Item.Validate(); err != nil {
			return fmt.Errorf("embedded: put roster items: entry %d (%s of %s@%s): %w", i, e.Item.Contact, e.User, e.Domain, err)
		}
		k0, r0 := len(keys), len(recs)
		keys = rosterPrefix(keys, e.User)
		p := len(keys) - k0
		keys = append(keys, e.Item.Contact...)
		recs = appendRosterItem(recs, &e.Item)
		spans[i] = [4]int{k0, len(keys), r0, len(recs)}
		es[i] = entry{domain: e.Domain, user: e.User, prefix: p, position: i}
	}
	for i, sp := range spans {
		es[i].key = keys[sp[0]:sp[1]:sp[1]]
		es[i].rec = recs[sp[2]:sp[3]:sp[3]]
	}
	// Stable: of two entries for one item, the later stays later and is written last.
	slices.SortStableFunc(es, func(x, y entry) int {
		return cmp.Or(cmp.Compare(x.domain, y.domain), bytes.Compare(x.key, y.key))
	})

	what := fmt.Sprintf("put %d roster items", len(entries))
	return s.write(ctx, what, func(tx *bbolt.Tx) (error, error) {
		fail := func(e *entry, err error) error {
			return fmt.Errorf("embedded: %s: %s of %s@%s: %w", what, e.key[e.prefix:], e.user, e.domain, err)
		}
		top, err := tx.CreateBucketIfNotExists(bucketRosters)
		if err != nil {
			return nil, fmt.Errorf("embedded: %s: rosters bucket: %w", what, err)
		}
		base := top.Sequence()
		var b *bbolt.Bucket
		for i := 0; i < len(es); {
			e := &es[i]
			if b == nil || es[i-1].domain != e.domain {
				if b, err = top.CreateBucketIfNotExists([]byte(e.domain)); err != nil {
					return nil, fail(e, fmt.Errorf("roster domain bucket: %w", err))
				}
			}
			// One owner's entries are contiguous: no owner's prefix is a prefix of
			// another's (rosterPrefix starts with the length).
			prefix := e.key[:e.prefix]
			last := e.position
			j := i
			for ; j < len(es) && es[j].domain == e.domain && bytes.Equal(es[j].key[:es[j].prefix], prefix); j++ {
				if err := b.Put(es[j].key, es[j].rec); err != nil {
					return nil, fail(&es[j], err)
				}
				last = max(last, es[j].position)
			}
			if err := b.Put(prefix, binary.BigEndian.AppendUint64(nil, base+uint64(last)+1)); err != nil {
				return nil, fail(e, fmt.Errorf("write roster version: %w", err))
			}
			i = j
		}
		if err := top.SetSequence(base + uint64(len(es))); err != nil {
			return nil, fmt.Errorf("embedded: %s: advance roster versions: %w", what, err)
		}
		return nil, nil
	})
}
