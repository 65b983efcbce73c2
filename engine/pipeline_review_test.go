package engine_test

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/enginetest"
)

// Tests of input pipelined across SASL steps that run on the event loop (the SCRAM
// proof check, empty challenges, ANONYMOUS) and of the order in which gathered
// (corked) writes leave: everything the client sends in one segment must be handled
// once, in order, and the answers must arrive in the order of the requests.

const (
	saslNS  = "urn:ietf:params:xml:ns:xmpp-sasl"
	bindIQ  = "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"
	pingIQ  = "<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"
	pingIQ2 = "<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>"
)

func withAnonymous() enginetest.Option {
	return enginetest.WithConfig(func(c *config.Config) { c.Auth.Methods = []string{"internal", "anonymous"} })
}

// inOrder checks that every marker occurs in got, each after the previous one, and
// that none occurs twice (an answer sent twice means input scanned twice).
func inOrder(t *testing.T, got string, markers ...string) {
	t.Helper()
	at := 0
	for _, m := range markers {
		i := strings.Index(got[at:], m)
		if i < 0 {
			t.Fatalf("%q missing (or out of order) after offset %d in %q", m, at, got)
		}
		at += i + len(m)
	}
}

func countOf(got, s string) int { return strings.Count(got, s) }

// TestPipelinedInlineSASL sends a whole login in one segment (or byte by byte) for the
// mechanisms whose steps run on the loop, and checks each answer arrives once and in
// order.
func TestPipelinedInlineSASL(t *testing.T) {
	ts := startServer(t, withAnonymous())
	users(ts, "pipe")
	cred := base64.StdEncoding.EncodeToString([]byte("\x00pipe\x00pw-pipe"))
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{
			name:   "anonymous with initial response",
			script: streamOpen + "<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'>=</auth>" + streamOpen + bindIQ + pingIQ,
			want:   []string{"</stream:features>", "<success", "<stream:stream", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>", "id='b1'", "id='p1'"},
		},
		{
			name:   "anonymous empty challenge then response",
			script: streamOpen + "<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'/><response xmlns='" + saslNS + "'/>" + streamOpen + bindIQ + pingIQ,
			want:   []string{"</stream:features>", "<challenge", "<success", "<stream:stream", "id='b1'", "id='p1'"},
		},
		{
			name:   "plain empty challenge then worker check",
			script: streamOpen + "<auth xmlns='" + saslNS + "' mechanism='PLAIN'/><response xmlns='" + saslNS + "'>" + cred + "</response>" + streamOpen + bindIQ + pingIQ,
			want:   []string{"</stream:features>", "<challenge", "<success", "<stream:stream", "id='b1'", "id='p1'"},
		},
		{
			name: "anonymous failures then success",
			// A trace with a control character is malformed; two failures stay
			// under max_failed_attempts (3).
			script: streamOpen +
				"<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'>" + base64.StdEncoding.EncodeToString([]byte("a\x01")) + "</auth>" +
				"<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'>" + base64.StdEncoding.EncodeToString([]byte("b\x02")) + "</auth>" +
				"<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'>=</auth>" + streamOpen + bindIQ,
			want: []string{"</stream:features>", "<failure", "<failure", "<success", "<stream:stream", "id='b1'"},
		},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			if oneByte {
				name += "/byte by byte"
			}
			t.Run(name, func(t *testing.T) {
				rc := dialRaw(t, ts.Plain)
				if oneByte {
					for i := range len(tt.script) {
						rc.Send(tt.script[i : i+1])
					}
				} else {
					rc.Send(tt.script)
				}
				rc.ReadUntil(tt.want[len(tt.want)-1])
				got := rc.Next(100e6) // all of it, with anything sent twice
				inOrder(t, got, tt.want...)
				if n := countOf(got, "<success"); n != 1 {
					t.Errorf("%d <success/> in %q", n, got)
				}
				if n := countOf(got, "<stream:stream"); n != 2 {
					t.Errorf("%d stream headers in %q", n, got)
				}
				if strings.Contains(got, "<stream:error") {
					t.Errorf("stream error in %q", got)
				}
			})
		}
	}
}

// TestPipelinedFailuresEndStream sends more failing ANONYMOUS attempts than allowed in
// one segment: the stream ends after the allowed number of failures, and nothing
// after the stream error is answered.
func TestPipelinedFailuresEndStream(t *testing.T) {
	ts := startServer(t, withAnonymous())
	rc := dialRaw(t, ts.Plain)
	bad := "<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'>" + base64.StdEncoding.EncodeToString([]byte("x\x01")) + "</auth>"
	rc.Send(streamOpen + strings.Repeat(bad, 5) + "<auth xmlns='" + saslNS + "' mechanism='ANONYMOUS'>=</auth>")
	got := rc.ReadAll()
	if n := countOf(got, "<failure"); n != 3 {
		t.Errorf("%d failures before the stream closed, want 3: %q", n, got)
	}
	inOrder(t, got, "<failure", "<failure", "<failure", "<stream:error><policy-violation", "</stream:stream>")
	if strings.Contains(got, "<success") {
		t.Errorf("success after the stream error: %q", got)
	}
}

// scramClient is a minimal SCRAM-SHA-256 client (RFC 5802, RFC 7677) without channel
// binding.
type scramClient struct {
	user, pass, cnonce string
	first              string // client-first-message-bare
	serverSig          []byte
}

func (c *scramClient) clientFirst() string {
	c.first = "n=" + c.user + ",r=" + c.cnonce
	return "n,," + c.first
}

func (c *scramClient) clientFinal(t *testing.T, serverFirst string) string {
	t.Helper()
	var nonce, salt string
	iter := 0
	for f := range strings.SplitSeq(serverFirst, ",") {
		switch {
		case strings.HasPrefix(f, "r="):
			nonce = f[2:]
		case strings.HasPrefix(f, "s="):
			salt = f[2:]
		case strings.HasPrefix(f, "i="):
			iter, _ = strconv.Atoi(f[2:])
		}
	}
	saltB, err := base64.StdEncoding.DecodeString(salt)
	if err != nil || iter == 0 || !strings.HasPrefix(nonce, c.cnonce) {
		t.Fatalf("server-first %q", serverFirst)
	}
	salted, err := pbkdf2.Key(sha256.New, c.pass, saltB, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=biws,r=" + nonce
	authMsg := c.first + "," + serverFirst + "," + withoutProof
	sig := mac(stored[:], authMsg)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	c.serverSig = mac(mac(salted, "Server Key"), authMsg)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
}

var b64Elem = regexp.MustCompile(`<(challenge|success)[^>]*>([^<]*)</`)

// TestScramProofPipelinedWithRestart sends the SCRAM client-final message, the
// restarted stream header, a bind and a ping in one segment: the proof check runs on
// the loop and resets the scanner in the middle of the scan; what follows must be
// read as the new stream, once.
func TestScramProofPipelinedWithRestart(t *testing.T) {
	ts := startServer(t)
	users(ts, "scram")
	for _, oneByte := range []bool{false, true} {
		t.Run("oneByte="+strconv.FormatBool(oneByte), func(t *testing.T) {
			rc := dialRaw(t, ts.Plain)
			c := &scramClient{user: "scram", pass: "pw-scram", cnonce: "fyko+d2lbbFgONRv9qkxdawL"}
			rc.Send(streamOpen + "<auth xmlns='" + saslNS + "' mechanism='SCRAM-SHA-256'>" + base64.StdEncoding.EncodeToString([]byte(c.clientFirst())) + "</auth>")
			got := rc.ReadUntil("</challenge>")
			m := b64Elem.FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("no challenge in %q", got)
			}
			sf, _ := base64.StdEncoding.DecodeString(m[2])
			final := c.clientFinal(t, string(sf))
			rc.Buf.Reset()
			script := "<response xmlns='" + saslNS + "'>" + base64.StdEncoding.EncodeToString([]byte(final)) + "</response>" + streamOpen + bindIQ + pingIQ + pingIQ2
			if oneByte {
				for i := range len(script) {
					rc.Send(script[i : i+1])
				}
			} else {
				rc.Send(script)
			}
			rc.ReadUntil("id='p2'")
			got = rc.Next(100e6) // all of it, with anything sent twice
			inOrder(t, got, "<success", "<stream:stream", "</stream:features>", "id='b1'", "id='p1'", "id='p2'")
			m = b64Elem.FindStringSubmatch(got)
			if m == nil || m[1] != "success" {
				t.Fatalf("no additional data in <success/>: %q", got)
			}
			if want := "v=" + base64.StdEncoding.EncodeToString(c.serverSig); strings.TrimSpace(mustB64(t, m[2])) != want {
				t.Errorf("server signature %q, want %q", mustB64(t, m[2]), want)
			}
			for _, once := range []string{"<success", "id='b1'", "id='p1'", "id='p2'"} {
				if n := countOf(got, once); n != 1 {
					t.Errorf("%q answered %d times in %q", once, n, got)
				}
			}
		})
	}
}

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return string(b)
}

// TestRepliesBeforeStreamError checks that replies gathered while handling a segment
// leave before the stream error that the same segment's bad input causes, and that
// the stream then closes.
func TestRepliesBeforeStreamError(t *testing.T) {
	ts := startServer(t)
	users(ts, "order")
	tests := []struct{ name, tail, cond string }{
		{"not well-formed", "<message><body></message>", "not-well-formed"},
		{"restricted xml", "<!-- no -->", "restricted-xml"},
		{"stream end", "</stream:stream>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := rawLogin(t, ts, "order", "r")
			rc.Send(pingIQ + pingIQ2 + tt.tail + pingIQ)
			got := rc.ReadAll()
			want := []string{"id='p1'", "id='p2'"}
			if tt.cond != "" {
				want = append(want, "<stream:error><"+tt.cond)
			}
			want = append(want, "</stream:stream>")
			inOrder(t, got, want...)
			if n := countOf(got, "id='p1'"); n != 1 {
				t.Errorf("p1 answered %d times: %q", n, got)
			}
		})
	}
}
