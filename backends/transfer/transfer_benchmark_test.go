package transfer

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/backends/mysql"
	"github.com/hermod-im/hermod/internal/mariadbtest"
)

// benchAccounts is the size of the benchmarks' data set: accounts with 10 roster
// items, 5 offline messages, a vCard and a last-activity record each.
const benchAccounts = 500

func benchSource(b *testing.B) *memory.Store {
	b.Helper()
	ctx := b.Context()
	m := memory.New()
	keys := &backends.ScramKeys{Salt: make([]byte, 16), Iterations: 4096, StoredKey: make([]byte, 32), ServerKey: make([]byte, 32)}
	var accounts []backends.Account
	for i := range benchAccounts {
		u := fmt.Sprintf("user%05d", i)
		accounts = append(accounts, backends.Account{Domain: "a.example", User: u, Credentials: backends.Credentials{SHA256: keys}, Created: time.Unix(1_700_000_000, 0)})
		for c := range 10 {
			if _, err := m.PutRosterItem(ctx, "a.example", u, backends.RosterItem{Contact: fmt.Sprintf("c%d@a.example", c), Name: "Contact", Groups: []string{"Friends"}, Subscription: backends.SubBoth}); err != nil {
				b.Fatal(err)
			}
		}
		var msgs []backends.OfflineMessage
		for j := range 5 {
			msgs = append(msgs, backends.OfflineMessage{Domain: "a.example", User: u, Raw: fmt.Appendf(nil, "<message to='%s@a.example' id='%d'><body>hello</body></message>", u, j)})
		}
		if _, err := m.AppendOffline(ctx, msgs, 0); err != nil {
			b.Fatal(err)
		}
		if err := m.SetVCard(ctx, "a.example", u, []byte("<vCard xmlns='vcard-temp'><FN>Someone</FN></vCard>")); err != nil {
			b.Fatal(err)
		}
		if err := m.SetLastLogout(ctx, "a.example", u, backends.LastLogout{At: time.Unix(1_700_000_000, 0)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := m.PutAccounts(ctx, accounts); err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkExport(b *testing.B) {
	src := benchSource(b)
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if _, err := Export(b.Context(), src, []string{"a.example"}, &buf, ExportOptions{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(benchAccounts)*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
	b.ReportMetric(float64(size), "file-bytes")
}

// BenchmarkImport imports the data set into the embedded store and, when the test
// server is there, into MariaDB.
func BenchmarkImport(b *testing.B) {
	src := benchSource(b)
	var buf bytes.Buffer
	if _, err := Export(b.Context(), src, []string{"a.example"}, &buf, ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
	dests := []struct {
		name string
		open func(b *testing.B) backends.Store
	}{
		{"embedded", func(b *testing.B) backends.Store {
			return openEmbedded(b)
		}},
		{"mariadb", func(b *testing.B) backends.Store {
			dsn := mariadbtest.Fresh(b, "hermod_t_transfer_bench")
			st, err := mysql.Open(b.Context(), mysql.Options{DSN: dsn, Migrate: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	for _, d := range dests {
		for _, workers := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/workers=%d", d.name, workers), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					st := d.open(b)
					b.StartTimer()
					if _, err := Import(b.Context(), st, bytes.NewReader(file), ImportOptions{Workers: workers}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(benchAccounts)*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
			})
		}
	}
}
