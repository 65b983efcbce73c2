//go:build !race

package tlsconn

import (
	"crypto/tls"
	"testing"
)

// TestAllocsFeedRead pins the steady-state receive path at one allocation
// per record, which is crypto/tls's own: readFromUntil heap-allocates a
// 16-byte atLeastReader each time it reads from the transport. Feed (pooled
// buffer), record framing, decryption (in place) and a Read with nothing
// complete buffered allocate nothing.
func TestAllocsFeedRead(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		acc, _ := newTestAcceptor(t, Options{})
		lb := handshakeLoopback(t, acc, clientConfig(v), 0)
		const runs = 200
		recs := messages(t, lb, make([]byte, 220), runs+1)
		plain := make([]byte, 4096)
		i := 0
		allocs := testing.AllocsPerRun(runs, func() {
			if err := lb.srv.Feed(recs[i]); err != nil {
				t.Fatal(err)
			}
			i++
			if n, err := lb.srv.Read(plain); err != nil || n != 220 {
				t.Fatalf("read %d, %v", n, err)
			}
			if n, err := lb.srv.Read(plain); err != nil || n != 0 {
				t.Fatalf("second read %d, %v", n, err)
			}
		})
		if allocs > 1 {
			t.Errorf("%s: %v allocations per Feed+Read, want at most 1 (crypto/tls's)", tls.VersionName(v), allocs)
		}
	}
}

// TestAllocsIdleRead: polling a connection with nothing (or only part of a
// record) buffered allocates nothing and does not enter crypto/tls.
func TestAllocsIdleRead(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	lb := handshakeLoopback(t, acc, clientConfig(tls.VersionTLS13), 0)
	rec := messages(t, lb, make([]byte, 100), 1)[0]
	if err := lb.srv.Feed(rec[:len(rec)-1]); err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 512)
	allocs := testing.AllocsPerRun(200, func() {
		if n, err := lb.srv.Read(plain); n != 0 || err != nil {
			t.Fatalf("read %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per idle Read, want 0", allocs)
	}
}

// TestAllocsWrite pins the send path at zero allocations, for one record
// and for a collected multi-record write.
func TestAllocsWrite(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	lb := handshakeLoopback(t, acc, clientConfig(tls.VersionTLS13), 0)
	lb.srv.t.sink = discardSink{}
	for _, size := range []int{220, 6000} {
		msg := make([]byte, size)
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := lb.srv.Write(msg); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%d-byte Write: %v allocations, want 0", size, allocs)
		}
	}
}
