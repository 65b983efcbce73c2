package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsCoverValues(t *testing.T) {
	vals := []int64{0, 1, 31, 32, 63, 64, 65, 95, 96, 127, 128, 1000, 1 << 20, 1<<20 + 12345, math.MaxInt64 / 3, math.MaxInt64}
	for _, v := range vals {
		i := index(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("index(%d) = %d out of range", v, i)
		}
		low, w := bounds(i)
		if v < low || v-low >= w {
			t.Errorf("value %d in bucket %d [%d, %d+%d)", v, i, low, low, w)
		}
		if v >= 2*subCount && float64(w)/float64(low) > 1.0/subCount+1e-12 {
			t.Errorf("bucket %d of %d is %d wide: more than 1/%d of %d", i, v, w, subCount, low)
		}
	}
	// Buckets are contiguous and increasing.
	prevEnd := int64(0)
	for i := 0; i < index(1<<40); i++ {
		low, w := bounds(i)
		if low != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, low, prevEnd)
		}
		prevEnd = low + w
	}
}

func TestQuantileAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		gen  func() int64
	}{
		{"uniform µs", func() int64 { return r.Int64N(5_000_000) }},
		{"lognormal", func() int64 { return int64(math.Exp(r.NormFloat64()*1.5 + 12)) }},
		{"tiny", func() int64 { return r.Int64N(50) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Histogram
			vals := make([]int64, 20000)
			for i := range vals {
				vals[i] = c.gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
				want := vals[int(math.Ceil(q*float64(len(vals))))-1]
				got := h.Quantile(q)
				if diff := math.Abs(float64(got - want)); diff > 1 && diff/math.Max(float64(want), 1) > 0.02 {
					t.Errorf("q%.3f = %d, exact %d (error %.1f%%)", q, got, want, 100*diff/math.Max(float64(want), 1))
				}
			}
			if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Errorf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
		})
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	var a, b, all Histogram
	for i := int64(0); i < 5000; i++ {
		v := i * i % 100003
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(&b)
	if a != all {
		t.Fatalf("merged histogram differs: n %d/%d min %d/%d max %d/%d", a.n, all.n, a.min, all.min, a.max, all.max)
	}
	var empty Histogram
	a.Merge(&empty)
	empty.Merge(&all)
	if empty != all || a != all {
		t.Fatal("merging with an empty histogram changed something")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var h Histogram
	for _, v := range []int64{3, 70, 70, 900_000, 12_345_678} {
		h.Record(v)
	}
	b, err := json.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	var g Histogram
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g != h {
		t.Fatalf("round trip changed the histogram: %s", b)
	}
	for _, bad := range []string{
		`{"buckets":[[99999,1]],"n":1}`,
		`{"buckets":[[3,2]],"n":1}`,
		`{"buckets":"x"}`,
	} {
		if err := json.Unmarshal([]byte(bad), &g); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestEmptyAndNegative(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram reports values")
	}
	h.Record(-5)
	if h.Min() != 0 || h.Quantile(1) != 0 || h.Count() != 1 {
		t.Fatalf("negative value not clamped to 0: min %d q %d", h.Min(), h.Quantile(1))
	}
}
