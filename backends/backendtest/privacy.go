package backendtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// runPrivacy runs the cases of backends.Privacy as subtests of t. A store that does not
// implement it skips them.
func (s *suite) runPrivacy(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, st backends.Store, p backends.Privacy)
	}{
		{"Empty", testPrivacyEmpty},
		{"NormalForm", testPrivacyNormalForm},
		{"Default", testPrivacyDefault},
		{"Invalid", testPrivacyInvalid},
		{"FuncError", testPrivacyFuncError},
		{"RemoveLast", testPrivacyRemoveLast},
		{"Isolation", testPrivacyIsolation},
		{"NoSharedMemory", testPrivacyNoSharedMemory},
		{"Delete", testPrivacyDelete},
		{"Defaults", testPrivacyDefaults},
		{"Concurrent", testPrivacyConcurrent},
		{"Closed", testPrivacyClosed},
		{"Persistence", s.testPrivacyPersistence},
	}
	for _, c := range cases {
		t.Run("Privacy/"+c.name, func(t *testing.T) {
			t.Parallel()
			st := s.open(t)
			p, ok := st.(backends.Privacy)
			if !ok {
				t.Skip("the store does not implement backends.Privacy")
			}
			c.fn(t, st, p)
		})
	}
}

// blockList is a list as the blocking command writes it, with items out of order.
func blockList(name string, jids ...string) backends.PrivacyList {
	l := backends.PrivacyList{Name: name}
	for i, j := range jids {
		l.Items = append(l.Items, backends.PrivacyItem{Type: backends.PrivacyJID, Value: j, Deny: true, Order: uint32(len(jids) - i)})
	}
	return l
}

// richList uses every type, action and stanza kind.
func richList(name string) backends.PrivacyList {
	return backends.PrivacyList{Name: name, Items: []backends.PrivacyItem{
		{Type: backends.PrivacyJID, Value: "tybalt@example.com/pda", Deny: true, Order: 1, Stanzas: backends.PrivacyMessage},
		{Type: backends.PrivacyGroup, Value: "Enemies ☠", Deny: true, Order: 4, Stanzas: backends.PrivacyIQ | backends.PrivacyPresenceIn},
		{Type: backends.PrivacySubscription, Value: "none", Deny: true, Order: 5, Stanzas: backends.PrivacyPresenceOut},
		{Type: backends.PrivacySubscription, Value: "both", Order: 10},
		{Type: backends.PrivacyFallThrough, Deny: true, Order: 4294967295},
	}}
}

func put(lists ...backends.PrivacyList) backends.PrivacyUpdateFunc {
	return func(s *backends.PrivacySettings) error {
		for _, l := range lists {
			s.Put(l)
		}
		return nil
	}
}

func wantSettings(t *testing.T, p backends.Privacy, dom, user string, want backends.PrivacySettings) {
	t.Helper()
	got, err := p.PrivacySettings(t.Context(), dom, user)
	if err != nil {
		t.Fatalf("PrivacySettings(%q, %q): %v", dom, user, err)
	}
	if !samePrivacy(got, want) {
		t.Fatalf("PrivacySettings(%q, %q):\n got  %+v\n want %+v", dom, user, got, want)
	}
}

// samePrivacy compares settings, treating nil and empty slices alike.
func samePrivacy(a, b backends.PrivacySettings) bool {
	if a.Default != b.Default || len(a.Lists) != len(b.Lists) {
		return false
	}
	for i := range a.Lists {
		x, y := a.Lists[i], b.Lists[i]
		if x.Name != y.Name || len(x.Items) != len(y.Items) {
			return false
		}
		if len(x.Items) > 0 && !reflect.DeepEqual(x.Items, y.Items) {
			return false
		}
	}
	return true
}

func normal(s backends.PrivacySettings) backends.PrivacySettings {
	s = s.Clone()
	s.Normalize()
	return s
}

func testPrivacyEmpty(t *testing.T, _ backends.Store, p backends.Privacy) {
	wantSettings(t, p, domain(t), "nobody", backends.PrivacySettings{})
}

func testPrivacyNormalForm(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	lists := []backends.PrivacyList{richList("zeta"), blockList("urn:xmpp:blocking", "a@x", "b@x", "x"), richList("alpha")}
	got, err := p.UpdatePrivacy(t.Context(), dom, "romeo", put(lists...))
	if err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	want := normal(backends.PrivacySettings{Lists: lists})
	if !samePrivacy(got, want) {
		t.Fatalf("UpdatePrivacy returned\n %+v\nwant\n %+v", got, want)
	}
	if got.Lists[0].Name != "alpha" || got.Lists[1].Items[0].Value != "x" {
		t.Fatalf("not in normal form: %+v", got)
	}
	wantSettings(t, p, dom, "romeo", want)
	// Replacing a list keeps the others.
	repl := blockList("zeta", "only@x")
	if _, err := p.UpdatePrivacy(t.Context(), dom, "romeo", put(repl)); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	want.Put(repl)
	wantSettings(t, p, dom, "romeo", want)
}

func testPrivacyDefault(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	_, err := p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error {
		s.Put(richList("public"))
		s.Put(blockList("private", "a@x"))
		s.Default = "public"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	got, err := p.PrivacySettings(ctx, dom, "romeo")
	if err != nil || got.Default != "public" || got.DefaultList() == nil || got.DefaultList().Name != "public" {
		t.Fatalf("PrivacySettings = %+v, %v; want default public", got, err)
	}
	// A default naming no list is refused, and nothing changes.
	_, err = p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error { s.Default = "nope"; return nil })
	wantErr(t, "UpdatePrivacy with a missing default", err, backends.ErrInvalid)
	wantSettings(t, p, dom, "romeo", got)
	// Removing the default list clears the default.
	after, err := p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error {
		if !s.Remove("public") {
			return errors.New("public list missing")
		}
		return nil
	})
	if err != nil || after.Default != "" || len(after.Lists) != 1 {
		t.Fatalf("after removing the default list: %+v, %v", after, err)
	}
	wantSettings(t, p, dom, "romeo", after)
}

func testPrivacyInvalid(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	good := blockList("good", "a@x")
	if _, err := p.UpdatePrivacy(ctx, dom, "romeo", put(good)); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	item := func(mod func(*backends.PrivacyItem)) backends.PrivacyList {
		it := backends.PrivacyItem{Type: backends.PrivacyJID, Value: "a@x", Order: 1}
		mod(&it)
		return backends.PrivacyList{Name: "bad", Items: []backends.PrivacyItem{it}}
	}
	tooMany := func(s *backends.PrivacySettings) error {
		for i := range backends.MaxPrivacyLists + 1 {
			s.Put(blockList(fmt.Sprintf("l%04d", i), "a@x"))
		}
		return nil
	}
	longList := backends.PrivacyList{Name: "long"}
	for i := range backends.MaxPrivacyItems + 1 {
		longList.Items = append(longList.Items, backends.PrivacyItem{Order: uint32(i)})
	}
	cases := map[string]backends.PrivacyUpdateFunc{
		"duplicate order": put(backends.PrivacyList{Name: "dup", Items: []backends.PrivacyItem{{Order: 3}, {Order: 3, Deny: true}}}),
		"empty name":      put(blockList("", "a@x")),
		"long name":       put(blockList(strings.Repeat("n", backends.MaxPrivacyNameLen+1), "a@x")),
		"empty jid":       put(item(func(it *backends.PrivacyItem) { it.Value = "" })),
		"long jid":        put(item(func(it *backends.PrivacyItem) { it.Value = strings.Repeat("j", backends.MaxPrivacyValueLen+1) })),
		"long group": put(item(func(it *backends.PrivacyItem) {
			it.Type, it.Value = backends.PrivacyGroup, strings.Repeat("g", backends.MaxGroupLen+1)
		})),
		"subscription":   put(item(func(it *backends.PrivacyItem) { it.Type, it.Value = backends.PrivacySubscription, "maybe" })),
		"fall-through":   put(item(func(it *backends.PrivacyItem) { it.Type = backends.PrivacyFallThrough })),
		"unknown type":   put(item(func(it *backends.PrivacyItem) { it.Type = 7 })),
		"unknown kinds":  put(item(func(it *backends.PrivacyItem) { it.Stanzas = 0x30 })),
		"too many lists": tooMany,
		"too many items": put(longList),
	}
	for name, fn := range cases {
		_, err := p.UpdatePrivacy(ctx, dom, "romeo", fn)
		wantErr(t, name, err, backends.ErrInvalid)
	}
	wantSettings(t, p, dom, "romeo", backends.PrivacySettings{Lists: []backends.PrivacyList{good}})
	for name, call := range map[string]func() error{
		"PrivacySettings": func() error { _, err := p.PrivacySettings(ctx, dom, ""); return err },
		"UpdatePrivacy":   func() error { _, err := p.UpdatePrivacy(ctx, "", "romeo", put(good)); return err },
		"DeletePrivacy":   func() error { return p.DeletePrivacy(ctx, dom, strings.Repeat("u", backends.MaxPartLen+1)) },
		"PrivacyDefaults": func() error {
			return p.PrivacyDefaults(ctx, "", func(string, backends.PrivacyList) error { return nil })
		},
	} {
		wantErr(t, name+" with an invalid key", call(), backends.ErrInvalid)
	}
}

var errRefused = errors.New("refused by the update function")

func testPrivacyFuncError(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	good := blockList("good", "a@x")
	if _, err := p.UpdatePrivacy(ctx, dom, "romeo", put(good)); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	_, err := p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error {
		s.Put(blockList("other", "b@x"))
		s.Lists = nil
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("UpdatePrivacy: error %v, want the function's", err)
	}
	wantSettings(t, p, dom, "romeo", backends.PrivacySettings{Lists: []backends.PrivacyList{good}})
}

func testPrivacyRemoveLast(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	if _, err := p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error {
		s.Put(blockList("only", "a@x"))
		s.Default = "only"
		return nil
	}); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	got, err := p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error { s.Remove("only"); return nil })
	if err != nil || !samePrivacy(got, backends.PrivacySettings{}) {
		t.Fatalf("after removing the last list: %+v, %v", got, err)
	}
	wantSettings(t, p, dom, "romeo", backends.PrivacySettings{})
	n := 0
	if err := p.PrivacyDefaults(ctx, dom, func(string, backends.PrivacyList) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("PrivacyDefaults after removal: %d users, %v", n, err)
	}
}

func testPrivacyIsolation(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom, other := domain(t), domain(t)
	ctx := t.Context()
	if _, err := p.UpdatePrivacy(ctx, dom, "romeo", put(blockList("mine", "a@x"))); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	wantSettings(t, p, dom, "juliet", backends.PrivacySettings{})
	wantSettings(t, p, other, "romeo", backends.PrivacySettings{})
	wantSettings(t, p, dom, "romeo", backends.PrivacySettings{Lists: []backends.PrivacyList{blockList("mine", "a@x")}})
}

func testPrivacyNoSharedMemory(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	in := richList("l")
	got, err := p.UpdatePrivacy(ctx, dom, "romeo", put(in))
	if err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	want := normal(backends.PrivacySettings{Lists: []backends.PrivacyList{richList("l")}})
	in.Items[0].Value = "changed@x"
	got.Lists[0].Items[0].Value = "changed@x"
	read, err := p.PrivacySettings(ctx, dom, "romeo")
	if err != nil {
		t.Fatalf("PrivacySettings: %v", err)
	}
	read.Lists[0].Items[1].Deny = false
	wantSettings(t, p, dom, "romeo", want)
}

func testPrivacyDelete(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	if err := p.DeletePrivacy(ctx, dom, "ghost"); err != nil {
		t.Fatalf("DeletePrivacy of absent settings: %v", err)
	}
	for _, u := range []string{"romeo", "juliet"} {
		if _, err := p.UpdatePrivacy(ctx, dom, u, func(s *backends.PrivacySettings) error {
			s.Put(blockList("b", "a@x"))
			s.Default = "b"
			return nil
		}); err != nil {
			t.Fatalf("UpdatePrivacy: %v", err)
		}
	}
	if err := p.DeletePrivacy(ctx, dom, "romeo"); err != nil {
		t.Fatalf("DeletePrivacy: %v", err)
	}
	wantSettings(t, p, dom, "romeo", backends.PrivacySettings{})
	got, err := p.PrivacySettings(ctx, dom, "juliet")
	if err != nil || got.Default != "b" {
		t.Fatalf("juliet after romeo's deletion: %+v, %v", got, err)
	}
}

func testPrivacyDefaults(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom, other := domain(t), domain(t)
	ctx := t.Context()
	setDefault := func(dom, user string, l backends.PrivacyList) {
		t.Helper()
		if _, err := p.UpdatePrivacy(ctx, dom, user, func(s *backends.PrivacySettings) error {
			s.Put(l)
			s.Put(blockList("spare", "s@x"))
			s.Default = l.Name
			return nil
		}); err != nil {
			t.Fatalf("UpdatePrivacy: %v", err)
		}
	}
	setDefault(dom, "romeo", richList("public"))
	setDefault(dom, "juliet", blockList("urn:xmpp:blocking", "tybalt@x"))
	setDefault(other, "mercutio", blockList("x", "y@x"))
	if _, err := p.UpdatePrivacy(ctx, dom, "nodefault", put(blockList("l", "a@x"))); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	got := map[string]backends.PrivacyList{}
	err := p.PrivacyDefaults(ctx, dom, func(user string, l backends.PrivacyList) error {
		got[user] = l
		return nil
	})
	if err != nil {
		t.Fatalf("PrivacyDefaults: %v", err)
	}
	want := map[string]backends.PrivacyList{
		"romeo":  normal(backends.PrivacySettings{Lists: []backends.PrivacyList{richList("public")}}).Lists[0],
		"juliet": normal(backends.PrivacySettings{Lists: []backends.PrivacyList{blockList("urn:xmpp:blocking", "tybalt@x")}}).Lists[0],
	}
	if len(got) != len(want) {
		t.Fatalf("PrivacyDefaults gave %d users (%v), want %d", len(got), got, len(want))
	}
	for u, l := range want {
		if !samePrivacy(backends.PrivacySettings{Lists: []backends.PrivacyList{got[u]}}, backends.PrivacySettings{Lists: []backends.PrivacyList{l}}) {
			t.Fatalf("PrivacyDefaults(%s) = %+v, want %+v", u, got[u], l)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = p.PrivacyDefaults(ctx, dom, func(string, backends.PrivacyList) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("PrivacyDefaults with a failing fn: %v after %d calls", err, calls)
	}
}

func testPrivacyConcurrent(t *testing.T, _ backends.Store, p backends.Privacy) {
	dom := domain(t)
	const workers, each = 8, 5
	errs := parallel(workers, func(w int) error {
		for i := range each {
			name := fmt.Sprintf("w%d-%d", w, i)
			_, err := p.UpdatePrivacy(context.Background(), dom, "romeo", func(s *backends.PrivacySettings) error {
				// A read-modify-write that would lose lists if two ran interleaved.
				l := blockList(name, "a@x")
				l.Items[0].Order = uint32(len(s.Lists))
				s.Put(l)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("parallel UpdatePrivacy: %v", err)
	}
	got, err := p.PrivacySettings(t.Context(), dom, "romeo")
	if err != nil {
		t.Fatalf("PrivacySettings: %v", err)
	}
	if len(got.Lists) != workers*each {
		t.Fatalf("%d lists after %d concurrent additions", len(got.Lists), workers*each)
	}
	seen := map[uint32]bool{}
	for _, l := range got.Lists {
		seen[l.Items[0].Order] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("updates saw stale settings: orders %v", seen)
	}
}

func testPrivacyClosed(t *testing.T, st backends.Store, p backends.Privacy) {
	dom := domain(t)
	ctx := t.Context()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, call := range map[string]func() error{
		"PrivacySettings": func() error { _, err := p.PrivacySettings(ctx, dom, "romeo"); return err },
		"UpdatePrivacy":   func() error { _, err := p.UpdatePrivacy(ctx, dom, "romeo", put(blockList("l", "a@x"))); return err },
		"DeletePrivacy":   func() error { return p.DeletePrivacy(ctx, dom, "romeo") },
		"PrivacyDefaults": func() error {
			return p.PrivacyDefaults(ctx, dom, func(string, backends.PrivacyList) error { return nil })
		},
	} {
		if err := call(); !errors.Is(err, backends.ErrClosed) {
			t.Errorf("%s after Close: error %v, want ErrClosed", name, err)
		}
	}
}

func (s *suite) testPrivacyPersistence(t *testing.T, st backends.Store, p backends.Privacy) {
	if s.cfg.reopen == nil {
		t.Skip("the store is not durable (no Reopen option)")
	}
	dom := domain(t)
	ctx := t.Context()
	if _, err := p.UpdatePrivacy(ctx, dom, "romeo", func(s *backends.PrivacySettings) error {
		s.Put(richList("public"))
		s.Put(blockList("urn:xmpp:blocking", "tybalt@x", "paris@y"))
		s.Default = "urn:xmpp:blocking"
		return nil
	}); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	if _, err := p.UpdatePrivacy(ctx, dom, "gone", put(blockList("l", "a@x"))); err != nil {
		t.Fatalf("UpdatePrivacy: %v", err)
	}
	if err := p.DeletePrivacy(ctx, dom, "gone"); err != nil {
		t.Fatalf("DeletePrivacy: %v", err)
	}
	want, err := p.PrivacySettings(ctx, dom, "romeo")
	if err != nil {
		t.Fatalf("PrivacySettings: %v", err)
	}
	st = s.cfg.reopen(t, st)
	t.Cleanup(func() { _ = st.Close() })
	p = st.(backends.Privacy)
	wantSettings(t, p, dom, "romeo", want)
	wantSettings(t, p, dom, "gone", backends.PrivacySettings{})
	n := 0
	if err := p.PrivacyDefaults(ctx, dom, func(u string, l backends.PrivacyList) error {
		n++
		if u != "romeo" || l.Name != "urn:xmpp:blocking" || len(l.Items) != 2 {
			return fmt.Errorf("default of %s: %+v", u, l)
		}
		return nil
	}); err != nil || n != 1 {
		t.Fatalf("PrivacyDefaults after reopen: %d users, %v", n, err)
	}
}
