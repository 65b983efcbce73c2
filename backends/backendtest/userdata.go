package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// The cases of the per-account data kinds: backends.Offline (offline.go), VCards,
// PrivateXML and LastActivity. A store that lacks one of these interfaces skips its
// cases, saying so.

// runUserData runs the cases as parallel subtests of t.
func (s *suite) runUserData(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"OfflineAppendRead", s.testOfflineAppendRead},
		{"OfflineLimit", s.testOfflineLimit},
		{"OfflineDelete", s.testOfflineDelete},
		{"OfflineInvalid", s.testOfflineInvalid},
		{"OfflineNoSharedMemory", s.testOfflineNoSharedMemory},
		{"OfflineStampDefault", s.testOfflineStampDefault},
		{"OfflineConcurrentLimit", s.testOfflineConcurrentLimit},
		{"OfflinePersistence", s.testOfflinePersistence},
		{"VCards", s.testVCards},
		{"PrivateXML", s.testPrivateXML},
		{"LastLogout", s.testLastLogout},
		{"LastLogoutBatch", s.testLastLogoutBatch},
		{"UserDataPersistence", s.testUserDataPersistence},
		{"UserDataCancelledAndClosed", s.testUserDataCancelledAndClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t)
		})
	}
}

func vcardStore(t *testing.T, st backends.Store) backends.VCards {
	t.Helper()
	v, ok := st.(backends.VCards)
	if !ok {
		t.Skipf("%T does not implement backends.VCards", st)
	}
	return v
}

func privateStore(t *testing.T, st backends.Store) backends.PrivateXML {
	t.Helper()
	p, ok := st.(backends.PrivateXML)
	if !ok {
		t.Skipf("%T does not implement backends.PrivateXML", st)
	}
	return p
}

func lastStore(t *testing.T, st backends.Store) backends.LastActivity {
	t.Helper()
	l, ok := st.(backends.LastActivity)
	if !ok {
		t.Skipf("%T does not implement backends.LastActivity", st)
	}
	return l
}

// wantBlob fails t unless got, err is want (nil want: ErrNotFound).
func wantBlob(t *testing.T, what string, got []byte, err error, want []byte) {
	t.Helper()
	if want == nil {
		wantErr(t, what, err, backends.ErrNotFound)
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s = %q, %v; want %q", what, got, err, want)
	}
}

func (s *suite) testVCards(t *testing.T) {
	v := vcardStore(t, s.open(t))
	ctx, dom := t.Context(), domain(t)
	get := func(user string, want []byte) {
		t.Helper()
		got, err := v.VCard(ctx, dom, user)
		wantBlob(t, "VCard("+user+")", got, err, want)
	}
	get("alice", nil)
	card := []byte("<vCard xmlns='vcard-temp'><FN>Alice é</FN></vCard>")
	in := bytes.Clone(card)
	if err := v.SetVCard(ctx, dom, "alice", in); err != nil {
		t.Fatalf("SetVCard: %v", err)
	}
	in[1] = 'X' // the caller reuses its buffer
	get("alice", card)
	got, _ := v.VCard(ctx, dom, "alice")
	got[1] = 'Y' // the caller modifies what it got
	get("alice", card)
	get("al", nil)
	newer := []byte("<vCard xmlns='vcard-temp'/>")
	if err := v.SetVCard(ctx, dom, "alice", newer); err != nil {
		t.Fatalf("SetVCard (replace): %v", err)
	}
	get("alice", newer)
	// Invalid input writes nothing.
	wantErr(t, "SetVCard(empty)", v.SetVCard(ctx, dom, "alice", nil), backends.ErrInvalid)
	wantErr(t, "SetVCard(too large)", v.SetVCard(ctx, dom, "alice", make([]byte, backends.MaxVCardLen+1)), backends.ErrInvalid)
	wantErr(t, "SetVCard(empty user)", v.SetVCard(ctx, dom, "", card), backends.ErrInvalid)
	get("alice", newer)
	if err := v.DeleteVCard(ctx, dom, "alice"); err != nil {
		t.Fatalf("DeleteVCard: %v", err)
	}
	get("alice", nil)
	if err := v.DeleteVCard(ctx, dom, "alice"); err != nil {
		t.Fatalf("DeleteVCard of an absent vCard: %v", err)
	}
}

func (s *suite) testPrivateXML(t *testing.T) {
	p := privateStore(t, s.open(t))
	ctx, dom := t.Context(), domain(t)
	get := func(user, ns string, want []byte) {
		t.Helper()
		got, err := p.PrivateXML(ctx, dom, user, ns)
		wantBlob(t, "PrivateXML("+user+", "+ns+")", got, err, want)
	}
	prefs := []byte("<prefs xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></prefs>")
	marks := []byte("<storage xmlns='storage:bookmarks'/>")
	set := func(user string, items ...backends.PrivateItem) {
		t.Helper()
		if err := p.SetPrivateXML(ctx, dom, user, items); err != nil {
			t.Fatalf("SetPrivateXML(%s): %v", user, err)
		}
	}
	set("hamlet", backends.PrivateItem{Namespace: "exodus:prefs", XML: prefs},
		backends.PrivateItem{Namespace: "storage:bookmarks", XML: []byte("<storage xmlns='storage:bookmarks'><x/></storage>")},
		backends.PrivateItem{Namespace: "storage:bookmarks", XML: marks}) // the last one wins
	// Users that are prefixes of each other keep separate data.
	set("ham", backends.PrivateItem{Namespace: "exodus:prefs", XML: marks})
	get("hamlet", "exodus:prefs", prefs)
	get("hamlet", "storage:bookmarks", marks)
	get("hamlet", "exodus:pref", nil)
	get("ham", "exodus:prefs", marks)
	get("ham", "storage:bookmarks", nil)

	// Invalid items fail the whole call.
	for name, bad := range map[string]backends.PrivateItem{
		"empty namespace": {Namespace: "", XML: prefs},
		"long namespace":  {Namespace: strings.Repeat("n", backends.MaxPrivateNamespaceLen+1), XML: prefs},
		"empty XML":       {Namespace: "exodus:prefs"},
	} {
		err := p.SetPrivateXML(ctx, dom, "hamlet", []backends.PrivateItem{{Namespace: "storage:bookmarks", XML: prefs}, bad})
		wantErr(t, "SetPrivateXML with "+name, err, backends.ErrInvalid)
	}
	get("hamlet", "storage:bookmarks", marks)

	if err := p.DeletePrivateXML(ctx, dom, "hamlet"); err != nil {
		t.Fatalf("DeletePrivateXML: %v", err)
	}
	get("hamlet", "exodus:prefs", nil)
	get("hamlet", "storage:bookmarks", nil)
	get("ham", "exodus:prefs", marks)
	if err := p.DeletePrivateXML(ctx, dom, "hamlet"); err != nil {
		t.Fatalf("DeletePrivateXML of nothing: %v", err)
	}
}

func (s *suite) testLastLogout(t *testing.T) {
	l := lastStore(t, s.open(t))
	ctx, dom := t.Context(), domain(t)
	_, err := l.LastLogout(ctx, dom, "juliet")
	wantErr(t, "LastLogout before any", err, backends.ErrNotFound)
	set := func(rec backends.LastLogout) {
		t.Helper()
		if err := l.SetLastLogout(ctx, dom, "juliet", rec); err != nil {
			t.Fatalf("SetLastLogout: %v", err)
		}
	}
	want := func(rec backends.LastLogout) {
		t.Helper()
		got, err := l.LastLogout(ctx, dom, "juliet")
		if err != nil || !got.At.Equal(rec.At) || got.Status != rec.Status {
			t.Fatalf("LastLogout = {%s %q}, %v; want {%s %q}", got.At, got.Status, err, rec.At, rec.Status)
		}
	}
	set(backends.LastLogout{At: time.Unix(1_700_000_000, 999_999_999), Status: "Heading Home ☂"})
	want(backends.LastLogout{At: time.Unix(1_700_000_000, 0), Status: "Heading Home ☂"}) // whole seconds
	set(backends.LastLogout{At: time.Unix(1_700_000_100, 0)})
	want(backends.LastLogout{At: time.Unix(1_700_000_100, 0)})
	err = l.SetLastLogout(ctx, dom, "juliet", backends.LastLogout{At: time.Now(), Status: strings.Repeat("s", backends.MaxStatusLen+1)})
	wantErr(t, "SetLastLogout with a long status", err, backends.ErrInvalid)
	want(backends.LastLogout{At: time.Unix(1_700_000_100, 0)})
	if _, err := l.LastLogout(ctx, dom, "julie"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("LastLogout of another user: %v", err)
	}
	if err := l.DeleteLastLogout(ctx, dom, "juliet"); err != nil {
		t.Fatalf("DeleteLastLogout: %v", err)
	}
	_, err = l.LastLogout(ctx, dom, "juliet")
	wantErr(t, "LastLogout after delete", err, backends.ErrNotFound)
	if err := l.DeleteLastLogout(ctx, dom, "juliet"); err != nil {
		t.Fatalf("DeleteLastLogout of nothing: %v", err)
	}
}

// testLastLogoutBatch checks backends.SetLastLogouts: the store's own batch when it is
// a LastLogoutBatcher, the one-by-one fallback otherwise.
func (s *suite) testLastLogoutBatch(t *testing.T) {
	l := lastStore(t, s.open(t))
	ctx, dom := t.Context(), domain(t)
	_, batcher := l.(backends.LastLogoutBatcher)
	t.Logf("store batches last logouts itself: %v", batcher)
	at := func(sec int64) time.Time { return time.Unix(1_700_000_000+sec, 0) }
	var entries []backends.LastLogoutEntry
	for i := range 40 {
		entries = append(entries, backends.LastLogoutEntry{Domain: dom, User: fmt.Sprintf("u%02d", i), Last: backends.LastLogout{At: at(int64(i)), Status: fmt.Sprint("s", i)}})
	}
	// A later entry for an account wins, however many come between.
	entries = append(entries, backends.LastLogoutEntry{Domain: dom, User: "u07", Last: backends.LastLogout{At: at(1000), Status: "later"}})
	if err := backends.SetLastLogouts(ctx, l, entries); err != nil {
		t.Fatalf("SetLastLogouts: %v", err)
	}
	for i := range 40 {
		want := backends.LastLogout{At: at(int64(i)), Status: fmt.Sprint("s", i)}
		if i == 7 {
			want = backends.LastLogout{At: at(1000), Status: "later"}
		}
		got, err := l.LastLogout(ctx, dom, fmt.Sprintf("u%02d", i))
		if err != nil || !got.At.Equal(want.At) || got.Status != want.Status {
			t.Fatalf("u%02d: LastLogout = {%s %q}, %v; want {%s %q}", i, got.At, got.Status, err, want.At, want.Status)
		}
	}
	// One invalid entry writes nothing.
	bad := []backends.LastLogoutEntry{
		{Domain: dom, User: "fresh", Last: backends.LastLogout{At: at(5)}},
		{Domain: dom, User: "u01", Last: backends.LastLogout{At: at(6), Status: strings.Repeat("s", backends.MaxStatusLen+1)}},
	}
	wantErr(t, "SetLastLogouts with a long status", backends.SetLastLogouts(ctx, l, bad), backends.ErrInvalid)
	_, err := l.LastLogout(ctx, dom, "fresh")
	wantErr(t, "LastLogout of a failed batch's entry", err, backends.ErrNotFound)
	if err := backends.SetLastLogouts(ctx, l, nil); err != nil {
		t.Fatalf("SetLastLogouts of nothing: %v", err)
	}
}

func (s *suite) testUserDataPersistence(t *testing.T) {
	if s.cfg.reopen == nil {
		t.Skip("the store is not durable (no Reopen option)")
	}
	st := s.open(t)
	ctx, dom := t.Context(), domain(t)
	card := []byte("<vCard xmlns='vcard-temp'><FN>Kim</FN></vCard>")
	prefs := []byte("<p xmlns='urn:example:p'/>")
	at := time.Unix(1_700_000_000, 0)
	if err := vcardStore(t, st).SetVCard(ctx, dom, "kim", card); err != nil {
		t.Fatalf("SetVCard: %v", err)
	}
	if err := privateStore(t, st).SetPrivateXML(ctx, dom, "kim", []backends.PrivateItem{{Namespace: "urn:example:p", XML: prefs}}); err != nil {
		t.Fatalf("SetPrivateXML: %v", err)
	}
	if err := lastStore(t, st).SetLastLogout(ctx, dom, "kim", backends.LastLogout{At: at, Status: "away"}); err != nil {
		t.Fatalf("SetLastLogout: %v", err)
	}
	st = s.cfg.reopen(t, st)
	t.Cleanup(func() { _ = st.Close() })
	got, err := vcardStore(t, st).VCard(ctx, dom, "kim")
	wantBlob(t, "VCard after reopen", got, err, card)
	got, err = privateStore(t, st).PrivateXML(ctx, dom, "kim", "urn:example:p")
	wantBlob(t, "PrivateXML after reopen", got, err, prefs)
	l, err := lastStore(t, st).LastLogout(ctx, dom, "kim")
	if err != nil || !l.At.Equal(at) || l.Status != "away" {
		t.Fatalf("LastLogout after reopen = %+v, %v", l, err)
	}
}

// userDataMethods calls every method of the per-account kinds with valid arguments
// and returns their errors by name.
func userDataMethods(t *testing.T, ctx context.Context, st backends.Store, dom string) map[string]error {
	o, v, p, l := offlineStore(t, st), vcardStore(t, st), privateStore(t, st), lastStore(t, st)
	errs := map[string]error{}
	_, errs["AppendOffline"] = o.AppendOffline(ctx, []backends.OfflineMessage{msg(dom, "liam", 1)}, 0)
	_, errs["OfflineMessages"] = o.OfflineMessages(ctx, dom, "liam", 10)
	_, errs["DeleteOffline"] = o.DeleteOffline(ctx, dom, "liam", math.MaxUint64)
	_, errs["CountOffline"] = o.CountOffline(ctx, dom, "liam")
	errs["SetVCard"] = v.SetVCard(ctx, dom, "liam", []byte("<vCard xmlns='vcard-temp'/>"))
	_, errs["VCard"] = v.VCard(ctx, dom, "liam")
	errs["DeleteVCard"] = v.DeleteVCard(ctx, dom, "liam")
	errs["SetPrivateXML"] = p.SetPrivateXML(ctx, dom, "liam", []backends.PrivateItem{{Namespace: "urn:x", XML: []byte("<x xmlns='urn:x'/>")}})
	_, errs["PrivateXML"] = p.PrivateXML(ctx, dom, "liam", "urn:x")
	errs["DeletePrivateXML"] = p.DeletePrivateXML(ctx, dom, "liam")
	errs["SetLastLogout"] = l.SetLastLogout(ctx, dom, "liam", backends.LastLogout{At: time.Now()})
	_, errs["LastLogout"] = l.LastLogout(ctx, dom, "liam")
	errs["DeleteLastLogout"] = l.DeleteLastLogout(ctx, dom, "liam")
	return errs
}

func (s *suite) testUserDataCancelledAndClosed(t *testing.T) {
	st := s.open(t)
	dom := domain(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range userDataMethods(t, ctx, st, dom) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error %v, want context.Canceled", name, err)
		}
	}
	if n, err := offlineStore(t, st).CountOffline(t.Context(), dom, "liam"); err != nil || n != 0 {
		t.Errorf("a cancelled AppendOffline wrote: count %d, %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range userDataMethods(t, t.Context(), st, dom) {
		if !errors.Is(err, backends.ErrClosed) {
			t.Errorf("%s after Close: error %v, want ErrClosed", name, err)
		}
	}
}
