//go:build !race

package router

import "testing"

func TestLookupAllocs(t *testing.T) {
	tab := New[*sess]()
	tab.Bind("user@example.com", &sess{"phone"}, true)
	key := []byte("user@example.com")
	n := testing.AllocsPerRun(1000, func() {
		if _, ok := tab.LookupResource("user@example.com", "phone"); !ok {
			t.Fatal("missing")
		}
		if len(tab.LookupBytes(key)) != 1 {
			t.Fatal("missing")
		}
	})
	if n != 0 {
		t.Fatalf("lookup allocates %v times", n)
	}
}
