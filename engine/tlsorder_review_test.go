package engine_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// starttlsConn sends <starttls/> in the same segment as the ClientHello, and
// checks that <proceed/> arrives in the clear before the server's first TLS record.
type starttlsConn struct {
	net.Conn
	t      *testing.T
	prefix []byte
	r      *bufio.Reader
	clear  bool // <proceed/> has been read
}

const proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"

func (c *starttlsConn) Write(b []byte) (int, error) {
	if c.prefix != nil {
		out := append(c.prefix, b...)
		c.prefix = nil
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *starttlsConn) Read(p []byte) (int, error) {
	if !c.clear {
		got := make([]byte, len(proceed))
		if _, err := io.ReadFull(c.r, got); err != nil {
			return 0, err
		}
		if string(got) != proceed {
			c.t.Errorf("before the TLS records: %q, want %q", got, proceed)
		}
		c.clear = true
	}
	return c.r.Read(p)
}

// TestTLSOrderPipelined checks the order of bytes around TLS: <proceed/> in the
// clear before the handshake (with the ClientHello sent in the same segment as
// <starttls/>), then a whole login pipelined in one TLS write, answered once and in
// order, and at the end the closing tag before close_notify. Direct TLS too.
func TestTLSOrderPipelined(t *testing.T) {
	ts := startServer(t)
	users(ts, "tlsorder")
	cred := base64.StdEncoding.EncodeToString([]byte("\x00tlsorder\x00pw-tlsorder"))
	login := streamOpen + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + cred + "</auth>" +
		streamOpen + bindIQ + pingIQ + pingIQ2
	for _, direct := range []bool{false, true} {
		name := "starttls"
		if direct {
			name = "direct"
		}
		t.Run(name, func(t *testing.T) {
			var tc *tls.Conn
			cfg := clientTLS()
			if direct {
				cfg.NextProtos = []string{"xmpp-client"}
				raw, err := net.DialTimeout("tcp", ts.Direct, 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { raw.Close() })
				tc = tls.Client(raw, cfg)
			} else {
				rc := dialRaw(t, ts.C2S)
				rc.Send(streamOpen)
				rc.ReadUntil("</stream:features>")
				// The Raw's reader may not have read past the features: nothing follows
				// them until the client speaks.
				tc = tls.Client(&starttlsConn{Conn: rc.Conn, t: t, prefix: []byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), r: bufio.NewReader(rc.Conn)}, cfg)
			}
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc.Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if _, err := io.WriteString(tc, login); err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			buf := make([]byte, 4096)
			for !strings.Contains(got.String(), "id='p2'") {
				n, err := tc.Read(buf)
				got.Write(buf[:n])
				if err != nil {
					t.Fatalf("read: %v; got %q", err, got.String())
				}
			}
			if _, err := io.WriteString(tc, pingIQ+"</stream:stream>"); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(tc) // ends with close_notify: io.EOF, no error
			got.Write(rest)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Errorf("end of stream: %v (want close_notify after the closing tag)", err)
			}
			s := got.String()
			inOrder(t, s, "</stream:features>", "<success", "<stream:stream", "</stream:features>", "id='b1'", "id='p1'", "id='p2'", "id='p1'", "</stream:stream>")
			if !strings.HasSuffix(s, "</stream:stream>") {
				t.Errorf("after the closing tag: %q", s[strings.LastIndex(s, "</stream:stream>"):])
			}
			if n := countOf(s, "<success"); n != 1 {
				t.Errorf("%d <success/>", n)
			}
		})
	}
}
