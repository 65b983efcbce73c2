package router

import (
	"fmt"
	"sync"
	"testing"
)

type sess struct{ res string }

func (s *sess) Resource() string { return s.res }

func TestBindLookupUnbind(t *testing.T) {
	tab := New[*sess]()
	a, b := &sess{"a"}, &sess{"b"}
	if r, _ := tab.Bind("u@x", a, true); r != Bound {
		t.Fatalf("bind a: %v", r)
	}
	if r, _ := tab.Bind("u@x", b, true); r != Bound {
		t.Fatalf("bind b: %v", r)
	}
	if got := tab.Lookup("u@x"); len(got) != 2 {
		t.Fatalf("lookup: %d sessions", len(got))
	}
	if s, ok := tab.LookupResource("u@x", "b"); !ok || s != b {
		t.Fatalf("lookup resource b: %v %v", s, ok)
	}
	if got := tab.LookupBytes([]byte("u@x")); len(got) != 2 {
		t.Fatalf("lookup bytes: %d", len(got))
	}
	if !tab.Unbind("u@x", a) || tab.Unbind("u@x", a) {
		t.Fatal("unbind a twice should succeed once")
	}
	if !tab.Unbind("u@x", b) {
		t.Fatal("unbind b")
	}
	if tab.Users() != 0 || len(tab.Lookup("u@x")) != 0 {
		t.Fatal("table not empty after last unbind")
	}
}

func TestConflict(t *testing.T) {
	tests := []struct {
		name    string
		replace bool
		want    BindResult
		online  string
	}{
		{"replace", true, Replaced, "new"},
		{"refuse", false, Refused, "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New[*sess]()
			oldS, newS := &sess{"r"}, &sess{"r"}
			tab.Bind("u@x", oldS, tt.replace)
			r, prev := tab.Bind("u@x", newS, tt.replace)
			if r != tt.want {
				t.Fatalf("result %v, want %v", r, tt.want)
			}
			if tt.want == Replaced && prev != oldS {
				t.Fatal("replaced session not returned")
			}
			got, _ := tab.LookupResource("u@x", "r")
			if (tt.online == "new") != (got == newS) {
				t.Fatalf("wrong session online")
			}
			if len(tab.Lookup("u@x")) != 1 {
				t.Fatal("duplicate resource in table")
			}
			// The replaced session's late unbind must not remove the new one.
			tab.Unbind("u@x", oldS)
			if tt.want == Replaced && len(tab.Lookup("u@x")) != 1 {
				t.Fatal("late unbind removed the replacing session")
			}
		})
	}
}

func TestConcurrentBind(t *testing.T) {
	tab := New[*sess]()
	var wg sync.WaitGroup
	const users, res = 50, 20
	all := make([][]*sess, users)
	for u := range users {
		for r := range res {
			all[u] = append(all[u], &sess{fmt.Sprint(r)})
		}
	}
	for u := range users {
		for r := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tab.Bind(fmt.Sprint(u), all[u][r], true)
			}()
		}
	}
	wg.Wait()
	for u := range users {
		if n := len(tab.Lookup(fmt.Sprint(u))); n != res {
			t.Fatalf("user %d: %d sessions, want %d", u, n, res)
		}
	}
	for u := range users {
		for r := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tab.Unbind(fmt.Sprint(u), all[u][r])
			}()
		}
	}
	wg.Wait()
	if tab.Users() != 0 {
		t.Fatalf("%d users left", tab.Users())
	}
}
