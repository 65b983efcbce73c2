//go:build !race

package offline

import (
	"testing"
	"time"

	"github.com/hermod-im/hermod/stanza"
)

// The delay insertion done for every stored message allocates nothing beyond its
// output buffer.
func TestAppendDelayAllocs(t *testing.T) {
	var h stanza.Header
	if err := stanza.ParseHeader(benchRaw, &h); err != nil {
		t.Fatal(err)
	}
	stamp := time.Now()
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() {
		buf, _ = appendDelay(buf[:0], benchRaw, &h, "example.org", stamp)
	}); n != 0 {
		t.Fatalf("appendDelay: %v allocations, want 0", n)
	}
}
