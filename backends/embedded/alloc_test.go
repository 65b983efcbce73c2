//go:build !race

package embedded

import (
	"context"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// TestDecodeRecordAllocs pins the decoder's cost: one array for the key sets and one
// buffer for all their bytes, whatever the number of sets.
func TestDecodeRecordAllocs(t *testing.T) {
	a := recordCases()["all three"]
	rec := appendRecord(nil, &a)
	var got backends.Account
	if n := testing.AllocsPerRun(1000, func() { _ = decodeRecord(rec, &got) }); n != 2 {
		t.Errorf("decodeRecord: %v allocations, want 2", n)
	}
}

// TestAccountAllocs bounds the login path. Most of it is bbolt's: a read transaction (3),
// two bucket opens and a lookup (each a cursor with its stack); the decoder adds 2.
// Another level of bucket nesting would add 4; this test is there to notice.
func TestAccountAllocs(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateAccount(ctx, testAccount("example.org", "alice")); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(1000, func() {
		if _, err := s.Account(ctx, "example.org", "alice"); err != nil {
			t.Fatal(err)
		}
	})
	if n > 14 {
		t.Errorf("Account: %v allocations, want at most 14", n)
	}
	t.Logf("Account: %v allocations", n)
}
