package engine

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Returning memory to the operating system after connections go quiet.
//
// The Go heap grows to twice the live data between collections (GOGC=100) and the
// runtime's background scavenger gives free pages back only slowly, keeping about
// the heap goal resident. A login storm leaves that headroom behind: measured with
// 10,000 idle sessions, 42 MB of heap was free but still resident against 24 MB
// live, more than the sessions themselves cost. Once the sweeper has compacted idle
// connections, their buffers are garbage too, so that is the moment to collect and
// hand the free pages back. A busy server keeps its headroom: trimming runs only
// after a compaction round, at most once per trimInterval, and only when enough
// memory is free to be worth a forced collection.

const (
	// trimDelay lets the loops run the compactions the sweeper posted before the
	// collection that frees what they released.
	trimDelay = 2 * time.Second
	// trimInterval bounds the cost under steady load, where some connection goes
	// quiet in every round: one forced collection per interval at most. It is one
	// compaction round (five sweeps), so that a login ramp whose connections go
	// quiet over two rounds is trimmed after each, not left half-trimmed.
	trimInterval = 5 * time.Second
	// A trim is worth a forced collection when the reclaimable heap (free pages not
	// yet returned, and objects dead since the last collection) is at least
	// trimMinFree and a trimLiveShare-th of the live heap: the collection's cost
	// grows with the live heap, and the last compaction round of a ramp may release
	// only a few MiB, which a fixed threshold of that size would leave resident.
	trimMinFree   = 1 << 20
	trimLiveShare = 16
)

// memoryReleasers returns the engines that can give memory back (the embedded
// store's mapped pages), each once.
func memoryReleasers(store backends.Store, engines []backends.Store) []backends.MemoryReleaser {
	if len(engines) == 0 {
		engines = []backends.Store{store}
	}
	var rs []backends.MemoryReleaser
	for _, e := range engines {
		if r, ok := e.(backends.MemoryReleaser); ok && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// trimmer decides when the sweeper returns memory. It belongs to the sweeper
// goroutine.
type trimmer struct {
	due  time.Time // zero: nothing scheduled
	last time.Time
	// pending counts the connections compacted since the last trim. What they
	// released is garbage the runtime's metrics cannot see before a collection: the
	// objects were live at the last one and still count as objects until the next.
	pending int
	// busy is set while clients read more than quietReadsPer connections; the
	// reads counter and its time at the last observation.
	busy      bool
	reads     int64
	readsTime time.Time
	sample    [3]metrics.Sample
}

func newTrimmer() *trimmer {
	t := &trimmer{}
	t.sample[0].Name = "/memory/classes/heap/free:bytes"    // free, not returned
	t.sample[1].Name = "/memory/classes/heap/objects:bytes" // live and dead objects
	t.sample[2].Name = "/gc/heap/live:bytes"                // live at the last collection
	return t
}

// reclaimable estimates what a collection and a return would give back: the free
// pages, and the objects that died since the last collection (what a compaction
// round just released is mostly that), and the live heap at the last collection.
// Both are 0 when the runtime does not provide the metrics.
func (t *trimmer) reclaimable() (free, live uint64) {
	metrics.Read(t.sample[:])
	for _, s := range t.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0, 0
		}
	}
	free, objects, live := t.sample[0].Value.Uint64(), t.sample[1].Value.Uint64(), t.sample[2].Value.Uint64()
	if objects > live {
		free += objects - live
	}
	return free, live
}

// compactReleases is a lower bound of what compacting a bound plaintext connection
// releases (a parked scanner alone is about 1.5 KB; TLS buffers are more).
const compactReleases = 1 << 10

// worthIt reports whether a collection and return would give back enough.
func (t *trimmer) worthIt() bool {
	free, live := t.reclaimable()
	free += uint64(t.pending) * compactReleases
	return free >= trimMinFree && free >= live/trimLiveShare
}

// quietReadsPer: a server whose clients send fewer reads per second than one per
// quietReadsPer connections (plus quietReadsMin) is quiet enough to trim. A busy one
// is left to the runtime: a forced collection takes CPU from the loops and a full
// return makes the next allocations fault their pages in again, both latency under
// load, while the runtime's own collections and scavenger keep a busy heap in check.
const (
	quietReadsPer = 50
	quietReadsMin = 10
)

// observe records the reads counter and the number of connections, once per sweep.
func (t *trimmer) observe(now time.Time, reads int64, conns int) {
	if !t.readsTime.IsZero() {
		if secs := now.Sub(t.readsTime).Seconds(); secs > 0 {
			rate := float64(reads-t.reads) / secs
			t.busy = rate >= float64(conns)/quietReadsPer+quietReadsMin
		}
	}
	t.reads, t.readsTime = reads, now
}

// compacted records that connections were just compacted.
func (t *trimmer) compacted(now time.Time) {
	t.pending++
	if t.due.IsZero() {
		t.due = now.Add(trimDelay)
	}
}

// tick trims when a trim is due and worth it; it reports whether it did. It may
// block for one garbage collection.
func (t *trimmer) tick(now time.Time) bool {
	if t.due.IsZero() || now.Before(t.due) {
		return false
	}
	if now.Sub(t.last) < trimInterval {
		return false
	}
	t.due = time.Time{}
	if t.busy {
		return false
	}
	if !t.worthIt() {
		return false
	}
	t.last, t.pending = now, 0
	// Two collections: the first moves what sync.Pools hold (bytebufferpool's
	// buffers, read buffers, scratch) to their victim caches, the second (inside
	// FreeOSMemory) frees them. One alone would keep the pooled buffers of the login
	// storm resident until the runtime's next collection.
	runtime.GC()
	debug.FreeOSMemory()
	return true
}
