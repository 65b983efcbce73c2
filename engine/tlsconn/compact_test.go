package tlsconn

import (
	"bytes"
	"crypto/tls"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestPinCompactFields: Compact knows crypto/tls.Conn's input buffers. If
// this fails after a Go upgrade, Compact has become a no-op (safely) and
// idle TLS connections cost about 3.5 KB more: update findTLSBuffers.
func TestPinCompactFields(t *testing.T) {
	if !findTLSBuffers().ok {
		t.Fatalf("%s: crypto/tls.Conn no longer has rawInput, input and hand of the expected types; "+
			"Conn.Compact is a no-op", runtime.Version())
	}
}

func TestCompact(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(versionName(v), func(t *testing.T) {
			acc, _ := newTestAcceptor(t, Options{})
			lb := newLoopback(acc, clientConfig(v))
			t.Cleanup(lb.close)
			if got := lb.srv.Compact(); got != 0 {
				t.Fatalf("Compact before the handshake released %d", got)
			}
			if srvErr, cliErr := lb.handshake(t.Context()); srvErr != nil || cliErr != nil {
				t.Fatal(srvErr, cliErr)
			}
			// Half a record waits in crypto/tls: nothing may be released.
			if _, err := lb.client.Write([]byte("partial")); err != nil {
				t.Fatal(err)
			}
			rec, _ := lb.toSrv.take()
			if err := lb.srv.Feed(rec[:len(rec)-2]); err != nil {
				t.Fatal(err)
			}
			if _, err := lb.srv.tc.Read(make([]byte, 64)); err != errWouldBlock {
				t.Fatalf("partial record: %v", err)
			}
			if got := lb.srv.Compact(); got != 0 {
				t.Fatalf("Compact released %d bytes with a partial record buffered", got)
			}
			if err := lb.feed(rec[len(rec)-2:]); err != nil {
				t.Fatal(err)
			}
			if string(lb.plain) != "partial" {
				t.Fatalf("read %q", lb.plain)
			}
			released := lb.srv.Compact()
			if released < 512 {
				t.Fatalf("Compact released %d bytes, want the handshake buffers (> 512)", released)
			}
			if again := lb.srv.Compact(); again != 0 {
				t.Fatalf("second Compact released %d", again)
			}
			// The connection still works both ways, and compacts again.
			lb.plain = nil
			msg := bytes.Repeat([]byte("z"), 3000)
			if _, err := lb.client.Write(msg); err != nil {
				t.Fatal(err)
			}
			if err := lb.waitPlain(len(msg), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := lb.srv.Write(msg); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(lb.client, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("client read: %v", err)
			}
			if lb.srv.Compact() == 0 {
				t.Fatal("nothing to compact after more traffic")
			}
		})
	}
}
