package engine_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestStreamErrors(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"doctype", "<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY x 'y'>]>" + streamOpen, "restricted-xml"},
		{"comment", streamOpen + "<!-- hi -->", "restricted-xml"},
		{"bad utf-8", streamOpen + "<message>\xff\xfe</message>", "not-well-formed"},
		{"mismatched", streamOpen + "<message></iq>", "not-well-formed"},
		{"unbound prefix", streamOpen + "<foo:bar/>", "bad-namespace-prefix"},
		{"wrong stream namespace", "<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='urn:wrong'>", "invalid-namespace"},
		{"wrong content namespace", "<stream:stream to='localhost' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>", "invalid-namespace"},
		{"unknown host", "<stream:stream to='example.org' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", "host-unknown"},
		{"old version", "<stream:stream to='localhost' version='0.9' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", "unsupported-version"},
		{"stanza before auth", streamOpen + "<foo xmlns='urn:x'/>", "unsupported-stanza-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dialRaw(t, ts.Plain)
			rc.Send(tt.input)
			got := rc.ReadAll()
			if !strings.Contains(got, "<stream:error><"+tt.want) {
				t.Fatalf("want stream error %s, got %q", tt.want, got)
			}
			if !strings.HasSuffix(got, "</stream:stream>") {
				t.Fatalf("stream not closed: %q", got)
			}
		})
	}
}

func TestOneByteChunks(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice")
	rc := dialRaw(t, ts.Plain)
	cred := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00pw-alice"))
	script := streamOpen + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + cred + "</auth>"
	for i := range len(script) {
		rc.Send(script[i : i+1])
	}
	rc.ReadUntil("<success")
}

func TestOversizedStanzaOthersUnaffected(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob", "carol")
	a := rawLogin(t, ts, "alice", "a")
	b := rawLogin(t, ts, "bob", "b")
	c := rawLogin(t, ts, "carol", "c")
	// 1 MiB stanza, over the default limit.
	big := "<message to='bob@localhost/b'><body>" + strings.Repeat("x", 1<<20) + "</body></message>"
	go func() { _, _ = c.Conn.Write([]byte(big)) }()
	if got := c.ReadAll(); !strings.Contains(got, "policy-violation") {
		t.Fatalf("oversized stanza: %q", got[:min(len(got), 300)])
	}
	a.Send("<message to='bob@localhost/b' id='after'><body>still here</body></message>")
	if got := b.ReadUntil("still here"); !strings.Contains(got, "from='alice@localhost/a'") && !strings.Contains(got, `from="alice@localhost/a"`) {
		t.Fatalf("message after the bad client: %q", got)
	}
}

func TestConflictStreamError(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice")
	old := rawLogin(t, ts, "alice", "same")
	_ = rawLogin(t, ts, "alice", "same")
	if got := old.ReadAll(); !strings.Contains(got, "<conflict") {
		t.Fatalf("old session: %q", got)
	}
}

func TestForgedFrom(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice")
	a := rawLogin(t, ts, "alice", "a")
	a.Send("<message from='mallory@localhost/x' to='alice@localhost/a'><body>x</body></message>")
	if got := a.ReadAll(); !strings.Contains(got, "invalid-from") {
		t.Fatalf("forged from: %q", got)
	}
}

func TestStarttlsRequired(t *testing.T) {
	ts := startServer(t)
	rc := dialRaw(t, ts.Required)
	rc.Send(streamOpen)
	got := rc.ReadUntil("</stream:features>")
	if !strings.Contains(got, "<required/>") || strings.Contains(got, "<mechanisms") {
		t.Fatalf("features on a starttls_required listener: %q", got)
	}
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>")
	if got := rc.ReadAll(); !strings.Contains(got, "</stream:stream>") {
		t.Fatalf("auth before TLS was not refused: %q", got)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, withTimeouts(time.Second))
	rc := dialRaw(t, ts.Plain)
	if got := rc.ReadAll(); !strings.Contains(got, "connection-timeout") {
		t.Fatalf("idle unauthenticated connection: %q", got)
	}
}

// Stanzas without their own xmlns are in the stream's jabber:client namespace: the
// priority must be read from exactly what slixmpp and most clients send.
func TestPriorityWithoutXmlns(t *testing.T) {
	ts := startServer(t)
	users(ts, "alice", "bob")
	a := rawLogin(t, ts, "alice", "a")
	low := rawLogin(t, ts, "bob", "low")
	high := rawLogin(t, ts, "bob", "high")
	low.Send("<presence><priority>1</priority></presence>")
	low.ReadUntil("</presence>")
	high.Send("<presence><priority>7</priority></presence>")
	high.ReadUntil("bob@localhost/low")
	a.Send("<message to='bob@localhost' type='chat' id='p'><body>best only</body></message>")
	high.ReadUntil("best only")
	_ = low.Conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	for {
		n, err := low.Conn.Read(buf)
		if strings.Contains(string(buf[:n]), "best only") {
			t.Fatal("the lower-priority resource got the message too")
		}
		if err != nil {
			break
		}
	}
}
