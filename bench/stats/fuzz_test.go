package stats

import (
	"encoding/json"
	"testing"
)

// FuzzUnmarshal decodes arbitrary JSON as a histogram (the driver reads what shard
// processes wrote): no panic, and whatever is accepted re-encodes to an equal
// histogram with consistent counts.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"buckets":[[3,1],[70,2]],"n":3,"sum":143,"min":3,"max":70}`))
	f.Add([]byte(`{"buckets":[],"n":0}`))
	f.Add([]byte(`{"buckets":[[1887,1]],"n":1}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var h Histogram
		if err := json.Unmarshal(in, &h); err != nil {
			return
		}
		var total uint64
		for _, c := range h.counts {
			total += c
		}
		if total != h.Count() {
			t.Fatalf("%q: buckets hold %d, count %d", in, total, h.Count())
		}
		b, err := json.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		var g Histogram
		if err := json.Unmarshal(b, &g); err != nil || g != h {
			t.Fatalf("%q: re-encoding %s does not round-trip (%v)", in, b, err)
		}
		_ = h.Quantile(0.99)
	})
}
