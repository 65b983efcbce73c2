package backendtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// SessionsTTL is the TTL the session cases ask for, except the expiry case: long enough
// that no heartbeat lapses during a case on a loaded machine.
const SessionsTTL = 60 * time.Second

// ExpiryTTL is the TTL the expiry case asks for: it waits about twice as long.
const ExpiryTTL = time.Second

// RunSessions runs the conformance suite of backends.Sessions as subtests of t.
// newRegistry must return a working registry whose TTL is ttl; it is called once per
// case, possibly from parallel subtests, and the suite closes what it gets. Registries
// returned for different cases may share one server: the cases use node names and
// domains of their own, and never expect Nodes to list only theirs.
func RunSessions(t *testing.T, newRegistry func(t *testing.T, ttl time.Duration) backends.Sessions) {
	s := &sessionSuite{newRegistry: newRegistry}
	cases := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"RegisterAndRead", s.testRegisterAndRead},
		{"InvisibleBeforeRefresh", s.testInvisibleBeforeRefresh},
		{"Replace", s.testReplace},
		{"MoveToOtherNode", s.testMove},
		{"UnregisterOwnership", s.testUnregisterOwnership},
		{"NodeSessions", s.testNodeSessions},
		{"Epochs", s.testEpochs},
		{"Purge", s.testPurge},
		{"Expiry", s.testExpiry},
		{"Invalid", s.testInvalid},
		{"KeysAreOpaque", s.testOpaque},
		{"WriteOrder", s.testWriteOrder},
		{"ConcurrentWrites", s.testConcurrent},
		{"NoSharedMemory", s.testNoShared},
		{"CancelledContext", s.testCancelled},
		{"Close", s.testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t)
		})
	}
}

type sessionSuite struct {
	newRegistry func(t *testing.T, ttl time.Duration) backends.Sessions
}

func (s *sessionSuite) open(t *testing.T, ttl time.Duration) backends.Sessions {
	t.Helper()
	r := s.newRegistry(t, ttl)
	if r == nil {
		t.Fatal("newRegistry returned nil")
	}
	if r.TTL() != ttl {
		t.Fatalf("TTL() = %v, want %v", r.TTL(), ttl)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// nodeName returns a node name no other case and no earlier run uses.
func nodeName(t *testing.T, label string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return label + "-" + hex.EncodeToString(b[:])
}

func register(t *testing.T, r backends.Sessions, ss ...backends.Session) {
	t.Helper()
	for _, s := range ss {
		if err := r.Register(t.Context(), s); err != nil {
			t.Fatalf("Register(%s): %v", describeSession(s), err)
		}
	}
}

func refresh(t *testing.T, r backends.Sessions, node string) string {
	t.Helper()
	epoch, err := r.Refresh(t.Context(), node)
	if err != nil {
		t.Fatalf("Refresh(%q): %v", node, err)
	}
	if epoch == "" {
		t.Fatalf("Refresh(%q) gave an empty epoch", node)
	}
	return epoch
}

func unregister(t *testing.T, r backends.Sessions, s backends.Session, node string) {
	t.Helper()
	if err := r.Unregister(t.Context(), s.Domain, s.User, s.Resource, node); err != nil {
		t.Fatalf("Unregister(%s by %q): %v", describeSession(s), node, err)
	}
}

func describeSession(s backends.Session) string {
	return fmt.Sprintf("%q@%q/%q on %q prio %d avail %v since %s", s.User, s.Domain, s.Resource,
		s.Node, s.Priority, s.Available, s.Since.UTC().Format(time.RFC3339Nano))
}

func sameSessions(got, want []backends.Session) bool {
	return slices.EqualFunc(got, want, func(a, b backends.Session) bool {
		return a.Domain == b.Domain && a.User == b.User && a.Resource == b.Resource && a.Node == b.Node &&
			a.Priority == b.Priority && a.Available == b.Available && a.Since.Equal(b.Since)
	})
}

func describeSessions(ss []backends.Session) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("\n\t")
		b.WriteString(describeSession(s))
	}
	if len(ss) == 0 {
		b.WriteString(" (none)")
	}
	return b.String()
}

// wantUser fails t unless UserSessions gives exactly want.
func wantUser(t *testing.T, r backends.Sessions, dom, user string, want ...backends.Session) {
	t.Helper()
	got, err := r.UserSessions(t.Context(), dom, user)
	if err != nil {
		t.Fatalf("UserSessions(%q, %q): %v", dom, user, err)
	}
	if !sameSessions(got, want) {
		t.Fatalf("UserSessions(%q, %q):\n got %s\n want %s", dom, user, describeSessions(got), describeSessions(want))
	}
}

// wantNode fails t unless NodeSessions and CountSessions give exactly want.
func wantNode(t *testing.T, r backends.Sessions, node string, want ...backends.Session) {
	t.Helper()
	got, err := r.NodeSessions(t.Context(), node)
	if err != nil {
		t.Fatalf("NodeSessions(%q): %v", node, err)
	}
	if !sameSessions(got, want) {
		t.Fatalf("NodeSessions(%q):\n got %s\n want %s", node, describeSessions(got), describeSessions(want))
	}
	n, err := r.CountSessions(t.Context(), node)
	if err != nil {
		t.Fatalf("CountSessions(%q): %v", node, err)
	}
	if n != len(want) {
		t.Fatalf("CountSessions(%q) = %d, want %d", node, n, len(want))
	}
}

// nodeState returns node's state as Nodes reports it, and whether it is listed.
func nodeState(t *testing.T, r backends.Sessions, node string) (alive, listed bool) {
	t.Helper()
	ns, err := r.Nodes(t.Context())
	if err != nil {
		t.Fatalf("Nodes: %v", err)
	}
	if !slices.IsSortedFunc(ns, func(a, b backends.NodeState) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("Nodes not sorted: %v", ns)
	}
	for _, n := range ns {
		if n.Name == node {
			return n.Alive, true
		}
	}
	return false, false
}

// at is a fixed binding time in whole milliseconds, the precision registries keep.
func at(i int) time.Time { return time.UnixMilli(1_760_000_000_000 + int64(i)*1001) }

func (s *sessionSuite) testRegisterAndRead(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	phone := backends.Session{Domain: dom, User: "alice", Resource: "phone", Node: node, Priority: 5, Available: true, Since: at(1)}
	desk := backends.Session{Domain: dom, User: "alice", Resource: "desk", Node: node, Priority: -1, Since: at(2)}
	bob := backends.Session{Domain: dom, User: "bob", Resource: "r", Node: node, Priority: 127, Available: true, Since: at(3)}
	register(t, r, phone, desk, bob)
	refresh(t, r, node)
	wantUser(t, r, dom, "alice", desk, phone) // byte-wise order of resources
	wantUser(t, r, dom, "bob", bob)
	wantUser(t, r, dom, "carol")
	wantUser(t, r, domain(t), "alice")

	// A zero Since becomes the registry's current time, kept to the millisecond.
	before := time.Now().Truncate(time.Millisecond)
	register(t, r, backends.Session{Domain: dom, User: "dave", Resource: "x", Node: node})
	after := time.Now()
	got, err := r.UserSessions(t.Context(), dom, "dave")
	if err != nil || len(got) != 1 {
		t.Fatalf("UserSessions(dave) = %v, %v", got, err)
	}
	if got[0].Since.Before(before.Add(-time.Second)) || got[0].Since.After(after.Add(time.Second)) {
		t.Fatalf("Since = %v, want between %v and %v", got[0].Since, before, after)
	}
}

func (s *sessionSuite) testInvisibleBeforeRefresh(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	a := backends.Session{Domain: dom, User: "u", Resource: "r", Node: node, Since: at(1)}
	register(t, r, a)
	wantUser(t, r, dom, "u")
	wantNode(t, r, node, a) // stored all the same
	if _, listed := nodeState(t, r, node); listed {
		t.Fatal("Nodes lists a node that never refreshed")
	}
	refresh(t, r, node)
	wantUser(t, r, dom, "u", a)
	if alive, listed := nodeState(t, r, node); !alive || !listed {
		t.Fatalf("after Refresh: Nodes gives alive %v listed %v", alive, listed)
	}
}

func (s *sessionSuite) testReplace(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	refresh(t, r, node)
	a := backends.Session{Domain: dom, User: "u", Resource: "r", Node: node, Priority: 1, Since: at(1)}
	register(t, r, a)
	a.Priority, a.Available = -5, true
	register(t, r, a)
	wantUser(t, r, dom, "u", a)
	wantNode(t, r, node, a)
}

func (s *sessionSuite) testMove(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, n1, n2 := domain(t), nodeName(t, "n1"), nodeName(t, "n2")
	refresh(t, r, n1)
	refresh(t, r, n2)
	a := backends.Session{Domain: dom, User: "u", Resource: "r", Node: n1, Since: at(1)}
	other := backends.Session{Domain: dom, User: "u", Resource: "s", Node: n1, Since: at(2)}
	register(t, r, a, other)
	moved := a
	moved.Node, moved.Since, moved.Available = n2, at(3), true
	register(t, r, moved)
	wantUser(t, r, dom, "u", moved, other)
	wantNode(t, r, n1, other)
	wantNode(t, r, n2, moved)
	// The old node's late logout of the moved resource leaves the new entry alone.
	unregister(t, r, a, n1)
	wantUser(t, r, dom, "u", moved, other)
	wantNode(t, r, n2, moved)
	// Purging the old node takes only what it still holds.
	if n, err := r.PurgeNode(t.Context(), n1); err != nil || n != 1 {
		t.Fatalf("PurgeNode(%q) = %d, %v; want 1", n1, n, err)
	}
	wantUser(t, r, dom, "u", moved)
}

func (s *sessionSuite) testUnregisterOwnership(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node, stranger := domain(t), nodeName(t, "n"), nodeName(t, "x")
	refresh(t, r, node)
	a := backends.Session{Domain: dom, User: "u", Resource: "r", Node: node, Since: at(1)}
	b := backends.Session{Domain: dom, User: "u", Resource: "r2", Node: node, Since: at(2)}
	register(t, r, a, b)
	unregister(t, r, a, stranger) // not the owner: nothing happens
	wantUser(t, r, dom, "u", a, b)
	unregister(t, r, a, node)
	wantUser(t, r, dom, "u", b)
	wantNode(t, r, node, b)
	unregister(t, r, a, node) // already gone: not an error
	unregister(t, r, backends.Session{Domain: domain(t), User: "nobody", Resource: "r"}, node)
	unregister(t, r, b, node)
	wantUser(t, r, dom, "u")
	wantNode(t, r, node)
}

func (s *sessionSuite) testNodeSessions(t *testing.T) {
	r := s.open(t, SessionsTTL)
	d1, d2, n1, n2 := domain(t), domain(t), nodeName(t, "n1"), nodeName(t, "n2")
	var want1, want2 []backends.Session
	for i, user := range []string{"b", "a", "c"} {
		for j, dom := range []string{d2, d1} {
			for k, res := range []string{"y", "x"} {
				node := n1
				if (i+j+k)%2 == 1 {
					node = n2
				}
				ss := backends.Session{Domain: dom, User: user, Resource: res, Node: node, Priority: i - j, Available: k == 0, Since: at(i*4 + j*2 + k)}
				register(t, r, ss)
				if node == n1 {
					want1 = append(want1, ss)
				} else {
					want2 = append(want2, ss)
				}
			}
		}
	}
	sortSessionList(want1)
	sortSessionList(want2)
	wantNode(t, r, n1, want1...) // listed although never refreshed
	wantNode(t, r, n2, want2...)
	wantNode(t, r, nodeName(t, "none"))
}

func sortSessionList(ss []backends.Session) {
	slices.SortFunc(ss, func(a, b backends.Session) int {
		if c := strings.Compare(a.Domain, b.Domain); c != 0 {
			return c
		}
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		return strings.Compare(a.Resource, b.Resource)
	})
}

func (s *sessionSuite) testEpochs(t *testing.T) {
	r := s.open(t, SessionsTTL)
	n1, n2 := nodeName(t, "n1"), nodeName(t, "n2")
	e1 := refresh(t, r, n1)
	if again := refresh(t, r, n1); again != e1 {
		t.Fatalf("epoch changed from %q to %q while the node stayed alive", e1, again)
	}
	if e2 := refresh(t, r, n2); e2 == e1 {
		t.Fatalf("two nodes share epoch %q", e1)
	}
	if _, err := r.PurgeNode(t.Context(), n1); err != nil {
		t.Fatal(err)
	}
	if e := refresh(t, r, n1); e == e1 {
		t.Fatalf("epoch %q survived PurgeNode", e)
	}
}

func (s *sessionSuite) testPurge(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, n1, n2 := domain(t), nodeName(t, "n1"), nodeName(t, "n2")
	refresh(t, r, n1)
	refresh(t, r, n2)
	var kept []backends.Session
	for i := range 50 {
		ss := backends.Session{Domain: dom, User: fmt.Sprintf("u%02d", i%7), Resource: fmt.Sprintf("r%02d", i), Node: n1, Since: at(i)}
		if i%5 == 0 {
			ss.Node = n2
			kept = append(kept, ss)
		}
		register(t, r, ss)
	}
	n, err := r.PurgeNode(t.Context(), n1)
	if err != nil || n != 40 {
		t.Fatalf("PurgeNode = %d, %v; want 40", n, err)
	}
	wantNode(t, r, n1)
	sortSessionList(kept)
	wantNode(t, r, n2, kept...)
	if _, listed := nodeState(t, r, n1); listed {
		t.Fatal("Nodes still lists the purged node")
	}
	var u01 []backends.Session
	for _, ss := range kept {
		if ss.User == "u01" {
			u01 = append(u01, ss)
		}
	}
	wantUser(t, r, dom, "u01", u01...) // what n2 holds of u01
	if n, err := r.PurgeNode(t.Context(), n1); err != nil || n != 0 {
		t.Fatalf("second PurgeNode = %d, %v; want 0", n, err)
	}
}

func (s *sessionSuite) testExpiry(t *testing.T) {
	r := s.open(t, ExpiryTTL)
	dom, dead, live := domain(t), nodeName(t, "dead"), nodeName(t, "live")
	deadEpoch := refresh(t, r, dead)
	refresh(t, r, live)
	a := backends.Session{Domain: dom, User: "u", Resource: "a", Node: dead, Available: true, Since: at(1)}
	b := backends.Session{Domain: dom, User: "u", Resource: "b", Node: live, Since: at(2)}
	register(t, r, a, b)
	wantUser(t, r, dom, "u", a, b)

	// Keep the live node's heartbeat going; the dead node's entries must vanish within
	// about TTL, the other's stay.
	deadline := time.Now().Add(ExpiryTTL*2 + 3*time.Second)
	for {
		refresh(t, r, live)
		got, err := r.UserSessions(t.Context(), dom, "u")
		if err != nil {
			t.Fatal(err)
		}
		if sameSessions(got, []backends.Session{b}) {
			break
		}
		if !sameSessions(got, []backends.Session{a, b}) {
			t.Fatalf("while expiring: UserSessions gave %s", describeSessions(got))
		}
		if time.Now().After(deadline) {
			t.Fatalf("entries of a node silent for %v still visible", time.Since(deadline.Add(-ExpiryTTL*2-3*time.Second)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if alive, listed := nodeState(t, r, dead); alive || !listed {
		t.Fatalf("expired node: alive %v listed %v, want dead and listed", alive, listed)
	}
	if alive, _ := nodeState(t, r, live); !alive {
		t.Fatal("refreshed node reported dead")
	}
	wantNode(t, r, dead, a) // what a survivor reads before purging it
	if e := refresh(t, r, dead); e == deadEpoch {
		t.Fatalf("epoch %q survived expiry", e)
	}
	wantUser(t, r, dom, "u", a, b) // entries come back with the heartbeat
}

func (s *sessionSuite) testInvalid(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	ok := backends.Session{Domain: dom, User: "u", Resource: "r", Node: node}
	long := strings.Repeat("x", backends.MaxPartLen+1)
	bad := map[string]func(*backends.Session){
		"empty domain":   func(s *backends.Session) { s.Domain = "" },
		"empty user":     func(s *backends.Session) { s.User = "" },
		"empty resource": func(s *backends.Session) { s.Resource = "" },
		"long resource":  func(s *backends.Session) { s.Resource = long },
		"long user":      func(s *backends.Session) { s.User = long },
		"empty node":     func(s *backends.Session) { s.Node = "" },
		"node with bar":  func(s *backends.Session) { s.Node = "a|b" },
		"node with NL":   func(s *backends.Session) { s.Node = "a\nb" },
		"long node":      func(s *backends.Session) { s.Node = strings.Repeat("n", backends.MaxNodeLen+1) },
		"priority 128":   func(s *backends.Session) { s.Priority = 128 },
		"priority -129":  func(s *backends.Session) { s.Priority = -129 },
	}
	for name, mutate := range bad {
		ss := ok
		mutate(&ss)
		wantErr(t, "Register with "+name, r.Register(t.Context(), ss), backends.ErrInvalid)
		if name != "priority 128" && name != "priority -129" {
			wantErr(t, "Unregister with "+name, r.Unregister(t.Context(), ss.Domain, ss.User, ss.Resource, ss.Node), backends.ErrInvalid)
		}
	}
	wantErr(t, "UserSessions of empty user", errorOf(r.UserSessions(t.Context(), dom, "")), backends.ErrInvalid)
	wantErr(t, "NodeSessions of bad node", errorOf(r.NodeSessions(t.Context(), "a|b")), backends.ErrInvalid)
	wantErr(t, "CountSessions of empty node", errorOf(r.CountSessions(t.Context(), "")), backends.ErrInvalid)
	wantErr(t, "Refresh of empty node", errorOf(r.Refresh(t.Context(), "")), backends.ErrInvalid)
	wantErr(t, "PurgeNode of bad node", errorOf(r.PurgeNode(t.Context(), "x\x00")), backends.ErrInvalid)
	refresh(t, r, node)
	wantUser(t, r, dom, "u") // nothing was written
}

func (s *sessionSuite) testOpaque(t *testing.T) {
	r := s.open(t, SessionsTTL)
	node := "node with spaces, : and ünïcode " + nodeName(t, "@")
	refresh(t, r, node)
	dom := domain(t)
	odd := []string{":", "a:b", "|", "a|b|1|2", "\x00", "x\x00y", "@", "é", "1:a", "0:", strings.Repeat("z", backends.MaxPartLen)}
	var all []backends.Session
	for i, user := range odd {
		for j, res := range odd {
			if (i+j)%3 != 0 {
				continue
			}
			ss := backends.Session{Domain: dom, User: user, Resource: res, Node: node, Priority: i - j, Available: j%2 == 0, Since: at(i + j)}
			register(t, r, ss)
			all = append(all, ss)
		}
	}
	// A domain and user that concatenate to the same bytes as another pair stay apart.
	d2 := dom + ":1"
	x := backends.Session{Domain: d2, User: "a", Resource: "r", Node: node, Since: at(90)}
	y := backends.Session{Domain: d2 + "a", User: "r", Resource: "r", Node: node, Since: at(91)}
	register(t, r, x, y)
	all = append(all, x, y)
	for _, user := range odd {
		var want []backends.Session
		for _, ss := range all {
			if ss.Domain == dom && ss.User == user {
				want = append(want, ss)
			}
		}
		sortSessionList(want)
		wantUser(t, r, dom, user, want...)
	}
	wantUser(t, r, d2, "a", x)
	wantUser(t, r, d2+"a", "r", y)
	sortSessionList(all)
	wantNode(t, r, node, all...)
}

func (s *sessionSuite) testWriteOrder(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	refresh(t, r, node)
	// Writes to one user made in sequence land in that order, however they are batched.
	for i := range 30 {
		ss := backends.Session{Domain: dom, User: "u", Resource: "r", Node: node, Priority: i, Since: at(i)}
		register(t, r, ss)
		if i%2 == 1 {
			unregister(t, r, ss, node)
			wantUser(t, r, dom, "u")
		} else {
			wantUser(t, r, dom, "u", ss)
		}
	}
}

func (s *sessionSuite) testConcurrent(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	refresh(t, r, node)
	const n = 200
	mk := func(i int) backends.Session {
		return backends.Session{Domain: dom, User: fmt.Sprintf("u%d", i%10), Resource: fmt.Sprintf("r%03d", i), Node: node, Priority: i % 100, Since: at(i)}
	}
	for i, err := range parallel(n, func(i int) error { return r.Register(t.Context(), mk(i)) }) {
		if err != nil {
			t.Fatalf("Register #%d: %v", i, err)
		}
	}
	var want []backends.Session
	for i := range n {
		want = append(want, mk(i))
	}
	sortSessionList(want)
	wantNode(t, r, node, want...)
	for i, err := range parallel(n, func(i int) error {
		ss := mk(i)
		if i%2 == 0 {
			return r.Unregister(t.Context(), ss.Domain, ss.User, ss.Resource, node)
		}
		ss.Available = true
		return r.Register(t.Context(), ss)
	}) {
		if err != nil {
			t.Fatalf("write #%d: %v", i, err)
		}
	}
	want = want[:0]
	for i := 1; i < n; i += 2 {
		ss := mk(i)
		ss.Available = true
		want = append(want, ss)
	}
	sortSessionList(want)
	wantNode(t, r, node, want...)
	var u3 []backends.Session
	for _, ss := range want {
		if ss.User == "u3" {
			u3 = append(u3, ss)
		}
	}
	wantUser(t, r, dom, "u3", u3...)
}

func (s *sessionSuite) testNoShared(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	refresh(t, r, node)
	buf := []byte("resource")
	ss := backends.Session{Domain: dom, User: "u", Resource: string(buf), Node: node, Since: at(1)}
	register(t, r, ss)
	got, err := r.UserSessions(t.Context(), dom, "u")
	if err != nil || len(got) != 1 {
		t.Fatalf("UserSessions = %v, %v", got, err)
	}
	got[0].Resource, got[0].Priority = "changed", 99
	wantUser(t, r, dom, "u", ss)
	gotN, err := r.NodeSessions(t.Context(), node)
	if err != nil || len(gotN) != 1 {
		t.Fatalf("NodeSessions = %v, %v", gotN, err)
	}
	gotN[0].Node = "changed"
	wantNode(t, r, node, ss)
}

func (s *sessionSuite) testCancelled(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range everySessionsMethod(ctx, r, dom, node) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	refresh(t, r, node)
	wantUser(t, r, dom, "u")
}

// everySessionsMethod calls each method once with ctx and returns their errors by name.
func everySessionsMethod(ctx context.Context, r backends.Sessions, dom, node string) map[string]error {
	ss := backends.Session{Domain: dom, User: "u", Resource: "r", Node: node, Since: at(1)}
	return map[string]error{
		"Register":      r.Register(ctx, ss),
		"Unregister":    r.Unregister(ctx, dom, "u", "r", node),
		"UserSessions":  errorOf(r.UserSessions(ctx, dom, "u")),
		"NodeSessions":  errorOf(r.NodeSessions(ctx, node)),
		"CountSessions": errorOf(r.CountSessions(ctx, node)),
		"Refresh":       errorOf(r.Refresh(ctx, node)),
		"Nodes":         errorOf(r.Nodes(ctx)),
		"PurgeNode":     errorOf(r.PurgeNode(ctx, node)),
	}
}

func (s *sessionSuite) testClose(t *testing.T) {
	r := s.open(t, SessionsTTL)
	dom, node := domain(t), nodeName(t, "n")
	register(t, r, backends.Session{Domain: dom, User: "u", Resource: "r", Node: node})
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, err := range everySessionsMethod(t.Context(), r, dom, node) {
		if !errors.Is(err, backends.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}
