package tlsconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

const testHost = "example.test"

// testCert is generated once per test binary: key generation is the slow
// part of a handshake test.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	cert, roots, err := selfSignedCert(testHost, "other.test")
	if err != nil {
		panic(err)
	}
	return cert, roots
})

// newTestAcceptor returns an Acceptor serving testCert, and a GetCertificate
// log of the SNI names it was asked for.
func newTestAcceptor(t testing.TB, opts Options, nextProtos ...string) (*Acceptor, *sniLog) {
	t.Helper()
	cert, _ := testCert()
	log := &sniLog{}
	cfg := Config(func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		log.add(hello.ServerName)
		return &cert, nil
	}, nextProtos...)
	acc, err := NewAcceptor(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return acc, log
}

func clientConfig(version uint16, nextProtos ...string) *tls.Config {
	_, roots := testCert()
	return &tls.Config{
		RootCAs:    roots,
		ServerName: testHost,
		MinVersion: version,
		MaxVersion: version,
		NextProtos: nextProtos,
	}
}

type sniLog struct {
	mu    sync.Mutex
	names []string
}

func (l *sniLog) add(n string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, n)
}

func (l *sniLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.names...)
}

// handshakeLoopback returns an established loopback or fails the test.
func handshakeLoopback(t testing.TB, acc *Acceptor, cfg *tls.Config, split int) *loopback {
	t.Helper()
	lb := newLoopback(acc, cfg)
	lb.split = split
	t.Cleanup(lb.close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if srvErr, cliErr := lb.handshake(ctx); srvErr != nil || cliErr != nil {
		t.Fatalf("handshake: server %v, client %v", srvErr, cliErr)
	}
	return lb
}

// waitGoroutines waits until at most want goroutines run, and fails with a
// dump otherwise.
func waitGoroutines(t testing.TB, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want <= %d:\n%s", n, want, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func numGoroutines() int { return runtime.NumGoroutine() }

// messages returns the ciphertext of n client writes of msg, in order.
func messages(t testing.TB, lb *loopback, msg []byte, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		if _, err := lb.client.Write(msg); err != nil {
			t.Fatal(err)
		}
		out[i], _ = lb.toSrv.take()
	}
	return out
}

// waitPlain plays the loop until the server has read want bytes of
// plaintext in total.
func (lb *loopback) waitPlain(want int, d time.Duration) error {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for len(lb.plain) < want {
		if err := lb.pump(); err != nil {
			return err
		}
		if len(lb.plain) >= want {
			break
		}
		select {
		case <-lb.toSrv.notify:
		case <-deadline.C:
			return fmt.Errorf("loopback: server read %d of %d plaintext bytes", len(lb.plain), want)
		}
	}
	return nil
}
