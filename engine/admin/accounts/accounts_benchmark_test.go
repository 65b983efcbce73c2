package accounts

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine/sasl"
)

// BenchmarkDerive is the cost of one account's keys: PBKDF2 for SHA-1, SHA-256 and
// SHA-512 at 4096 iterations.
func BenchmarkDerive(b *testing.B) {
	m := &Manager{o: Options{Rand: zeroReader{}}}
	for b.Loop() {
		if _, err := m.Derive("correct horse battery staple", 4096); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeriveHash splits BenchmarkDerive by hash.
func BenchmarkDeriveHash(b *testing.B) {
	salt := make([]byte, SaltLen)
	for _, h := range []sasl.Hash{sasl.SHA1, sasl.SHA256, sasl.SHA512} {
		b.Run(h.String(), func(b *testing.B) {
			for b.Loop() {
				sasl.DeriveKeys(h, "correct horse battery staple", salt, 4096)
			}
		})
	}
}

// BenchmarkImport imports 2000 accounts per op into the embedded store, with
// passwords (4096 iterations, on all cores) and with precomputed RFC 5803 keys.
func BenchmarkImport(b *testing.B) {
	const n = 2000
	var pw, pre strings.Builder
	m0 := &Manager{o: Options{Rand: zeroReader{}}}
	c, _ := m0.Derive("pw", 4096)
	pre.WriteString("jid,scram-sha-1,scram-sha-256,scram-sha-512\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&pw, "user%06d@example.com,password%d\n", i, i)
		fmt.Fprintf(&pre, "user%06d@example.com,%s,%s,%s\n", i,
			FormatRFC5803(sasl.SHA1, c.SHA1), FormatRFC5803(sasl.SHA256, c.SHA256), FormatRFC5803(sasl.SHA512, c.SHA512))
	}
	for _, doc := range []struct{ name, csv string }{{"passwords", pw.String()}, {"precomputed", pre.String()}} {
		b.Run(doc.name, func(b *testing.B) {
			st, err := embedded.Open(b.TempDir(), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			m, err := New(Options{Store: st, Iterations: func(string) int { return 4096 }})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := m.ImportUsers(context.Background(), strings.NewReader(doc.csv)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}
