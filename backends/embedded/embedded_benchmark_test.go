package embedded

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

const benchDomain = "example.org"

// benchAccount returns an account with the three credential sets of a real registration
// (16-byte salts, random keys) and a name that sorts like a counter-generated import.
func benchAccount(i int) backends.Account {
	buf := make([]byte, 3*16+2*(20+32+64))
	_, _ = rand.Read(buf)
	take := func(n int) []byte { b := buf[:n:n]; buf = buf[n:]; return b }
	k := func(size int) *backends.ScramKeys {
		return &backends.ScramKeys{Salt: take(16), Iterations: 4096, StoredKey: take(size), ServerKey: take(size)}
	}
	return backends.Account{Domain: benchDomain, User: fmt.Sprintf("user%07d", i),
		Credentials: backends.Credentials{SHA1: k(20), SHA256: k(32), SHA512: k(64)}}
}

func benchAccounts(from, n int) []backends.Account {
	as := make([]backends.Account, n)
	for i := range as {
		as[i] = benchAccount(from + i)
	}
	return as
}

func openBench(b *testing.B) *Store {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// fill puts n accounts named user0000000 onwards, 1000 per batch.
func fill(b *testing.B, s *Store, n int) {
	for i := 0; i < n; i += 1000 {
		if err := s.PutAccounts(context.Background(), benchAccounts(i, min(1000, n-i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccount is the login path: read one account out of 100k.
func BenchmarkAccount(b *testing.B) {
	s := openBench(b)
	const n = 100_000
	fill(b, s, n)
	users := make([]string, 4096)
	for i := range users {
		users[i] = fmt.Sprintf("user%07d", (i*7919)%n)
	}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Account(ctx, benchDomain, users[i%len(users)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1000))
			for pb.Next() {
				if _, err := s.Account(ctx, benchDomain, users[i%len(users)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkCreateAccount creates accounts one call at a time from 1 and from 8
// goroutines, through the group committer, through bbolt's DB.Batch, and through one
// DB.Update per account (no grouping), with the same transaction body.
func BenchmarkCreateAccount(b *testing.B) {
	modes := []struct {
		name  string
		write func(s *Store, a backends.Account) error
	}{
		{"group", func(s *Store, a backends.Account) error { return s.CreateAccount(context.Background(), a) }},
		{"bbolt-batch", func(s *Store, a backends.Account) error { return s.db.Batch(bboltFn(a)) }},
		{"update", func(s *Store, a backends.Account) error { return s.db.Update(bboltFn(a)) }},
	}
	for _, m := range modes {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", m.name, writers), func(b *testing.B) {
				s := openBench(b)
				accounts := benchAccounts(0, b.N)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for range writers {
					wg.Go(func() {
						for i := int(next.Add(1)) - 1; i < len(accounts); i = int(next.Add(1)) - 1 {
							if err := m.write(s, accounts[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accounts/s")
				if c := s.stats.commits.Load(); c > 0 {
					b.ReportMetric(float64(s.stats.ops.Load())/float64(c), "writes/commit")
				}
			})
		}
	}
}

// bboltFn adapts the CreateAccount operation to a plain bbolt transaction function.
func bboltFn(a backends.Account) func(*bbolt.Tx) error {
	apply, err := createOp(a)
	if err != nil {
		panic(err)
	}
	return func(tx *bbolt.Tx) error {
		result, err := apply(tx)
		if err != nil {
			return err
		}
		return result
	}
}

// BenchmarkPutAccounts imports batches of 1000 new accounts into a growing store.
func BenchmarkPutAccounts(b *testing.B) {
	s := openBench(b)
	batches := make([][]backends.Account, b.N)
	for i := range batches {
		batches[i] = benchAccounts(i*1000, 1000)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := s.PutAccounts(context.Background(), batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "accounts/s")
}

// BenchmarkImport100k is what `hermod user import` of 100k pre-hashed accounts costs in
// the store: 100 PutAccounts of 1000 into a new file. One op is the whole import.
func BenchmarkImport100k(b *testing.B) {
	batches := make([][]backends.Account, 100)
	for i := range batches {
		batches[i] = benchAccounts(i*1000, 1000)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range batches {
			if err := s.PutAccounts(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
