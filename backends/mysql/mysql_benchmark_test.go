package mysql

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Benchmarks against the MariaDB of the tests (see testDSN). Run them with
//
//	go test ./backends/mysql -run '^$' -bench . -benchtime 3s
//
// Each reports its rate per second as a custom metric beside ns/op.

// BenchmarkAppendOffline measures offline appends per second, one message per call,
// with the write pipeline and without it (one transaction per call), for 1 and 64
// concurrent writers.
func BenchmarkAppendOffline(b *testing.B) {
	for _, mode := range []struct {
		name string
		p    PipelineOptions
	}{{"pipeline", PipelineOptions{}}, {"no-pipeline", PipelineOptions{Disabled: true}}} {
		for _, writers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode.name, writers), func(b *testing.B) {
				s := openTest(b, Options{Pipeline: mode.p, MaxOpenConns: 64, MaxIdleConns: 64})
				dom := testDomain(b)
				b.Cleanup(func() { cleanDomain(b, s, dom) })
				raw := []byte("<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat'><body>Wherefore art thou, Romeo?</body><delay xmlns='urn:xmpp:delay' stamp='2026-11-26T21:00:00Z'/></message>")
				var next atomic.Int64
				b.ResetTimer()
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						msg := []backends.OfflineMessage{{Domain: dom, User: fmt.Sprint("u", w%32), Raw: raw}}
						for next.Add(1) <= int64(b.N) {
							msg[0].Stamp = time.Time{}
							if _, err := s.AppendOffline(context.Background(), msg, 0); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
				if calls := s.stats.batchedCalls.Load(); calls > 0 {
					b.ReportMetric(float64(calls)/float64(s.stats.batches.Load()), "calls/batch")
				}
			})
		}
	}
}

// cleanDomain removes what a benchmark wrote.
func cleanDomain(b *testing.B, s *Store, dom string) {
	for _, q := range []string{
		"DELETE i FROM roster_items i JOIN rosters r ON r.owner = i.owner WHERE r.domain = ?",
		"DELETE FROM rosters WHERE domain = ?",
		"DELETE FROM offline_messages WHERE domain = ?",
		"DELETE FROM offline_heads WHERE domain = ?",
		"DELETE FROM accounts WHERE domain = ?",
		"DELETE FROM last_activity WHERE domain = ?",
		"DELETE FROM privacy_lists WHERE domain = ?",
		"DELETE FROM privacy_users WHERE domain = ?",
	} {
		if _, err := s.db.Exec(q, dom); err != nil {
			b.Logf("clean up: %s: %v", q, err)
		}
	}
}

// readModes are the two ways the hot reads can run: server-side prepared statements
// (the store's way) and ad-hoc queries with interpolated parameters.
var readModes = []struct {
	name  string
	adhoc bool
}{{"prepared", false}, {"adhoc", true}}

// BenchmarkAccountRead measures the login path's account read, from 16 goroutines
// reading 1000 accounts in turn.
func BenchmarkAccountRead(b *testing.B) {
	for _, mode := range readModes {
		b.Run(mode.name, func(b *testing.B) {
			s := openTest(b, Options{MaxOpenConns: 32, MaxIdleConns: 32})
			dom := testDomain(b)
			b.Cleanup(func() { cleanDomain(b, s, dom) })
			const accounts = 1000
			as := make([]backends.Account, accounts)
			for i := range as {
				as[i] = backends.Account{Domain: dom, User: fmt.Sprint("user", i), Credentials: benchCredentials()}
			}
			if err := s.PutAccounts(b.Context(), as); err != nil {
				b.Fatal(err)
			}
			s.adhoc = mode.adhoc
			runParallel(b, 16, func(i int) error {
				_, err := s.Account(context.Background(), dom, as[i%accounts].User)
				return err
			}, "reads/s")
		})
	}
}

// BenchmarkRosterRead measures reading a roster of 100 contacts, from 16 goroutines
// over 100 rosters.
func BenchmarkRosterRead(b *testing.B) {
	for _, mode := range readModes {
		b.Run(mode.name, func(b *testing.B) {
			s := openTest(b, Options{MaxOpenConns: 32, MaxIdleConns: 32})
			dom := testDomain(b)
			b.Cleanup(func() { cleanDomain(b, s, dom) })
			const owners, contacts = 100, 100
			loadRosters(b, s, dom, owners, contacts)
			s.adhoc = mode.adhoc
			runParallel(b, 16, func(i int) error {
				items, _, err := s.Roster(context.Background(), dom, fmt.Sprint("user", i%owners))
				if err == nil && len(items) != contacts {
					err = fmt.Errorf("%d items", len(items))
				}
				return err
			}, "rosters/s")
		})
	}
}

// BenchmarkPrivacyRead measures reading privacy settings of two lists of 10 items.
func BenchmarkPrivacyRead(b *testing.B) {
	for _, mode := range readModes {
		b.Run(mode.name, func(b *testing.B) {
			s := openTest(b, Options{MaxOpenConns: 32, MaxIdleConns: 32})
			dom := testDomain(b)
			b.Cleanup(func() { cleanDomain(b, s, dom) })
			for u := range 100 {
				_, err := s.UpdatePrivacy(b.Context(), dom, fmt.Sprint("user", u), func(set *backends.PrivacySettings) error {
					for _, name := range []string{"block", "work"} {
						l := backends.PrivacyList{Name: name}
						for i := range 10 {
							l.Items = append(l.Items, backends.PrivacyItem{Type: backends.PrivacyJID,
								Value: fmt.Sprintf("spam%d@example.org", i), Deny: true, Order: uint32(i)})
						}
						set.Put(l)
					}
					set.Default = "block"
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			s.adhoc = mode.adhoc
			runParallel(b, 16, func(i int) error {
				set, err := s.PrivacySettings(context.Background(), dom, fmt.Sprint("user", i%100))
				if err == nil && len(set.Lists) != 2 {
					err = fmt.Errorf("%d lists", len(set.Lists))
				}
				return err
			}, "reads/s")
		})
	}
}

// runParallel runs b.N calls of fn from workers goroutines and reports the rate.
func runParallel(b *testing.B, workers int, fn func(i int) error, unit string) {
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := fn(int(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func benchCredentials() backends.Credentials {
	k := func(size int) *backends.ScramKeys {
		return &backends.ScramKeys{Salt: []byte("0123456789abcdef"), Iterations: 4096,
			StoredKey: make([]byte, size), ServerKey: make([]byte, size)}
	}
	return backends.Credentials{SHA1: k(20), SHA256: k(32), SHA512: k(64)}
}

// loadRosters gives users user0..user<owners-1> of dom a roster of contacts items each,
// with multi-row statements: that many roster writes would take minutes of commits.
func loadRosters(b *testing.B, s *Store, dom string, owners, contacts int) {
	groups, _ := encodeGroups([]string{"Friends"})
	for u := range owners {
		user := fmt.Sprint("user", u)
		owner := ownerKey(dom, user)
		if _, err := s.db.Exec("INSERT INTO rosters (owner, domain, user, version) VALUES (?, ?, ?, 1)", owner, dom, user); err != nil {
			b.Fatal(err)
		}
		args := make([]any, 0, 7*contacts)
		for c := range contacts {
			args = append(args, owner, fmt.Sprintf("contact%d@example.net", c), fmt.Sprint("Contact ", c), groups,
				uint8(backends.SubBoth), false, false)
		}
		_, err := s.db.Exec("INSERT INTO roster_items (owner, contact, name, grps, subscription, ask, approved) VALUES "+
			placeholders(contacts, 7), args...)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginPath measures the storage side of one login: the account read, the
// roster (30 contacts), the privacy settings and the offline count, from 64
// goroutines over 500 users.
func BenchmarkLoginPath(b *testing.B) {
	s := openTest(b, Options{MaxOpenConns: 64, MaxIdleConns: 64})
	dom := testDomain(b)
	const users = 500
	b.Cleanup(func() { cleanDomain(b, s, dom) })
	as := make([]backends.Account, users)
	for i := range as {
		as[i] = backends.Account{Domain: dom, User: fmt.Sprint("user", i), Credentials: benchCredentials()}
	}
	if err := s.PutAccounts(b.Context(), as); err != nil {
		b.Fatal(err)
	}
	loadRosters(b, s, dom, users, 30)
	block := encodeItems([]backends.PrivacyItem{{Type: backends.PrivacyJID, Value: "spam@example.org", Deny: true, Order: 1}})
	for u := range users {
		user := fmt.Sprint("user", u)
		if _, err := s.db.Exec("INSERT INTO privacy_users (domain, user, default_list) VALUES (?, ?, 'block')", dom, user); err != nil {
			b.Fatal(err)
		}
		if _, err := s.db.Exec("INSERT INTO privacy_lists (domain, user, name, items) VALUES (?, ?, 'block', ?)", dom, user, block); err != nil {
			b.Fatal(err)
		}
	}
	runParallel(b, 64, func(i int) error {
		ctx, user := context.Background(), fmt.Sprint("user", i%users)
		if _, err := s.Account(ctx, dom, user); err != nil {
			return err
		}
		if items, _, err := s.Roster(ctx, dom, user); err != nil || len(items) != 30 {
			return fmt.Errorf("roster: %d items, %v", len(items), err)
		}
		if set, err := s.PrivacySettings(ctx, dom, user); err != nil || set.DefaultList() == nil {
			return fmt.Errorf("privacy: %+v, %v", set, err)
		}
		_, err := s.CountOffline(ctx, dom, user)
		return err
	}, "logins/s")
}
