package engine

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

var trimSink [][]byte

func TestTrimmerPolicy(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	tr := newTrimmer()
	if tr.tick(t0.Add(time.Hour)) {
		t.Fatal("trimmed without a compaction")
	}
	tr.compacted(t0)
	tr.compacted(t0.Add(time.Second)) // a later round does not push the trim back
	if tr.tick(t0.Add(trimDelay - time.Millisecond)) {
		t.Fatal("trimmed before the compactions could run")
	}

	// Free heap: garbage the next collection frees but the runtime keeps.
	for range 64 {
		trimSink = append(trimSink, make([]byte, 1<<20))
	}
	trimSink = nil
	runtime.GC()
	if !tr.tick(t0.Add(trimDelay)) {
		t.Fatal("no trim with 64 MiB free")
	}
	if tr.tick(t0.Add(trimDelay + time.Second)) {
		t.Fatal("trimmed twice without a new compaction")
	}
	soon := t0.Add(trimDelay + trimInterval/2)
	tr.compacted(soon)
	if tr.tick(soon.Add(trimDelay)) {
		t.Fatal("trimmed again within trimInterval")
	}
	// The request stays pending until the interval has passed.
	for range 64 {
		trimSink = append(trimSink, make([]byte, 1<<20))
	}
	trimSink = nil
	runtime.GC()
	if !tr.tick(t0.Add(trimDelay + trimInterval + trimDelay)) {
		t.Fatal("pending trim dropped")
	}
}

// The heap is the whole test process's: goroutines left by other tests may allocate
// between the collection and the tick, in bursts, so a trim is tolerated in up to nine
// attempts of ten spread over half a second; one that always trims fails.
func TestTrimmerSkipsWhenLittleIsFree(t *testing.T) {
	for i := range 10 {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		tr := newTrimmer()
		t0 := time.Unix(1_000_000, 0)
		debug.FreeOSMemory()
		tr.compacted(t0)
		if !tr.tick(t0.Add(trimDelay)) {
			return
		}
	}
	t.Fatal("trimmed with almost nothing free, ten times")
}

// TestTrimmerCountsGarbage: what compaction releases is garbage until the next
// collection, not free pages; the trimmer must count it.
func TestTrimmerCountsGarbage(t *testing.T) {
	debug.FreeOSMemory()
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	for range 64 {
		trimSink = append(trimSink, make([]byte, 1<<20))
	}
	trimSink = nil // 64 MiB dead, not collected
	tr := newTrimmer()
	t0 := time.Unix(1_000_000, 0)
	tr.compacted(t0)
	if !tr.tick(t0.Add(trimDelay)) {
		free, _ := tr.reclaimable()
		t.Fatalf("no trim with 64 MiB of garbage (reclaimable estimate %d B)", free)
	}
}

// TestTrimmerLeavesBusyServersAlone: with clients reading faster than one per
// quietReadsPer connections, no trim.
func TestTrimmerLeavesBusyServersAlone(t *testing.T) {
	tr := newTrimmer()
	t0 := time.Unix(1_000_000, 0)
	for range 64 {
		trimSink = append(trimSink, make([]byte, 1<<20))
	}
	trimSink = nil
	// 2,000 connections reading 500 times a second.
	tr.observe(t0, 0, 2000)
	tr.observe(t0.Add(time.Second), 500, 2000)
	tr.compacted(t0)
	if tr.tick(t0.Add(trimDelay)) {
		t.Fatal("trimmed a busy server")
	}
	// Quiet again: 2,000 idle connections, a few keepalives.
	tr.observe(t0.Add(3*time.Second), 520, 2000)
	tr.compacted(t0.Add(3 * time.Second))
	for range 64 {
		trimSink = append(trimSink, make([]byte, 1<<20))
	}
	trimSink = nil
	if !tr.tick(t0.Add(3*time.Second + trimDelay)) {
		t.Fatal("no trim once quiet")
	}
}
