package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// peer is the server side of a scripted exchange.
type peer struct {
	t     *testing.T
	c     net.Conn
	got   []byte
	chunk int // write in pieces of this many bytes, to exercise resumption
}

// expect reads until the client has sent sub and returns everything up to and
// including it, keeping the rest.
func (p *peer) expect(sub string) string {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if i := bytes.Index(p.got, []byte(sub)); i >= 0 {
			out := string(p.got[:i+len(sub)])
			p.got = p.got[i+len(sub):]
			return out
		}
		var b [4096]byte
		n, err := p.c.Read(b[:])
		if err != nil {
			p.t.Errorf("server: waiting for %q: %v (have %q)", sub, err, p.got)
			panic(errStop)
		}
		p.got = append(p.got, b[:n]...)
	}
}

var errStop = errors.New("script stopped")

func (p *peer) send(s string) {
	step := p.chunk
	if step <= 0 {
		step = len(s)
	}
	for i := 0; i < len(s); i += step {
		if _, err := p.c.Write([]byte(s[i:min(i+step, len(s))])); err != nil {
			p.t.Errorf("server: write: %v", err)
			panic(errStop)
		}
	}
}

// sasl returns the decoded text of the element the client sent last.
func (p *peer) saslPayload(sent string) string {
	p.t.Helper()
	gt := strings.LastIndex(sent, ">"+strings.TrimPrefix(sent[strings.LastIndex(sent, "<"):], "</"))
	_ = gt
	open := strings.LastIndex(sent, "<auth")
	if r := strings.LastIndex(sent, "<response"); r > open {
		open = r
	}
	body := sent[strings.Index(sent[open:], ">")+open+1 : strings.LastIndex(sent, "<")]
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		p.t.Errorf("server: client sent bad base64 %q", body)
	}
	return string(b)
}

const (
	srvHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0' xml:lang='en'>"
	mechs     = "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism><mechanism>PLAIN</mechanism></mechanisms>"
	bindFeats = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>"
)

// serve runs script on the first connection to a fresh loopback listener.
func serve(t *testing.T, script func(p *peer)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		defer func() {
			if r := recover(); r != nil && r != errStop {
				panic(r)
			}
		}()
		script(&peer{t: t, c: c})
	}()
	return ln.Addr().String()
}

// bindAndSync answers the restarted stream, bind, presence and the sync ping.
func bindAndSync(p *peer, feats, jid string) {
	p.expect("xmlns:stream='http://etherx.jabber.org/streams'>")
	p.send(srvHeader + feats)
	req := p.expect("</iq>")
	if !strings.Contains(req, "<resource>r1</resource>") {
		p.t.Errorf("bind request %q", req)
	}
	p.send("<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" + jid + "</jid></bind></iq>")
	if strings.Contains(feats, "xmpp-session'/>") {
		p.expect("xmpp-session'/></iq>")
		p.send("<iq type='result' id='sess1'/>")
	}
	p.expect("<presence/>")
	// The server's echo of our own presence comes before the ping answer: Sync skips it.
	p.send("<presence from='" + jid + "' to='" + jid + "'/>")
	ping := p.expect("</iq>")
	id := string(Attr([]byte(ping[strings.Index(ping, "<iq"):]), "id"))
	if !strings.Contains(ping, "urn:xmpp:ping") || id == "" {
		p.t.Errorf("ping %q", ping)
	}
	p.send("<iq type='result' id=\"" + id + "\" from='localhost'/>")
}

func TestLoginPlainOneByteChunks(t *testing.T) {
	for _, sessionRequired := range []bool{false, true} {
		feats := bindFeats
		if sessionRequired {
			feats = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>"
		}
		addr := serve(t, func(p *peer) {
			p.chunk = 1
			p.expect("xmlns:stream='http://etherx.jabber.org/streams'>")
			p.send(srvHeader + "<stream:features>" + mechs + "</stream:features>")
			if got := p.saslPayload(p.expect("</auth>")); got != "\x00alice\x00secret" {
				t.Errorf("PLAIN payload %q", got)
			}
			p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
			bindAndSync(p, feats, "alice@localhost/r1")
			p.expect("</stream:stream>")
			p.send("</stream:stream>")
		})
		o := &Options{Addr: addr, Domain: "localhost", Mech: PLAIN, Resource: "r1", Presence: true, Sync: true, Timeout: 5 * time.Second}
		c, err := Login(context.Background(), o, net.IPv4(127, 0, 0, 1), "alice", "secret")
		if err != nil {
			t.Fatal(err)
		}
		if c.JID() != "alice@localhost/r1" {
			t.Errorf("JID %q", c.JID())
		}
		if err := c.Close(2 * time.Second); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

func TestLoginScramRFC7677(t *testing.T) {
	cases := []struct {
		name       string
		final      func(p *peer)
		wantErr    string
		chunk      int
		serverSays string
	}{
		{name: "final in success", final: func(p *peer) {
			p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(rfcServerFinal)) + "</success>")
		}},
		{name: "final as challenge", chunk: 3, final: func(p *peer) {
			p.send("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(rfcServerFinal)) + "</challenge>")
			p.expect("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
			p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
		}},
		{name: "forged server signature", wantErr: "does not verify", final: func(p *peer) {
			p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")) + "</success>")
		}},
		{name: "failure", wantErr: "not-authorized", final: func(p *peer) {
			p.send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, func(p *peer) {
				p.chunk = tc.chunk
				p.expect("xmlns:stream='http://etherx.jabber.org/streams'>")
				p.send(srvHeader + "<stream:features>" + mechs + "</stream:features>")
				if got := p.saslPayload(p.expect("</auth>")); got != "n,,n=user,r="+rfcNonce {
					t.Errorf("client-first %q", got)
				}
				p.send("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(rfcServerFirst)) + "</challenge>")
				if got := p.saslPayload(p.expect("</response>")); got != rfcClientFinal {
					t.Errorf("client-final %q", got)
				}
				tc.final(p)
				if tc.wantErr == "" {
					bindAndSync(p, bindFeats, "user@localhost/r1")
				}
			})
			o := &Options{Addr: addr, Domain: "localhost", Mech: SCRAMSHA256, Resource: "r1", Presence: true, Sync: true,
				Timeout: 5 * time.Second, Cache: &ScramCache{}, nonce: rfcNonce}
			c, err := Login(context.Background(), o, nil, "user", "pencil")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.Abort()
		})
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestLoginStartTLS(t *testing.T) {
	cert := selfSigned(t)
	addr := serve(t, func(p *peer) {
		p.expect("xmlns:stream='http://etherx.jabber.org/streams'>")
		p.send(srvHeader + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
		p.expect("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
		p.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
		tc := tls.Server(p.c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err := tc.Handshake(); err != nil {
			t.Errorf("server handshake: %v", err)
			return
		}
		p.c, p.got = tc, nil
		p.expect("xmlns:stream='http://etherx.jabber.org/streams'>")
		p.send(srvHeader + "<stream:features>" + mechs + "</stream:features>")
		p.expect("</auth>")
		p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
		bindAndSync(p, bindFeats, "bob@localhost/r1")
		// A message after login reaches ReadStanza.
		p.send("<message from='x@localhost/a' to='bob@localhost/r1' type='chat'><body>123 456</body></message>")
		p.expect("</stream:stream>")
		p.send("</stream:stream>")
	})
	o := &Options{Addr: addr, Domain: "localhost", StartTLS: true, Mech: PLAIN, Resource: "r1", Presence: true, Sync: true, Timeout: 5 * time.Second}
	c, err := Login(context.Background(), o, nil, "bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	c.Compact() // as the idle scenario does; reading must go on after it
	s, err := c.ReadStanza()
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Name) != "message" || string(Text(s.Raw, "body")) != "123 456" {
		t.Fatalf("got %s", s.Raw)
	}
	if err := c.Close(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestLoginErrors(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		script  func(p *peer)
		wantErr string
	}{
		{"stream error", Options{}, func(p *peer) {
			p.expect(">")
			p.send(srvHeader + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
		}, "host-unknown"},
		{"no starttls", Options{StartTLS: true}, func(p *peer) {
			p.expect(">")
			p.send(srvHeader + "<stream:features>" + mechs + "</stream:features>")
		}, "does not offer STARTTLS"},
		{"mechanism missing", Options{Mech: SCRAMSHA256}, func(p *peer) {
			p.expect(">")
			p.send(srvHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
		}, "does not offer SCRAM-SHA-256"},
		{"not a stream", Options{}, func(p *peer) {
			p.expect(">")
			p.send("<html xmlns='http://www.w3.org/1999/xhtml'>")
		}, "not a stream"},
		{"closed early", Options{}, func(p *peer) { p.expect(">") }, "closed"},
		{"bind refused", Options{}, func(p *peer) {
			p.expect(">")
			p.send(srvHeader + "<stream:features>" + mechs + "</stream:features>")
			p.expect("</auth>")
			p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
			p.expect("streams'>")
			p.send(srvHeader + bindFeats)
			p.expect("</iq>")
			p.send("<iq type='error' id='bind1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
		}, "conflict"},
		{"timeout", Options{Timeout: 300 * time.Millisecond}, func(p *peer) {
			p.expect(">")
			time.Sleep(time.Second)
		}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, tc.script)
			o := tc.opts
			o.Addr, o.Domain, o.Resource = addr, "localhost", "r1"
			if o.Timeout == 0 {
				o.Timeout = 5 * time.Second
			}
			c, err := Login(context.Background(), &o, nil, "u", "p")
			if err == nil {
				c.Abort()
				t.Fatal("login succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestAttrAndText(t *testing.T) {
	attrs := []struct{ raw, name, want string }{
		{`<iq type='result' id='p1'/>`, "id", "p1"},
		{`<iq xid='no' id="yes">`, "id", "yes"},
		{`<iq type='result'><x id='child'/></iq>`, "id", ""},
		{`<message to='a@b/c' from='d@e/f'>`, "from", "d@e/f"},
		{`<message to='a'`, "to", ""},
		{`<message to=x>`, "to", ""},
		{`<message to='x'>`, "", ""}, // found by FuzzAttrText: an empty name looped forever
	}
	for _, a := range attrs {
		if got := string(Attr([]byte(a.raw), a.name)); got != a.want {
			t.Errorf("Attr(%s, %s) = %q, want %q", a.raw, a.name, got, a.want)
		}
	}
	texts := []struct {
		raw, child, want string
		isNil            bool
	}{
		{`<message><bodyx>no</bodyx><body>yes</body></message>`, "body", "yes", false},
		{`<message><body xml:lang='en'>hi</body></message>`, "body", "hi", false},
		{`<iq><bind><jid>a@b/c</jid></bind></iq>`, "jid", "a@b/c", false},
		{`<message><body/></message>`, "body", "", false},
		{`<message><subject>x</subject></message>`, "body", "", true},
		{`<message><body`, "body", "", true},
	}
	for _, tc := range texts {
		got := Text([]byte(tc.raw), tc.child)
		if string(got) != tc.want || (got == nil) != tc.isNil {
			t.Errorf("Text(%s, %s) = %q (nil %v), want %q (nil %v)", tc.raw, tc.child, got, got == nil, tc.want, tc.isNil)
		}
	}
}

// A read that ends anywhere, inside a start tag's attributes included, must not break
// the stream: the buffer is compacted (Scanner.Shift) at every cut. xmlscan before
// cc8b9ba lost the attribute being scanned on a Shift and failed this at cut 71.
func TestReadsCutAnywhere(t *testing.T) {
	in := srvHeader + "<stream:features>" + mechs + "</stream:features>" +
		"<message from='a@b/c' to='d@e/f' type='chat' id='m1'><body>42</body></message>"
	for cut := 1; cut < len(in); cut++ {
		client, server := net.Pipe()
		go func() {
			_, _ = server.Write([]byte(in[:cut]))
			_, _ = server.Write([]byte(in[cut:]))
			server.Close()
		}()
		c := &Conn{rw: client, sc: newConn(nil, "localhost").sc, buf: make([]byte, 0, 16)}
		if err := c.readHeader(); err != nil {
			t.Fatalf("cut %d: header: %v", cut, err)
		}
		var names []string
		for {
			s, err := c.ReadStanza()
			if err != nil {
				if !errors.Is(err, ErrStreamClosed) {
					t.Fatalf("cut %d: %v", cut, err)
				}
				break
			}
			names = append(names, string(s.Name))
		}
		if strings.Join(names, ",") != "features,message" {
			t.Fatalf("cut %d: stanzas %v", cut, names)
		}
		client.Close()
	}
}

func TestCloseWithoutWaiting(t *testing.T) {
	got := make(chan string, 1)
	addr := serve(t, func(p *peer) {
		p.expect("xmlns:stream='http://etherx.jabber.org/streams'>")
		p.send(srvHeader + "<stream:features>" + mechs + "</stream:features>")
		p.expect("</auth>")
		p.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
		p.expect("streams'>")
		p.send(srvHeader + bindFeats)
		p.expect("</iq>")
		p.send("<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>u@localhost/r1</jid></bind></iq>")
		got <- p.expect("</stream:stream>")
		// The server never answers: the client must not wait for it.
		time.Sleep(700 * time.Millisecond)
	})
	c, err := Login(context.Background(), &Options{Addr: addr, Domain: "localhost", Resource: "r1", Timeout: 5 * time.Second}, nil, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := c.Close(0); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 500*time.Millisecond {
		t.Fatalf("Close(0) took %v", d)
	}
	select {
	case <-got:
	case <-time.After(3 * time.Second):
		t.Fatal("the server never saw </stream:stream>")
	}
}
