package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/compose"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/backends/mysql"
	"github.com/hermod-im/hermod/internal/mariadbtest"
)

var testDomains = []string{"b.example", "a.example"} // not sorted: the header's order is kept

// fill writes a varied data set into st and returns the number of accounts.
func fill(t *testing.T, st backends.Store) int {
	t.Helper()
	ctx := t.Context()
	src := st.(source)
	keys := func(size int, seed byte) *backends.ScramKeys {
		b := func(n int, x byte) []byte {
			out := make([]byte, n)
			for i := range out {
				out[i] = x + byte(i)*7
			}
			return out
		}
		return &backends.ScramKeys{Salt: b(16, seed), Iterations: 4096 + int(seed), StoredKey: b(size, seed+1), ServerKey: b(size, seed+2)}
	}
	n := 0
	for di, d := range testDomains {
		for i := range 7 {
			u := fmt.Sprintf("user%02d", i)
			seed := byte(di*16 + i)
			creds := backends.Credentials{SHA256: keys(32, seed)}
			if i%2 == 0 {
				creds.SHA1, creds.SHA512 = keys(20, seed+3), keys(64, seed+5)
			}
			if i == 6 {
				creds = backends.Credentials{} // an account without SCRAM keys
			}
			if err := src.CreateAccount(ctx, backends.Account{Domain: d, User: u, Credentials: creds, Created: time.Unix(1_700_000_000+int64(n), 0)}); err != nil {
				t.Fatal(err)
			}
			n++
			if i%3 != 2 {
				for c := range i + 1 {
					it := backends.RosterItem{Contact: fmt.Sprintf("c%d@%s", c, d), Subscription: backends.Subscription(c % 4), Ask: c%2 == 1, Approved: c == 2}
					if c%2 == 0 {
						it.Name, it.Groups = fmt.Sprintf("Contact «%d»", c), []string{"Friends", "Work & <stuff>"}
					}
					if _, err := src.PutRosterItem(ctx, d, u, it); err != nil {
						t.Fatal(err)
					}
				}
				// Churn, so that the source's versions run ahead of a fresh store's.
				for range 20 {
					if _, err := src.PutRosterItem(ctx, d, u, backends.RosterItem{Contact: "gone@" + d}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := src.DeleteRosterItem(ctx, d, u, "gone@"+d); err != nil {
					t.Fatal(err)
				}
			}
			if i%2 == 1 {
				for _, c := range []string{"z@x.example", "a@x.example"} {
					p := backends.PendingIn{Contact: c, Stanza: []byte(`<presence type="subscribe" from="` + c + `"/>`)}
					if err := src.PutPendingIn(ctx, d, u, p); err != nil {
						t.Fatal(err)
					}
				}
			}
			msgs := i * 3
			if i == 5 {
				msgs = OfflineChunk*2 + 17 // three lines
			}
			var batch []backends.OfflineMessage
			for m := range msgs {
				batch = append(batch, backends.OfflineMessage{Domain: d, User: u, Stamp: time.UnixMilli(1_700_000_000_123 + int64(m)), Raw: fmt.Appendf(nil, "<message id='%d'>\xff</message>", m)})
			}
			if len(batch) > 0 {
				if _, err := src.AppendOffline(ctx, batch, 0); err != nil {
					t.Fatal(err)
				}
				if i == 4 { // delivered once: the queue's Seq no longer starts at 1
					if _, err := src.DeleteOffline(ctx, d, u, 2); err != nil {
						t.Fatal(err)
					}
				}
			}
			if i%2 == 0 {
				if err := src.SetVCard(ctx, d, u, fmt.Appendf(nil, "<vCard xmlns='vcard-temp'><FN>%s \xc3\x28</FN></vCard>", u)); err != nil {
					t.Fatal(err)
				}
			}
			if i%3 == 0 {
				items := []backends.PrivateItem{{Namespace: "storage:bookmarks", XML: []byte("<storage xmlns='storage:bookmarks'/>")}}
				if i > 0 {
					items = append(items, backends.PrivateItem{Namespace: "roster:delimiter", XML: []byte("<roster xmlns='roster:delimiter'>::</roster>")})
				}
				if err := src.SetPrivateXML(ctx, d, u, items); err != nil {
					t.Fatal(err)
				}
			}
			if i%2 == 1 {
				_, err := src.UpdatePrivacy(ctx, d, u, func(s *backends.PrivacySettings) error {
					s.Put(backends.PrivacyList{Name: "block", Items: []backends.PrivacyItem{{Type: backends.PrivacyJID, Value: "spam@x.example", Deny: true, Order: 1}}})
					s.Put(backends.PrivacyList{Name: "work", Items: []backends.PrivacyItem{
						{Type: backends.PrivacyGroup, Value: "Work & <stuff>", Order: 5, Stanzas: backends.PrivacyMessage | backends.PrivacyIQ},
						{Type: backends.PrivacySubscription, Value: "none", Deny: true, Order: 10, Stanzas: backends.PrivacyPresenceIn},
						{Deny: true, Order: 20},
					}})
					if i == 3 {
						s.Default = "block"
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if i != 0 {
				if err := src.SetLastLogout(ctx, d, u, backends.LastLogout{At: time.Unix(1_700_100_000+int64(i), 0), Status: strings.Repeat("bye ", i)}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return n
}

// dump is everything a store keeps for the accounts of testDomains, in comparable
// form, without store-assigned numbers (roster versions, offline Seq).
type dump map[string]*userDump

type userDump struct {
	Account backends.Account
	Created int64
	Roster  []backends.RosterItem
	Pending []backends.PendingIn
	Offline []string // stamp in ms and stanza
	VCard   []byte
	Private map[string][]byte
	Privacy backends.PrivacySettings
	Last    string
}

func dumpStore(t *testing.T, st backends.Store, namespaces []string) dump {
	t.Helper()
	ctx := t.Context()
	src := st.(source)
	out := dump{}
	for _, d := range testDomains {
		users, err := src.ListAccounts(ctx, d, "", 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			ud := &userDump{Private: map[string][]byte{}}
			a, err := src.Account(ctx, d, u)
			if err != nil {
				t.Fatal(err)
			}
			ud.Created, a.Created = a.Created.Unix(), time.Time{}
			ud.Account = a
			if ud.Roster, _, err = src.Roster(ctx, d, u); err != nil {
				t.Fatal(err)
			}
			if ud.Pending, err = src.PendingIns(ctx, d, u); err != nil {
				t.Fatal(err)
			}
			if len(ud.Roster) == 0 {
				ud.Roster = nil // stores differ in nil or empty
			}
			if len(ud.Pending) == 0 {
				ud.Pending = nil
			}
			msgs, err := src.OfflineMessages(ctx, d, u, 100_000)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				ud.Offline = append(ud.Offline, fmt.Sprintf("%d %q", m.Stamp.UnixMilli(), m.Raw))
			}
			ud.VCard, _ = src.VCard(ctx, d, u)
			for _, ns := range namespaces {
				if x, err := src.PrivateXML(ctx, d, u, ns); err == nil {
					ud.Private[ns] = x
				}
			}
			if ud.Privacy, err = src.PrivacySettings(ctx, d, u); err != nil {
				t.Fatal(err)
			}
			if l, err := src.LastLogout(ctx, d, u); err == nil {
				ud.Last = fmt.Sprintf("%d %q", l.At.Unix(), l.Status)
			}
			out[u+"@"+d] = ud
		}
	}
	return out
}

func openEmbedded(t testing.TB) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func export(t *testing.T, st backends.Store, opts ExportOptions) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Export(t.Context(), st, testDomains, &buf, opts)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes(), sum
}

// memory → file → embedded: everything arrives; a second export of the imported
// store, imported again and exported, is the same bytes.
func TestRoundTrip(t *testing.T) {
	src := memory.New()
	defer src.Close()
	accounts := fill(t, src)
	f1, sum1 := export(t, src, ExportOptions{PageSize: 3})
	if sum1.Accounts != accounts {
		t.Errorf("exported %d accounts, want %d", sum1.Accounts, accounts)
	}
	want := Summary{Accounts: 14, Rosters: 12, RosterItems: 2 * (1 + 2 + 4 + 5 + 7), PendingIn: 12,
		OfflineMessages: 2 * (3 + 6 + 9 - 2 + 12 + 1017 + 18), VCards: 8, PrivateItems: 2 * (1 + 2 + 2), PrivacyUsers: 6, PrivacyLists: 12, LastLogouts: 12}
	if !sum1.sameCounts(want) {
		t.Errorf("export summary\n got %+v\nwant %+v", sum1, want)
	}

	dst := openEmbedded(t)
	importAndCompare(t, src, dst, f1, sum1, ImportOptions{BatchSize: 4})

	f2, _ := export(t, dst, ExportOptions{})
	if equalIgnoringVersions(t, f1, f2) != nil {
		t.Errorf("second export differs from the first beyond roster versions: %v", equalIgnoringVersions(t, f1, f2))
	}
	// One worker at a time, an import is deterministic: two stores imported from the
	// same file export the same bytes, versions included.
	var exports [2][]byte
	for i := range exports {
		st := openEmbedded(t)
		if _, err := Import(t.Context(), st, bytes.NewReader(f2), ImportOptions{Workers: 1}); err != nil {
			t.Fatal(err)
		}
		exports[i], _ = export(t, st, ExportOptions{})
	}
	if !bytes.Equal(exports[0], exports[1]) {
		t.Errorf("exports of two stores imported one worker at a time differ (%d and %d bytes)", len(exports[0]), len(exports[1]))
	}
}

// importAndCompare imports file (exported from src with counts sum) into dst, a store
// that raises its roster versions, and fails t unless dst then holds what src holds.
func importAndCompare(t *testing.T, src, dst backends.Store, file []byte, sum Summary, opts ImportOptions) {
	t.Helper()
	got, err := Import(t.Context(), dst, bytes.NewReader(file), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if !got.sameCounts(sum) {
		t.Errorf("import summary %+v, export %+v", got, sum)
	}
	// Every source roster with items was churned ahead of a fresh store's versions;
	// the destination raises its sequence above them.
	if got.RostersVersionBehind != 0 {
		t.Errorf("RostersVersionBehind = %d, want 0", got.RostersVersionBehind)
	}
	wantVersionsAbove(t, dst, file)
	ns := DefaultPrivateNamespaces()
	if gotData, want := dumpStore(t, dst, ns), dumpStore(t, src, ns); !reflect.DeepEqual(gotData, want) {
		for k := range want {
			if !reflect.DeepEqual(gotData[k], want[k]) {
				t.Errorf("%s:\n got %.600v\nwant %.600v", k, fmt.Sprint(gotData[k]), fmt.Sprint(want[k]))
			}
		}
		t.Fatalf("imported store (%T) differs: %d accounts, want %d", dst, len(gotData), len(want))
	}
}

// wantVersionsAbove fails t unless every roster of file with items has, in st, a
// version above the one it had in the file.
func wantVersionsAbove(t *testing.T, st backends.Store, file []byte) {
	t.Helper()
	for _, l := range decodeLines(t, file) {
		if l.Roster == nil || len(l.Roster.Items) == 0 {
			continue
		}
		now, err := st.(backends.Rosters).RosterVersion(t.Context(), l.Domain, l.User)
		if err != nil || now <= l.Roster.Version {
			t.Errorf("%s@%s: version %d (%v), had %d", l.User, l.Domain, now, err, l.Roster.Version)
		}
	}
}

// A destination that cannot raise its versions (memory) has the rosters left behind
// their exported versions counted.
func TestRosterVersionsBehind(t *testing.T) {
	src := memory.New()
	defer src.Close()
	fill(t, src)
	f, _ := export(t, src, ExportOptions{})
	sum, err := Import(t.Context(), memory.New(), bytes.NewReader(f), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every source roster with items was churned ahead of a fresh store's versions;
	// the two with only pending requests have no version in the destination.
	if sum.RostersVersionBehind != 10 {
		t.Errorf("RostersVersionBehind = %d, want 10", sum.RostersVersionBehind)
	}
}

// equalIgnoringVersions decodes two exports and compares them line by line with the
// roster versions zeroed.
func equalIgnoringVersions(t *testing.T, a, b []byte) error {
	t.Helper()
	la, lb := decodeLines(t, a), decodeLines(t, b)
	if len(la) != len(lb) {
		return fmt.Errorf("%d lines and %d lines", len(la), len(lb))
	}
	for i := range la {
		if la[i].Roster != nil && lb[i].Roster != nil {
			la[i].Roster.Version, lb[i].Roster.Version = 0, 0
		}
		if !reflect.DeepEqual(la[i], lb[i]) {
			a, _ := json.Marshal(la[i])
			b, _ := json.Marshal(lb[i])
			return fmt.Errorf("line %d: %.300s and %.300s", i+2, a, b)
		}
	}
	return nil
}

// privateLister adds PrivateNamespaceLister to a memory store that knows which
// namespaces it was given.
type privateLister struct {
	*memory.Store
	namespaces []string
}

func (p *privateLister) PrivateNamespaces(context.Context, string, string) ([]string, error) {
	return p.namespaces, nil
}

func TestPrivateNamespaces(t *testing.T) {
	ctx := t.Context()
	m := memory.New()
	defer m.Close()
	if err := m.CreateAccount(ctx, backends.Account{Domain: testDomains[0], User: "u"}); err != nil {
		t.Fatal(err)
	}
	items := []backends.PrivateItem{
		{Namespace: "storage:bookmarks", XML: []byte("<storage xmlns='storage:bookmarks'/>")},
		{Namespace: "urn:example:custom", XML: []byte("<c xmlns='urn:example:custom'/>")},
	}
	if err := m.SetPrivateXML(ctx, testDomains[0], "u", items); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		st   backends.Store
		opts ExportOptions
		want int
	}{
		{"defaults probed", m, ExportOptions{}, 1},
		{"extra namespace named", m, ExportOptions{PrivateNamespaces: []string{"urn:example:custom", "storage:bookmarks"}}, 2},
		{"store lists them", &privateLister{m, []string{"storage:bookmarks", "urn:example:custom"}}, ExportOptions{}, 2},
		{"composite over a lister", composite(t, &privateLister{m, []string{"storage:bookmarks", "urn:example:custom"}}), ExportOptions{}, 2},
		{"composite over a store that cannot list", composite(t, m), ExportOptions{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sum := export(t, tt.st, tt.opts)
			if sum.PrivateItems != tt.want {
				t.Errorf("exported %d private items, want %d", sum.PrivateItems, tt.want)
			}
		})
	}
}

// composite puts every kind of data in e.
func composite(t *testing.T, e backends.Store) backends.Store {
	t.Helper()
	c, err := compose.New(compose.Parts{Accounts: e, Rosters: e, Offline: e, VCard: e, Private: e, Privacy: e, Last: e})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// failingLister cannot list namespaces for a reason other than not knowing how.
type failingLister struct{ *memory.Store }

func (failingLister) PrivateNamespaces(context.Context, string, string) ([]string, error) {
	return nil, backends.ErrUnavailable
}

func TestPrivateNamespacesFailure(t *testing.T) {
	m := memory.New()
	defer m.Close()
	if err := m.CreateAccount(t.Context(), backends.Account{Domain: testDomains[0], User: "u"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, err := Export(t.Context(), failingLister{m}, testDomains, &buf, ExportOptions{})
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Export over a failing lister: %v, want ErrUnavailable", err)
	}
}

func TestImportRefusesNonEmptyDestination(t *testing.T) {
	src := memory.New()
	defer src.Close()
	fill(t, src)
	f, _ := export(t, src, ExportOptions{})
	dst := memory.New()
	defer dst.Close()
	if err := dst.CreateAccount(t.Context(), backends.Account{Domain: "a.example", User: "x"}); err != nil {
		t.Fatal(err)
	}
	_, err := Import(t.Context(), dst, bytes.NewReader(f), ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "already has 1 accounts in a.example") {
		t.Fatalf("Import into a non-empty store: %v", err)
	}
	if n, _ := dst.CountOffline(t.Context(), "a.example", "user05"); n != 0 {
		t.Errorf("%d offline messages written before refusing", n)
	}
}

func TestImportCancelled(t *testing.T) {
	src := memory.New()
	defer src.Close()
	fill(t, src)
	f, _ := export(t, src, ExportOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Import(ctx, memory.New(), bytes.NewReader(f), ImportOptions{}); err == nil {
		t.Fatal("Import with a cancelled context succeeded")
	}
}

func TestExportNeedsEveryKind(t *testing.T) {
	var buf bytes.Buffer
	_, err := Export(t.Context(), accountsOnly{memory.New()}, testDomains, &buf, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "lacks some kinds") {
		t.Fatalf("Export of an accounts-only store: %v", err)
	}
}

// accountsOnly hides every interface of a store but backends.Store.
type accountsOnly struct{ backends.Store }

// memory → file → MariaDB: everything the embedded store takes, MySQL takes too.
func TestRoundTripMySQL(t *testing.T) {
	dsn := mariadbtest.Fresh(t, "hermod_t_transfer_pkg")
	st, err := mysql.Open(t.Context(), mysql.Options{DSN: dsn, Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := memory.New()
	defer src.Close()
	fill(t, src)
	f1, sum1 := export(t, src, ExportOptions{})
	importAndCompare(t, src, st, f1, sum1, ImportOptions{})
	f2, _ := export(t, st, ExportOptions{})
	if err := equalIgnoringVersions(t, f1, f2); err != nil {
		t.Errorf("export of MariaDB differs from the source's beyond roster versions: %v", err)
	}
}

// raisingStore moves a memory store's version sequence forward the only way it can
// be from outside: by writing a scratch roster until its version exceeds above.
type raisingStore struct {
	*memory.Store
	calls int
}

func (r *raisingStore) RaiseRosterVersions(ctx context.Context, above uint64) error {
	r.calls++
	for {
		v, err := r.PutRosterItem(ctx, "raise.invalid", "scratch", backends.RosterItem{Contact: "x@raise.invalid"})
		if err != nil {
			return err
		}
		if v > above {
			return r.DeleteRoster(ctx, "raise.invalid", "scratch")
		}
	}
}

// With a destination that can raise its versions, every imported roster gets a
// version above the one it had, directly or through a composite.
func TestRosterVersionsRaised(t *testing.T) {
	src := memory.New()
	defer src.Close()
	fill(t, src)
	f, sum := export(t, src, ExportOptions{})
	old := map[string]uint64{}
	for _, l := range decodeLines(t, f) {
		if l.Roster != nil && len(l.Roster.Items) > 0 {
			old[l.User+"@"+l.Domain] = l.Roster.Version
		}
	}
	for _, viaComposite := range []bool{false, true} {
		t.Run(fmt.Sprintf("composite=%v", viaComposite), func(t *testing.T) {
			dst := &raisingStore{Store: memory.New()}
			var st backends.Store = dst
			if viaComposite {
				st = composite(t, dst)
			}
			got, err := Import(t.Context(), st, bytes.NewReader(f), ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.RostersVersionBehind != 0 {
				t.Errorf("RostersVersionBehind = %d, want 0", got.RostersVersionBehind)
			}
			if dst.calls == 0 || dst.calls > sum.Rosters {
				t.Errorf("%d raises for %d rosters", dst.calls, sum.Rosters)
			}
			for k, was := range old {
				u, d, _ := strings.Cut(k, "@")
				now, err := dst.RosterVersion(t.Context(), d, u)
				if err != nil || now <= was {
					t.Errorf("%s: version %d (%v), had %d", k, now, err, was)
				}
			}
		})
	}
}
