package engine_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/enginetest"
)

// TestSASLBeforeStartTLSIsDiscarded: an authentication begun in the clear does not
// survive STARTTLS (RFC 6120 5.4.3.3): a <response/> on the new stream answers to
// nothing.
func TestSASLBeforeStartTLSIsDiscarded(t *testing.T) {
	ts := startServer(t)
	users(ts, "clear")
	rc := dialRaw(t, ts.C2S)
	rc.Send(enginetest.StreamOpen)
	rc.ReadUntil("</stream:features>")
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>") // no initial response
	rc.ReadUntil("</challenge>")
	rc.Send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	rc.ReadUntil("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")

	tc := tls.Client(rc.Conn, clientTLS())
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(tc)
	readUntil := func(want string) string {
		var b strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(b.String(), want) {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				t.Fatalf("waiting for %q: %v; got %q", want, err, b.String())
			}
		}
		return b.String()
	}
	if _, err := tc.Write([]byte(enginetest.StreamOpen)); err != nil {
		t.Fatal(err)
	}
	readUntil("</stream:features>")
	cred := base64.StdEncoding.EncodeToString([]byte("\x00clear\x00pw-clear"))
	if _, err := tc.Write([]byte("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + cred + "</response>")); err != nil {
		t.Fatal(err)
	}
	got := readUntil("</failure>")
	if strings.Contains(got, "<success") || !strings.Contains(got, "<malformed-request/>") {
		t.Fatalf("a response to the exchange begun in the clear: %q, want malformed-request", got)
	}
}
