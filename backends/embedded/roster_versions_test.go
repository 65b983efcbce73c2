package embedded

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
)

func TestRaiseRosterVersions(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	put := func(st *Store) uint64 {
		t.Helper()
		v, err := st.PutRosterItem(ctx, "a.example", "u", backends.RosterItem{Contact: "c@x.example"})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// On a new file, before any roster exists.
	if err := st.RaiseRosterVersions(ctx, 41); err != nil {
		t.Fatal(err)
	}
	if v := put(st); v != 42 {
		t.Errorf("first version after raising above 41: %d", v)
	}
	if err := st.RaiseRosterVersions(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if err := st.RaiseRosterVersions(ctx, 7); err != nil { // never backwards
		t.Fatal(err)
	}
	if v := put(st); v != 1001 {
		t.Errorf("version after raising above 1000, then 7: %d, want 1001", v)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v := put(st); v != 1002 {
		t.Errorf("version after reopening: %d, want 1002 (the raise is durable)", v)
	}
}
