package rosters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/admin"
)

// onlyReader hides every method but Read, as a pipe would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

const doc = `owner_jid,contact_jid,subscription,name,groups
alice@example.com,bob@example.com,both
Alice@Example.COM,carol@example.net,to,"Carol, the one from work",Friends;Work
alice@example.com,dave@example.com,from,,
bob@example.com,alice@example.com,both,Alice
alice@example.com,bob@example.com,none,Bobby,Later
bob@example.com,example.org,none
`

func roster(t *testing.T, r backends.Rosters, domain, user string) ([]backends.RosterItem, uint64) {
	t.Helper()
	items, ver, err := r.Roster(context.Background(), domain, user)
	if err != nil {
		t.Fatal(err)
	}
	return items, ver
}

func describe(items []backends.RosterItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%s sub=%s name=%q groups=%q ask=%v approved=%v\n", it.Contact, it.Subscription, it.Name, it.Groups, it.Ask, it.Approved)
	}
	return b.String()
}

const wantAlice = `bob@example.com sub=none name="Bobby" groups=["Later"] ask=false approved=false
carol@example.net sub=to name="Carol, the one from work" groups=["Friends" "Work"] ask=false approved=false
dave@example.com sub=from name="" groups=[] ask=false approved=false
`
const wantBob = `alice@example.com sub=both name="Alice" groups=[] ask=false approved=false
example.org sub=none name="" groups=[] ask=false approved=false
`

// Both ways of writing (batches on the embedded store, single writes on the memory
// store) give the same rosters, and the same versions as single writes in document
// order would.
func TestImport(t *testing.T) {
	emb, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	mem := memory.New()
	defer mem.Close()
	for _, tc := range []struct {
		name  string
		store backends.Rosters
		bulk  bool
		in    io.Reader
	}{
		{"embedded", emb, true, strings.NewReader(doc)},
		{"memory from a pipe", mem, false, onlyReader{strings.NewReader(doc)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var progress []int
			res, err := Import(t.Context(), tc.in, Options{Store: tc.store, BatchSize: 2, Workers: 3,
				Progress: func(done, total int) { progress = append(progress, done, total) }})
			if err != nil {
				t.Fatal(err)
			}
			if res != (Result{Items: 6, Rosters: 2, Bulk: tc.bulk}) {
				t.Errorf("result = %+v", res)
			}
			if !slices.Equal(progress, []int{2, 6, 4, 6, 6, 6}) {
				t.Errorf("progress calls = %v", progress)
			}
			items, ver := roster(t, tc.store, "example.com", "alice")
			if got := describe(items); got != wantAlice {
				t.Errorf("alice's roster:\n%s\nwant\n%s", got, wantAlice)
			}
			if tc.bulk && ver != 5 { // her last item is the 5th write of a fresh store
				t.Errorf("alice's version %d, want 5", ver)
			}
			items, ver2 := roster(t, tc.store, "example.com", "bob")
			if got := describe(items); got != wantBob {
				t.Errorf("bob's roster:\n%s\nwant\n%s", got, wantBob)
			}
			if tc.bulk && ver2 != 6 {
				t.Errorf("bob's version %d, want 6", ver2)
			}
		})
	}
}

func TestImportRejects(t *testing.T) {
	long := strings.Repeat("n", backends.MaxRosterNameLen+1)
	tests := []struct{ row, want string }{
		{"alice@example.com,bob@example.com", "2 fields, want 3 to 5"},
		{"alice@example.com,bob@example.com,both,n,g,extra", "6 fields"},
		{"example.com,bob@example.com,both", "has no user part"},
		{"alice@example.com/phone,bob@example.com,both", "has a resource"},
		{"alice@@example.com,bob@example.com,both", "owner \"alice@@example.com\" is not a valid JID"},
		{"alice@example.net,bob@example.com,both", `domain "example.net" is not served`},
		{"alice@example.com,bob@example.com/x,both", "contact \"bob@example.com/x\" has a resource"},
		{"alice@example.com,,both", "contact \"\" is not a valid JID"},
		{"alice@example.com,ALICE@example.com,both", "is the roster's owner"},
		{"alice@example.com,bob@example.com,pending-in", `subscription "pending-in"`},
		{"alice@example.com,bob@example.com,both,,a;;b", "group of 0 bytes"},
		{"alice@example.com,bob@example.com,both,,a;b;a", `group "a" given twice`},
		{"alice@example.com,bob@example.com,both," + long, "name of 1024 bytes"},
		{`alice@example.com,"bob@example.com,both`, "extraneous or missing"},
	}
	st := memory.New()
	defer st.Close()
	for _, tt := range tests {
		in := "alice@example.com,good@example.com,both\n" + tt.row + "\n"
		_, err := Import(t.Context(), strings.NewReader(in), Options{Store: st, Hosts: []string{"example.com"}})
		var ie *admin.ImportError
		if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0].Line != 2 || !strings.Contains(ie.Rows[0].Msg, tt.want) {
			t.Errorf("%q: error %v, want line 2: %q", tt.row, err, tt.want)
		}
		if !errors.Is(err, admin.ErrInvalid) {
			t.Errorf("%q: error %v is not admin.ErrInvalid", tt.row, err)
		}
	}
	if items, _ := roster(t, st, "example.com", "alice"); len(items) != 0 {
		t.Errorf("rejected documents wrote %v", items)
	}
	_, err := Import(t.Context(), strings.NewReader("owner_jid,contact_jid,subscription\n"), Options{Store: st})
	if err == nil || !strings.Contains(err.Error(), "no roster items") {
		t.Errorf("empty document: %v", err)
	}
	// Every bad line is reported, up to admin.MaxRowErrors.
	many := strings.Repeat("bad\n", admin.MaxRowErrors+5)
	_, err = Import(t.Context(), strings.NewReader(many), Options{Store: st})
	var ie *admin.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != admin.MaxRowErrors || ie.More != 5 {
		t.Errorf("many bad lines: %v", err)
	}
}

// failing fails every write after the first n.
type failing struct {
	*memory.Store
	n int
}

func (f *failing) PutRosterItem(ctx context.Context, domain, user string, item backends.RosterItem) (uint64, error) {
	if f.n == 0 {
		return 0, fmt.Errorf("test store: disk full: %w", backends.ErrUnavailable)
	}
	f.n--
	return f.Store.PutRosterItem(ctx, domain, user, item)
}

func TestImportStops(t *testing.T) {
	in := strings.Repeat("alice@example.com,bob@example.com,both\n", 10)
	st := &failing{Store: memory.New(), n: 4}
	res, err := Import(t.Context(), strings.NewReader(in), Options{Store: st, BatchSize: 4, Workers: 1})
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "stopped after 4 of 10 items: write lines 5-8") {
		t.Errorf("store failure: %v", err)
	}
	if res.Items != 4 {
		t.Errorf("items written = %d, want 4", res.Items)
	}

	ctx, cancel := context.WithCancel(t.Context())
	_, err = Import(ctx, strings.NewReader(in), Options{Store: memory.New(), BatchSize: 4, Progress: func(int, int) { cancel() }})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after 4 of 10 items") {
		t.Errorf("cancelled: %v", err)
	}
}
