package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hermod-im/hermod/backends"
)

// Roster layout. Rosters are stored one key per item, so that a roster push rewrites one
// small record and not the whole roster (a roster of 1,000 contacts would otherwise cost
// 40 KB of writes per presence subscription):
//
//	rosters/<domain>/<P><contact>     the item record (below)
//	rosters/<domain>/<P>              the roster's version: 8 bytes big-endian
//	roster_pending/<domain>/<P><contact>  format byte (1), then the pending stanza
//
// where <P> is the owner's localpart preceded by its length as a uvarint, so that one
// user's keys form a contiguous range no other user's prefix can reach into, and the
// version key (empty contact) sorts first. Versions come from the rosters bucket's
// sequence, one counter for the whole file: a version is never handed out twice, so a
// roster deleted and created again cannot repeat one a client cached. Both buckets and
// their domain buckets are created by the first write, so no schema change is needed.
var (
	bucketRosters       = []byte("rosters")
	bucketRosterPending = []byte("roster_pending")
)

// Roster item record, format 1. Integers are uvarints; strings a uvarint length and the
// bytes:
//
//	byte     format (1)
//	byte     bits 0-1 subscription, bit 2 ask, bit 3 approved
//	string   name
//	uvarint  number of groups, then each group as a string
//
// The contact is the key and is not repeated. A typical item (a name and one group)
// takes about 20 bytes.
const (
	rosterItemFormat    = 1
	rosterPendingFormat = 1

	rosterFlagAsk      = 1 << 2
	rosterFlagApproved = 1 << 3
)

var errCorruptRoster = errors.New("corrupt roster record")

// rosterPrefix appends the key prefix of user's roster to dst.
func rosterPrefix(dst []byte, user string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(user)))
	return append(dst, user...)
}

// rosterItemKey returns the key of user's item for contact.
func rosterItemKey(user, contact string) []byte {
	return append(rosterPrefix(make([]byte, 0, 2+len(user)+len(contact)), user), contact...)
}

// appendRosterItem appends the record of it, which must be valid, to dst.
func appendRosterItem(dst []byte, it *backends.RosterItem) []byte {
	flags := byte(it.Subscription)
	if it.Ask {
		flags |= rosterFlagAsk
	}
	if it.Approved {
		flags |= rosterFlagApproved
	}
	dst = append(dst, rosterItemFormat, flags)
	dst = binary.AppendUvarint(dst, uint64(len(it.Name)))
	dst = append(dst, it.Name...)
	dst = binary.AppendUvarint(dst, uint64(len(it.Groups)))
	for _, g := range it.Groups {
		dst = binary.AppendUvarint(dst, uint64(len(g)))
		dst = append(dst, g...)
	}
	return dst
}

// rosterReader walks a roster record, remembering the first error and where it is.
type rosterReader struct {
	rec []byte
	pos int
	err error
}

func (r *rosterReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s at byte %d", errCorruptRoster, what, r.pos)
	}
	r.pos = len(r.rec)
}

// str reads a length-prefixed string of at most max bytes and returns its span.
func (r *rosterReader) str(what string, max int) (off, end int) {
	if r.err != nil {
		return 0, 0
	}
	n, k := binary.Uvarint(r.rec[r.pos:])
	if k <= 0 || n > uint64(max) || uint64(len(r.rec)-r.pos-k) < n {
		r.fail(what)
		return 0, 0
	}
	off = r.pos + k
	r.pos = off + int(n)
	return off, r.pos
}

// decodeRosterItem decodes the record rec of contact. It copies what it keeps (rec and
// contact may be bbolt memory valid only inside the transaction): one string holds the
// contact, the name and every group, so an item costs two allocations, or one without
// groups. scratch is a buffer the caller reuses across calls; the grown buffer is
// returned.
func decodeRosterItem(contact, rec, scratch []byte) (backends.RosterItem, []byte, error) {
	if len(rec) < 2 || rec[0] != rosterItemFormat {
		return backends.RosterItem{}, scratch, fmt.Errorf("%w: unknown format", errCorruptRoster)
	}
	flags := rec[1]
	if flags&^(0b11|rosterFlagAsk|rosterFlagApproved) != 0 {
		return backends.RosterItem{}, scratch, fmt.Errorf("%w: bad flags %#x", errCorruptRoster, flags)
	}
	// First pass: check the record and find the spans of its strings.
	r := rosterReader{rec: rec, pos: 2}
	nameOff, nameEnd := r.str("name", backends.MaxRosterNameLen)
	n := uint64(0)
	if r.err == nil {
		var k int
		n, k = binary.Uvarint(rec[r.pos:])
		if k <= 0 || n > backends.MaxGroups {
			r.fail("group count")
		} else {
			r.pos += k
		}
	}
	type span struct{ off, end int }
	var spansArr [8]span
	spans := spansArr[:0]
	for i := uint64(0); i < n && r.err == nil; i++ {
		off, end := r.str("group", backends.MaxGroupLen)
		if r.err == nil && off == end {
			r.fail("empty group")
		}
		spans = append(spans, span{off, end})
	}
	if r.err != nil {
		return backends.RosterItem{}, scratch, r.err
	}
	if r.pos != len(rec) {
		return backends.RosterItem{}, scratch, fmt.Errorf("%w: %d trailing bytes", errCorruptRoster, len(rec)-r.pos)
	}
	// Second pass: one string for everything. The record follows the contact, so the
	// span [o, e) of rec is [base+o, base+e) of the string.
	scratch = append(append(scratch[:0], contact...), rec...)
	all := string(scratch)
	base := len(contact)
	it := backends.RosterItem{
		Contact:      all[:base],
		Name:         all[base+nameOff : base+nameEnd],
		Subscription: backends.Subscription(flags & 0b11),
		Ask:          flags&rosterFlagAsk != 0,
		Approved:     flags&rosterFlagApproved != 0,
	}
	if len(spans) > 0 {
		it.Groups = make([]string, len(spans))
		for i, sp := range spans {
			g := all[base+sp.off : base+sp.end]
			for _, h := range it.Groups[:i] {
				if g == h {
					return backends.RosterItem{}, scratch, fmt.Errorf("%w: group %q twice", errCorruptRoster, g)
				}
			}
			it.Groups[i] = g
		}
	}
	return it, scratch, nil
}

// appendPending appends the record of a pending request's stanza to dst.
func appendPending(dst, stanza []byte) []byte {
	return append(append(dst, rosterPendingFormat), stanza...)
}

// decodePending returns a copy of the stanza in a pending-request record.
func decodePending(rec []byte) ([]byte, error) {
	if len(rec) < 1 || rec[0] != rosterPendingFormat {
		return nil, fmt.Errorf("%w: unknown pending-request format", errCorruptRoster)
	}
	if len(rec)-1 > backends.MaxPendingStanza {
		return nil, fmt.Errorf("%w: pending stanza of %d bytes", errCorruptRoster, len(rec)-1)
	}
	if len(rec) == 1 {
		return nil, nil
	}
	return append([]byte(nil), rec[1:]...), nil
}
