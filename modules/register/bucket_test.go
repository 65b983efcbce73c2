package register

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := newBucket(3, time.Minute, func() time.Time { return now })
	for i := range 3 {
		if !b.take() {
			t.Fatalf("take %d of a full bucket refused", i)
		}
	}
	if b.take() {
		t.Fatal("an empty bucket gave a token")
	}
	now = now.Add(19 * time.Second) // 0.95 tokens
	if b.take() {
		t.Fatal("a token before it was earned")
	}
	now = now.Add(2 * time.Second)
	if !b.take() || b.take() {
		t.Fatal("one token after 20 s at 3 per minute")
	}
	now = now.Add(time.Hour)
	n := 0
	for b.take() {
		n++
	}
	if n != 3 {
		t.Fatalf("an idle bucket holds %d tokens, want its capacity 3", n)
	}
}
