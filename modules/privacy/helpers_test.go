package privacy_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/privacy"
)

// spy is a test module: it gives tests the Host (to fire events) and records the
// messages offered to offline storage, which it takes (as an offline module would).
type spy struct {
	mu      sync.Mutex
	h       *engine.Host
	offline []string
}

// Start runs after mod_privacy's (modules start in name order); the mutex hands what
// both wrote to the test goroutine.
func (s *spy) Start(h *engine.Host) error {
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
	h.OnUndeliverable(engine.PriorityDefault, func(st *engine.Stanza) engine.HookResult {
		s.mu.Lock()
		s.offline = append(s.offline, string(st.Raw))
		s.mu.Unlock()
		return engine.Stop
	})
	return nil
}

func (s *spy) Stop() error { return nil }

func (s *spy) host() *engine.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h
}

func (s *spy) stored() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.offline...)
}

type env struct {
	t   *testing.T
	ts  *enginetest.Server
	spy *spy
}

// start serves localhost with mod_privacy (opts) and the spy, users alice, bob, carol
// and dave (password "pw"), on store st (a memory store when nil).
func start(t *testing.T, st backends.Store, opts map[string]any) *env {
	t.Helper()
	sp := &spy{}
	o := []enginetest.Option{
		enginetest.WithModule(privacy.Name, privacy.New, opts),
		enginetest.WithModule("mod_spy", func(engine.ModuleConfig) (engine.Module, error) { return sp, nil }, nil),
	}
	if st != nil {
		o = append(o, enginetest.WithStore(st))
	}
	ts := enginetest.Start(t, o...)
	return &env{t: t, ts: ts, spy: sp}
}

func (e *env) users(names ...string) {
	for _, n := range names {
		e.ts.AddUser(n, "pw")
	}
}

// login binds user/resource and, unless silent, sends initial presence.
func (e *env) login(user, resource string, available bool) *enginetest.Raw {
	e.t.Helper()
	rc := e.ts.Login(e.t, user, "pw", resource)
	if available {
		rc.Send("<presence/>")
		// Our own presence comes back (RFC 6121 4.2.2); wait for it so that routing
		// sees the resource as available.
		rc.ReadUntil("<presence")
		time.Sleep(20 * time.Millisecond)
		rc.Next(50 * time.Millisecond)
	}
	return rc
}

// roster stores a roster item for owner directly.
func (e *env) roster(owner string, item backends.RosterItem) {
	e.t.Helper()
	rs, ok := e.ts.Store.(backends.Rosters)
	if !ok {
		e.t.Skip("the store keeps no rosters")
	}
	if _, err := rs.PutRosterItem(context.Background(), "localhost", owner, item); err != nil {
		e.t.Fatalf("PutRosterItem: %v", err)
	}
}

// expect reads until want arrives and checks that what was read also holds each of
// also; it returns what was read and resets the buffer.
func expect(t *testing.T, rc *enginetest.Raw, want string, also ...string) string {
	t.Helper()
	got := rc.ReadUntil(want)
	rc.Buf.Reset()
	for _, a := range also {
		if !strings.Contains(got, a) {
			t.Fatalf("got %q, lacking %q", got, a)
		}
	}
	return got
}

// iq sends an iq and returns its answer. What was read before is discarded.
func iq(t *testing.T, rc *enginetest.Raw, id, typ, payload string) string {
	t.Helper()
	rc.Buf.Reset()
	rc.Send("<iq type='" + typ + "' id='" + id + "'>" + payload + "</iq>")
	return answer(t, rc, id)
}

// answer reads until the iq with id is complete and returns it; what follows it stays
// in the buffer.
func answer(t *testing.T, rc *enginetest.Raw, id string) string {
	t.Helper()
	s := rc.ReadUntil("id='" + id + "'")
	i := strings.Index(s, "id='"+id+"'")
	start := strings.LastIndex(s[:i], "<iq")
	if start < 0 {
		t.Fatalf("id %s outside an iq: %q", id, s)
	}
	// Keep only the reply and what follows, so that reading on cannot stop at an
	// earlier stanza's end.
	rc.Buf.Reset()
	rc.Buf.WriteString(s[start:])
	rest := rc.ReadUntil(">")
	end := strings.IndexByte(rest, '>') + 1
	if rest[end-2] != '/' {
		rest = rc.ReadUntil("</iq>")
		end = strings.Index(rest, "</iq>") + len("</iq>")
	}
	rc.Buf.Reset()
	rc.Buf.WriteString(rest[end:])
	return rest[:end]
}

func wantResult(t *testing.T, got string) {
	t.Helper()
	if !strings.Contains(got, "type='result'") {
		t.Fatalf("want a result, got %q", got)
	}
}

func wantError(t *testing.T, got, cond string) {
	t.Helper()
	if !strings.Contains(got, "type='error'") || !strings.Contains(got, "<"+cond+" xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") {
		t.Fatalf("want a %s error, got %q", cond, got)
	}
}

// silent fails if anything containing marker arrives within 300 ms.
func silent(t *testing.T, rc *enginetest.Raw, marker string) {
	t.Helper()
	if got := rc.Next(300 * time.Millisecond); strings.Contains(got, marker) {
		t.Fatalf("%q arrived: %q", marker, got)
	}
}
