package compose

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/backendtest"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/backends/memory"
)

const dom, user = "example.com", "alice"

// kindCase writes one record of a kind through a store and tells whether a store
// holds it.
type kindCase struct {
	kind  string
	set   func(p *Parts, e backends.Store)
	write func(ctx context.Context, s backends.Store) error
	has   func(ctx context.Context, s backends.Store) (bool, error)
}

func notFound(err error) (bool, error) {
	if errors.Is(err, backends.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

var kindCases = []kindCase{
	{KindAccounts, func(p *Parts, e backends.Store) { p.Accounts = e },
		func(ctx context.Context, s backends.Store) error {
			return s.CreateAccount(ctx, backends.Account{Domain: dom, User: user, Created: time.Unix(1, 0)})
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			_, err := s.Account(ctx, dom, user)
			return notFound(err)
		}},
	{KindRosters, func(p *Parts, e backends.Store) { p.Rosters = e },
		func(ctx context.Context, s backends.Store) error {
			_, err := s.(backends.Rosters).PutRosterItem(ctx, dom, user, backends.RosterItem{Contact: "bob@example.com"})
			return err
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			_, err := s.(backends.Rosters).RosterItem(ctx, dom, user, "bob@example.com")
			return notFound(err)
		}},
	{KindOffline, func(p *Parts, e backends.Store) { p.Offline = e },
		func(ctx context.Context, s backends.Store) error {
			_, err := s.(backends.Offline).AppendOffline(ctx, []backends.OfflineMessage{{Domain: dom, User: user, Raw: []byte("<message/>")}}, 0)
			return err
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			n, err := s.(backends.Offline).CountOffline(ctx, dom, user)
			return n == 1, err
		}},
	{KindVCard, func(p *Parts, e backends.Store) { p.VCard = e },
		func(ctx context.Context, s backends.Store) error {
			return s.(backends.VCards).SetVCard(ctx, dom, user, []byte("<vCard xmlns='vcard-temp'/>"))
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			_, err := s.(backends.VCards).VCard(ctx, dom, user)
			return notFound(err)
		}},
	{KindPrivate, func(p *Parts, e backends.Store) { p.Private = e },
		func(ctx context.Context, s backends.Store) error {
			return s.(backends.PrivateXML).SetPrivateXML(ctx, dom, user, []backends.PrivateItem{{Namespace: "a:b", XML: []byte("<x xmlns='a:b'/>")}})
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			_, err := s.(backends.PrivateXML).PrivateXML(ctx, dom, user, "a:b")
			return notFound(err)
		}},
	{KindPrivacy, func(p *Parts, e backends.Store) { p.Privacy = e },
		func(ctx context.Context, s backends.Store) error {
			_, err := s.(backends.Privacy).UpdatePrivacy(ctx, dom, user, func(ps *backends.PrivacySettings) error {
				ps.Put(backends.PrivacyList{Name: "l", Items: []backends.PrivacyItem{{Deny: true, Order: 1}}})
				return nil
			})
			return err
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			ps, err := s.(backends.Privacy).PrivacySettings(ctx, dom, user)
			return len(ps.Lists) == 1, err
		}},
	{KindLast, func(p *Parts, e backends.Store) { p.Last = e },
		func(ctx context.Context, s backends.Store) error {
			return s.(backends.LastActivity).SetLastLogout(ctx, dom, user, backends.LastLogout{At: time.Unix(5, 0), Status: "gone"})
		},
		func(ctx context.Context, s backends.Store) (bool, error) {
			_, err := s.(backends.LastActivity).LastLogout(ctx, dom, user)
			return notFound(err)
		}},
}

func allParts(e backends.Store) Parts {
	return Parts{Accounts: e, Rosters: e, Offline: e, VCard: e, Private: e, Privacy: e, Last: e}
}

// Each kind's calls reach the engine chosen for it, and only that one.
func TestDelegation(t *testing.T) {
	for _, tc := range kindCases {
		t.Run(tc.kind, func(t *testing.T) {
			ctx := t.Context()
			base, special := memory.New(), memory.New()
			p := allParts(base)
			tc.set(&p, special)
			s, err := New(p)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := tc.write(ctx, s); err != nil {
				t.Fatalf("write through the composite: %v", err)
			}
			for _, c := range kindCases {
				inSpecial, err := c.has(ctx, special)
				if err != nil {
					t.Fatalf("%s in the chosen engine: %v", c.kind, err)
				}
				inBase, err := c.has(ctx, base)
				if err != nil {
					t.Fatalf("%s in the default engine: %v", c.kind, err)
				}
				if want := c.kind == tc.kind; inSpecial != want || inBase {
					t.Errorf("%s: in chosen engine %v (want %v), in default engine %v (want false)", c.kind, inSpecial, want, inBase)
				}
				viaComposite, err := c.has(ctx, s)
				if err != nil {
					t.Fatalf("%s through the composite: %v", c.kind, err)
				}
				if viaComposite != (c.kind == tc.kind) {
					t.Errorf("%s through the composite: %v", c.kind, viaComposite)
				}
			}
		})
	}
}

// countingStore counts Close calls.
type countingStore struct {
	*memory.Store
	closes int
}

func (c *countingStore) Close() error {
	c.closes++
	return c.Store.Close()
}

// onlyAccounts is an engine that keeps accounts and nothing else.
type onlyAccounts struct{ backends.Store }

func TestCloseEachOnce(t *testing.T) {
	a, b := &countingStore{Store: memory.New()}, &countingStore{Store: memory.New()}
	p := allParts(a)
	p.Offline, p.Last = b, b
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Engines()); got != 2 {
		t.Errorf("Engines() has %d engines, want 2", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if a.closes != 1 || b.closes != 1 {
		t.Errorf("closes: %d and %d, want 1 and 1", a.closes, b.closes)
	}
	err = s.CreateAccount(t.Context(), backends.Account{Domain: dom, User: user})
	if !errors.Is(err, backends.ErrClosed) {
		t.Errorf("CreateAccount after Close: %v, want ErrClosed", err)
	}
}

func TestNewRefusesMissingOrUnfitParts(t *testing.T) {
	m := memory.New()
	missing := allParts(m)
	missing.VCard = nil
	unfit := allParts(m)
	unfit.Rosters = onlyAccounts{m}
	for name, tt := range map[string]struct {
		p    Parts
		want string
	}{
		"missing": {missing, "no engine for vcard"},
		"unfit":   {unfit, "chosen for rosters"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// The conformance suite over a composite: accounts, rosters and privacy in the
// embedded store, the rest in memory.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backends.Store {
		e, err := embedded.Open(t.TempDir(), embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := memory.New()
		s, err := New(Parts{Accounts: e, Rosters: e, Privacy: e, Offline: m, VCard: m, Private: m, Last: m})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// The session registry is reachable by assertion only when there is one, and closes
// with the store.
func TestSessions(t *testing.T) {
	m := memory.New()
	plain, err := New(allParts(m))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.Backend().(backends.Sessions); ok {
		t.Error("a store without a registry implements backends.Sessions")
	}
	reg := memory.NewSessions(time.Minute)
	p := allParts(m)
	p.Sessions = reg
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	b := s.Backend()
	got, ok := b.(backends.Sessions)
	if !ok {
		t.Fatal("Backend() does not implement backends.Sessions")
	}
	if _, ok := b.(backends.Rosters); !ok {
		t.Error("Backend() lost backends.Rosters")
	}
	ctx := t.Context()
	if _, err := got.Refresh(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := got.Register(ctx, backends.Session{Domain: dom, User: user, Resource: "r", Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := reg.CountSessions(ctx, "n1"); err != nil || n != 1 {
		t.Errorf("registry holds %d sessions (%v), want 1", n, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CountSessions(ctx, "n1"); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("registry after Close: %v, want ErrClosed", err)
	}
	if _, err := m.Account(ctx, dom, user); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("engine after Close: %v, want ErrClosed", err)
	}
}

// lister is a memory store that can list private XML namespaces.
type lister struct{ *memory.Store }

func (lister) PrivateNamespaces(context.Context, string, string) ([]string, error) {
	return []string{"a:b"}, nil
}

func TestPrivateNamespaces(t *testing.T) {
	m := memory.New()
	plain, err := New(allParts(m))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.PrivateNamespaces(t.Context(), dom, user); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("PrivateNamespaces over memory: %v, want ErrUnsupported", err)
	}
	p := allParts(m)
	p.Private = lister{m}
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.PrivateNamespaces(t.Context(), dom, user); err != nil || len(got) != 1 || got[0] != "a:b" {
		t.Errorf("PrivateNamespaces over a lister: %q, %v", got, err)
	}
}

// raiser is a memory store that records roster version raises.
type raiser struct {
	*memory.Store
	above uint64
}

func (r *raiser) RaiseRosterVersions(_ context.Context, above uint64) error {
	r.above = above
	return nil
}

func TestRaiseRosterVersions(t *testing.T) {
	m := memory.New()
	plain, err := New(allParts(m))
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.RaiseRosterVersions(t.Context(), 7); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("RaiseRosterVersions over memory: %v, want ErrUnsupported", err)
	}
	r := &raiser{Store: m}
	p := allParts(m)
	p.Rosters = r
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RaiseRosterVersions(t.Context(), 7); err != nil || r.above != 7 {
		t.Errorf("RaiseRosterVersions over a raiser: %v, raised above %d", err, r.above)
	}
}
