// Package stats holds the load harness's latency histogram: a fixed log-linear bucket
// array that records a value with one index computation and no allocation, merges by
// adding counts (so shards running in separate processes can be combined exactly), and
// answers percentiles with a relative error under 2%.
//
// It must not depend on anything of Hermod: the harness measures any XMPP server.
package stats

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"time"
)

// subBits is log2 of the sub-buckets per power of two: 32 sub-buckets bound the width
// of a bucket to 1/32 of its lower edge, so the midpoint is within 1.6% of any value in it.
const subBits = 5

const (
	subCount   = 1 << subBits
	numBuckets = (64 - subBits) * subCount
)

// Histogram counts non-negative int64 values (nanoseconds, by convention). The zero
// value is empty and ready. It is not safe for concurrent use: give each goroutine its
// own and Merge them.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

// index returns the bucket of v (v >= 0). Values below 2*subCount have a bucket each;
// above, a bucket covers 2^shift values.
func index(v int64) int {
	u := uint64(v)
	if u < 2*subCount {
		return int(u)
	}
	shift := bits.Len64(u) - (subBits + 1)
	return shift<<subBits + int(u>>uint(shift))
}

// bounds returns the lowest value of bucket i and the bucket's width.
func bounds(i int) (low, width int64) {
	if i < 2*subCount {
		return int64(i), 1
	}
	shift := i>>subBits - 1
	mant := int64(i - shift<<subBits)
	return mant << uint(shift), 1 << uint(shift)
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[index(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// RecordDuration adds d in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Min and Max return the exact extremes (0 when empty).
func (h *Histogram) Min() int64 { return h.min }

// Max returns the largest value recorded.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the exact arithmetic mean (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q (0 < q <= 1): the midpoint of the bucket
// holding the ceil(q*n)-th smallest value, clamped to the exact min and max. It
// returns 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999999)
	rank = max(rank, 1)
	rank = min(rank, h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, w := bounds(i)
			v := low + (w-1)/2
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// wire is the JSON form: sparse [bucket, count] pairs.
type wire struct {
	Buckets [][2]uint64 `json:"buckets"`
	N       uint64      `json:"n"`
	Sum     float64     `json:"sum"`
	Min     int64       `json:"min"`
	Max     int64       `json:"max"`
}

// MarshalJSON encodes the non-empty buckets, so a shard can hand its histogram to the
// driver process.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := wire{N: h.n, Sum: h.sum, Min: h.min, Max: h.max, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c != 0 {
			w.Buckets = append(w.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote, rejecting bucket indexes out of range
// and counts that do not add up.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("stats: histogram: %w", err)
	}
	*h = Histogram{}
	var total uint64
	for _, p := range w.Buckets {
		if p[0] >= numBuckets {
			return fmt.Errorf("stats: histogram: bucket %d out of range", p[0])
		}
		h.counts[p[0]] += p[1]
		total += p[1]
	}
	if total != w.N {
		return fmt.Errorf("stats: histogram: buckets hold %d values, header says %d", total, w.N)
	}
	h.n, h.sum, h.min, h.max = w.N, w.Sum, w.Min, w.Max
	return nil
}
