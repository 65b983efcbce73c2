//go:build !race

package stats

import "testing"

// Recording runs in the receive path of every message: it must not allocate.
func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	v := int64(1)
	if a := testing.AllocsPerRun(1000, func() { h.Record(v); v = v*7 + 13 }); a != 0 {
		t.Fatalf("Record: %v allocations", a)
	}
}
