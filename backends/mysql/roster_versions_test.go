package mysql

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
)

func TestRaiseRosterVersions(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	dom := "raise-" + t.Name() + ".example"
	put := func() uint64 {
		t.Helper()
		v, err := s.PutRosterItem(ctx, dom, "u", backends.RosterItem{Contact: "c@x.example"})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := put()
	target := first + 1000
	if err := s.RaiseRosterVersions(ctx, target); err != nil {
		t.Fatal(err)
	}
	if v := put(); v <= target {
		t.Errorf("version after raising above %d: %d", target, v)
	}
	// Never backwards.
	if err := s.RaiseRosterVersions(ctx, first); err != nil {
		t.Fatal(err)
	}
	if v := put(); v <= target+1 {
		t.Errorf("version after a lower raise: %d, want above %d", v, target+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.RaiseRosterVersions(ctx, 1); err == nil {
		t.Error("RaiseRosterVersions after Close succeeded")
	}
}
