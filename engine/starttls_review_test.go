package engine_test

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// handshakeGoroutines counts goroutines running a TLS server handshake.
func handshakeGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "tlsconn.(*Conn).runHandshake")
}

// TestStartTLSAfterResetLeavesNoHandshake sends <starttls/> and resets the
// connection at once (SO_LINGER 0). The server reads the request before it
// notices the reset, and its <proceed/> fails to be written: gnet closes the
// connection there and then (OnClose runs inside the write). No TLS handshake
// may be left running for a connection that is gone.
func TestStartTLSAfterResetLeavesNoHandshake(t *testing.T) {
	ts := startServer(t)
	before := handshakeGoroutines() // of earlier tests' servers, if any
	const attempts = 20
	for range attempts {
		rc := dialRaw(t, ts.C2S)
		rc.Send(streamOpen)
		rc.ReadUntil("</stream:features>")
		rc.Send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
		tc := rc.Conn.(*net.TCPConn)
		_ = tc.SetLinger(0)
		_ = tc.Close()
	}
	// A handshake of a live connection would fail at once when its socket closes;
	// one left behind waits for the peer until the handshake timeout (10 s).
	deadline := time.Now().Add(2 * time.Second)
	n := handshakeGoroutines()
	for n > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = handshakeGoroutines()
	}
	if n > before {
		t.Fatalf("%d TLS handshakes still running 2 s after %d connections were reset (engine/conn.go beginTLS starts the handshake after flush's failed write closed the connection)", n-before, attempts)
	}
}
