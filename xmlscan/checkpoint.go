package xmlscan

import (
	"bytes"
	"errors"
	"slices"
)

// A Checkpoint is the state a scanner is in between stanzas of a stream that a
// given header opened. Nearly every client opens its stream with one of a few
// headers that differ only in attributes the scanner does not keep (to, id,
// version, xml:lang), so nearly every idle connection's scanner holds the same
// state. A connection whose scanner matches a checkpoint can drop the scanner
// while it is quiet and get an equivalent one back from Restore when input
// arrives: hundreds of thousands of idle streams then hold no scanner at all.
//
// A Checkpoint is immutable and safe for concurrent use.
type Checkpoint struct {
	s Scanner // compacted, between stanzas; its slices are never written
}

// NewCheckpoint scans header (an optional XML declaration and a stream header,
// nothing after it) with limits l and returns the state it leaves.
func NewCheckpoint(l Limits, header []byte) (*Checkpoint, error) {
	s := New(l)
	for {
		t, err := s.Next(header)
		if err == ErrNeedMore {
			break
		}
		if err != nil {
			return nil, err
		}
		if t.StanzaEnd || t.StreamEnd {
			return nil, errors.New("xmlscan: checkpoint header holds more than a stream header")
		}
	}
	if s.pos != len(header) || s.Depth() != s.stanzaAt {
		return nil, errors.New("xmlscan: checkpoint header is not one complete stream header")
	}
	if err := s.Shift(len(header)); err != nil {
		return nil, err
	}
	s.Compact()
	if !s.betweenTokens() {
		return nil, errors.New("xmlscan: checkpoint header ends inside a token")
	}
	cp := &Checkpoint{s: *s}
	cp.s.off, cp.s.work = 0, 0
	return cp, nil
}

// Matches reports whether s is in the checkpoint's state: stopped between
// stanzas with every byte it was given shifted away, with the same limits, open
// elements and namespace bindings. If so, s may be dropped and Restore called
// in its place; the Restored scanner goes on exactly as s would have, except
// that its offsets count from where it was restored.
//
// Call it on s's goroutine.
func (cp *Checkpoint) Matches(s *Scanner) bool {
	r := &cp.s
	return s.err == nil && s.pos == 0 && s.tok == 0 && s.betweenTokens() &&
		s.state == r.state && s.rb == r.rb && s.lim == r.lim && s.stanzaAt == r.stanzaAt &&
		s.arenaBase == r.arenaBase && s.bindsBase == r.bindsBase && s.xmlnsSpOff == r.xmlnsSpOff &&
		s.defOff == r.defOff && s.defLen == r.defLen &&
		slices.Equal(s.open, r.open) && slices.Equal(s.binds, r.binds) && bytes.Equal(s.arena, r.arena)
}

// RestoreInto puts s in the checkpoint's state, keeping its buffers: a scanner a
// pool kept for reuse (from any stream, in any state) goes on as Restore's would.
// Call it on s's goroutine.
func (cp *Checkpoint) RestoreInto(s *Scanner) {
	ts, open, binds, arena := s.tokenState, s.open[:0], s.binds[:0], s.arena[:0]
	*s = cp.s
	if ts != nil {
		ts.reset()
	}
	s.tokenState = ts
	s.open = append(open, cp.s.open...)
	s.binds = append(binds, cp.s.binds...)
	s.arena = append(arena, cp.s.arena...)
}

// Restore returns a new scanner in the checkpoint's state. Its next call to
// Next or NextStanza starts at buf[0]; its offsets count from zero. It may be
// called from any goroutine.
func (cp *Checkpoint) Restore() *Scanner {
	s := new(Scanner)
	*s = cp.s
	// Private copies with room to grow: the scanner appends to and truncates
	// these in place, and the checkpoint's own must stay as they are.
	s.open = append(make([]openElem, 0, len(cp.s.open)+4), cp.s.open...)
	s.binds = append(make([]binding, 0, len(cp.s.binds)+4), cp.s.binds...)
	s.arena = append(make([]byte, 0, len(cp.s.arena)+64), cp.s.arena...)
	return s
}
