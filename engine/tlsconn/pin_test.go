package tlsconn

import (
	"context"
	"crypto/tls"
	"runtime"
	"testing"
	"time"
)

// The tests in this file pin undocumented crypto/tls behaviour. When one
// fails after a Go upgrade, read its message: it says what changed and what
// it means for this package. TestSelfCheck pins the behaviour the record
// layer depends on; these pin the rest of the model in doc.go.

// TestPinHandshakeErrorsAreSticky: a temporary error during the handshake
// ends it for good. This is why the handshake needs its own goroutine. If
// crypto/tls starts resuming handshakes, the handshake could run on the loop
// too (and this package could drop its goroutine): revisit the design.
func TestPinHandshakeErrorsAreSticky(t *testing.T) {
	hello := clientHello(t)
	cert, _ := testCert()
	tr := &transport{sink: discardSink{}, pool: &bufferPool{}}
	srv := tls.Server(tr, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tr.feed(hello[:len(hello)/2]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Handshake(); err != errWouldBlock {
		t.Fatalf("%s: handshake on half a ClientHello returned %v, want the transport's temporary error", runtime.Version(), err)
	}
	if err := tr.feed(hello[len(hello)/2:]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Handshake(); err != errWouldBlock {
		t.Fatalf("%s: crypto/tls now resumes a handshake after a temporary error (second Handshake: %v); "+
			"the handshake could run on the event loop: revisit engine/tlsconn's design", runtime.Version(), err)
	}
}

// TestPinFatalReadErrorsAreSticky: a non-temporary read error after the
// handshake ends the connection, so Conn.Read's callers must close on any
// error it returns, and the transport must never return a plain error for
// "no data yet".
func TestPinFatalReadErrorsAreSticky(t *testing.T) {
	acc, _ := newTestAcceptor(t, Options{})
	lb := handshakeLoopback(t, acc, clientConfig(tls.VersionTLS13), 0)
	lb.srv.t.mu.Lock()
	lb.srv.t.closed = true // the transport now answers io.EOF
	lb.srv.t.mu.Unlock()
	buf := make([]byte, 10)
	// Straight to crypto/tls: Conn.Read would not call it with nothing fed.
	if _, err := lb.srv.tc.Read(buf); err == nil {
		t.Fatal("read on a closed transport succeeded")
	}
	lb.srv.t.mu.Lock()
	lb.srv.t.closed = false
	lb.srv.t.mu.Unlock()
	if _, err := lb.client.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	rec, _ := lb.toSrv.take()
	if err := lb.srv.Feed(rec); err != nil {
		t.Fatal(err)
	}
	if n, err := lb.srv.Read(buf); err == nil {
		t.Fatalf("%s: crypto/tls no longer keeps a fatal read error (read %q after EOF)", runtime.Version(), buf[:n])
	}
}

// clientHello returns the first flight of a crypto/tls client.
func clientHello(t *testing.T) []byte {
	t.Helper()
	toSrv, toCli := newByteQueue(), newByteQueue()
	cli := tls.Client(&memConn{in: toCli, out: toSrv}, clientConfig(tls.VersionTLS13))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cli.HandshakeContext(ctx)
	}()
	var hello []byte
	waitFor(t, 5*time.Second, "ClientHello", func() bool {
		b, _ := toSrv.take()
		hello = append(hello, b...)
		return len(hello) > 5 && len(hello) >= 5+(int(hello[3])<<8|int(hello[4]))
	})
	cancel()
	toCli.close()
	<-done
	return hello
}
