package engine

import (
	"testing"
	"unsafe"
)

// TestConnSize: every idle connection holds one conn, so its size class is part of
// the idle memory goal (BENCHMARKS.md). 256 bytes is a size class of the Go
// allocator; one byte more costs 32 per connection, and puts conns in the class of
// the scanner's token state (288), whose login-time garbage then leaves conns
// scattered over half-empty spans.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 256 {
		t.Fatalf("conn is %d bytes, want at most 256", n)
	}
}
