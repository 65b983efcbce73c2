package sasl

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// runRef drives a full exchange between s and the reference client c and returns the
// first error with the step it happened at.
func runRef(t *testing.T, s Server, c *refClient) error {
	t.Helper()
	ctx := context.Background()
	out, done, err := s.Step(ctx, c.first())
	if err != nil {
		return err
	}
	if done {
		t.Fatalf("server finished after client-first")
	}
	final, err := c.final(out)
	if err != nil {
		t.Fatalf("reference client rejected server-first %q: %v", out, err)
	}
	out, done, err = s.Step(ctx, final)
	if err != nil {
		return err
	}
	if !done {
		t.Fatalf("server not done after client-final")
	}
	if err := c.verify(out); err != nil {
		t.Fatalf("server-final: %v", err)
	}
	return nil
}

func TestSCRAMExchanges(t *testing.T) {
	ks := newMemKeys()
	ks.set("juliet", "r0m30myr0m30", []byte("juliet's salt..."), 4096, allHashes...)
	ks.set("a,b=c", "pässwörd", []byte("escaped-name-slt"), 5000, allHashes...)
	a := newTestAuth(t, ks, nil)
	both := tlsConn(exporterCB, endPointCB)
	for _, tc := range []struct {
		name  string
		mech  Mechanism
		conn  *Conn
		c     refClient
		want  Condition
		wantU string
	}{
		{"SHA-1", ScramSHA1, &Conn{}, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n"}, 0, "juliet"},
		{"SHA-256", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n"}, 0, "juliet"},
		{"SHA-512", ScramSHA512, &Conn{}, refClient{hashName: "SHA-512", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n"}, 0, "juliet"},
		{"case-mapped username", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "JuLiEt", password: "r0m30myr0m30", gs2Flag: "n"}, 0, "juliet"},
		{"escaped username", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "a,b=c", password: "pässwörd", gs2Flag: "n"}, 0, "a,b=c"},
		{"authzid username", ScramSHA256, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n", authzid: "Juliet"}, 0, "juliet"},
		{"authzid bare JID", ScramSHA1, &Conn{Domain: "example.org"}, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n", authzid: "juliet@EXAMPLE.org"}, 0, "juliet"},
		{"authzid other user", ScramSHA1, &Conn{Domain: "example.org"}, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n", authzid: "romeo@example.org"}, InvalidAuthzid, ""},
		{"authzid other domain", ScramSHA1, &Conn{Domain: "example.org"}, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n", authzid: "juliet@example.com"}, InvalidAuthzid, ""},
		{"authzid JID without domain", ScramSHA1, &Conn{}, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n", authzid: "juliet@example.org"}, InvalidAuthzid, ""},
		{"PLUS exporter SHA-1", ScramSHA1Plus, both, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter", cbData: exporterCB.Data}, 0, "juliet"},
		{"PLUS exporter SHA-256", ScramSHA256Plus, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter", cbData: exporterCB.Data}, 0, "juliet"},
		{"PLUS end-point SHA-512", ScramSHA512Plus, both, refClient{hashName: "SHA-512", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-server-end-point", cbData: endPointCB.Data}, 0, "juliet"},
		{"PLUS with authzid", ScramSHA512Plus, both, refClient{hashName: "SHA-512", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter", cbData: exporterCB.Data, authzid: "juliet"}, 0, "juliet"},
		{"PLUS wrong binding data", ScramSHA256Plus, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter", cbData: endPointCB.Data}, NotAuthorized, ""},
		{"PLUS binding data missing", ScramSHA256Plus, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter"}, NotAuthorized, ""},
		{"PLUS type not on this connection", ScramSHA256Plus, tlsConn(endPointCB), refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter", cbData: exporterCB.Data}, NotAuthorized, ""},
		{"PLUS tls-unique unsupported", ScramSHA256Plus, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-unique", cbData: []byte("x")}, NotAuthorized, ""},
		{"PLUS with flag n", ScramSHA256Plus, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n"}, MalformedRequest, ""},
		{"PLUS with flag y", ScramSHA256Plus, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "y"}, MalformedRequest, ""},
		{"non-PLUS with flag p", ScramSHA256, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "p=tls-exporter", cbData: exporterCB.Data}, MalformedRequest, ""},
		{"flag y without TLS", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "y"}, 0, "juliet"},
		{"flag y on TLS without bindings", ScramSHA256, tlsConn(), refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "y"}, 0, "juliet"},
		{"flag y when PLUS was offered: downgrade", ScramSHA256, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "y"}, NotAuthorized, ""},
		{"flag n when PLUS was offered", ScramSHA256, both, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n"}, 0, "juliet"},
		{"wrong password", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet", password: "wrong", gs2Flag: "n"}, NotAuthorized, ""},
		{"unknown user", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "nobody", password: "r0m30myr0m30", gs2Flag: "n"}, NotAuthorized, ""},
		{"username with @", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet@example.org", password: "r0m30myr0m30", gs2Flag: "n"}, NotAuthorized, ""},
		{"username with space", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "jul iet", password: "r0m30myr0m30", gs2Flag: "n"}, NotAuthorized, ""},
		{"hash mismatch", ScramSHA256, &Conn{}, refClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n"}, MalformedRequest, ""},
		{"tampered nonce", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n",
			tamper: func(s string) string { return strings.Replace(s, ",r=", ",r=x", 1) }}, NotAuthorized, ""},
		{"tampered gs2 header in c=", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n",
			tamper: func(s string) string { return strings.Replace(s, "c=biws", "c=eSws", 1) }}, NotAuthorized, ""},
		{"extension after nonce is covered by the proof", ScramSHA256, &Conn{}, refClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", gs2Flag: "n",
			tamper: func(s string) string { return strings.Replace(s, ",p=", ",x=1,p=", 1) }}, NotAuthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := a.NewServer(tc.mech, tc.conn)
			if err != nil {
				t.Fatalf("NewServer: %v", err)
			}
			c := tc.c
			c.cnonce = "clientnonce+" + tc.name[:1]
			err = runRef(t, s, &c)
			if condOf(err) != tc.want || (tc.want == 0 && err != nil) {
				t.Fatalf("err = %v, want condition %q", err, tc.want)
			}
			if s.Username() != tc.wantU {
				t.Fatalf("Username() = %q, want %q", s.Username(), tc.wantU)
			}
		})
	}
}

// TestUnknownUserIndistinguishable checks that a SCRAM exchange for a user that does not
// exist looks like one for a user that does: stable salt, announced count, a nonce, and
// at the end the same failure (condition and text) as a wrong password.
func TestUnknownUserIndistinguishable(t *testing.T) {
	ks := newMemKeys()
	ks.set("juliet", "pw", []byte("0123456789abcdef"), 4096, SHA256)
	a := newTestAuth(t, ks, func(o *Options) { o.Nonce = fixedNonce("SERVERNONCE") })
	first := func(user string) string {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		out, _, err := s.Step(context.Background(), []byte("n,,n="+user+",r=abc"))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	real, ghost1, ghost2 := first("juliet"), first("romeo"), first("romeo")
	if ghost1 != ghost2 {
		t.Fatalf("fake salt not deterministic: %q vs %q", ghost1, ghost2)
	}
	if ghost1 == first("mercutio") {
		t.Fatalf("two unknown users got the same salt")
	}
	if len(real) != len(ghost1) || !strings.HasSuffix(ghost1, ",i=4096") {
		t.Fatalf("fake server-first %q does not look like real %q", ghost1, real)
	}
	// Another Authenticator with the same secret answers the same (restarts, nodes).
	b := newTestAuth(t, ks, func(o *Options) { o.Nonce = fixedNonce("SERVERNONCE") })
	s, _ := b.NewServer(ScramSHA256, &Conn{})
	out, _, _ := s.Step(context.Background(), []byte("n,,n=romeo,r=abc"))
	if string(out) != ghost1 {
		t.Fatalf("same secret, different fake salt: %q vs %q", out, ghost1)
	}

	fails := map[string]error{}
	for _, user := range []string{"juliet", "romeo"} {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		c := refClient{hashName: "SHA-256", user: user, password: "not the password", gs2Flag: "n", cnonce: "abc"}
		fails[user] = runRef(t, s, &c)
	}
	fr, fg := fails["juliet"].(*Failure), fails["romeo"].(*Failure)
	if fr.Condition != NotAuthorized || fr.Condition != fg.Condition || fr.Text != fg.Text {
		t.Fatalf("wrong password %v vs unknown user %v", fr, fg)
	}
	// Even the right password of another account cannot log in a user without one.
	s, _ = a.NewServer(ScramSHA256, &Conn{})
	c := refClient{hashName: "SHA-256", user: "romeo", password: "pw", gs2Flag: "n", cnonce: "abc"}
	if err := runRef(t, s, &c); condOf(err) != NotAuthorized {
		t.Fatalf("unknown user: %v", err)
	}
}

// TestSCRAMFailures covers every failure a SCRAM exchange can end with that does not need
// a client computing a proof.
func TestSCRAMFailures(t *testing.T) {
	errBackend := errors.New("db down")
	for _, tc := range []struct {
		name  string
		setup func(*memKeys, *Options)
		first string
		want  Condition
	}{
		{"backend error", func(k *memKeys, _ *Options) { k.err = errBackend }, "n,,n=juliet,r=abc", TemporaryAuthFailure},
		{"account disabled", func(k *memKeys, _ *Options) { k.err = &Failure{Condition: AccountDisabled} }, "n,,n=juliet,r=abc", AccountDisabled},
		{"credentials expired", func(k *memKeys, _ *Options) { k.err = &Failure{Condition: CredentialsExpired} }, "n,,n=juliet,r=abc", CredentialsExpired},
		{"corrupt keys", func(k *memKeys, _ *Options) {
			k.keys["juliet"] = map[Hash]ScramKeys{SHA256: {Salt: []byte("s"), Iterations: 4096, StoredKey: []byte("short"), ServerKey: []byte("short")}}
		}, "n,,n=juliet,r=abc", TemporaryAuthFailure},
		{"zero iterations", func(k *memKeys, _ *Options) {
			kk := DeriveKeys(SHA256, "pw", []byte("s"), 1)
			kk.Iterations = 0
			k.keys["juliet"] = map[Hash]ScramKeys{SHA256: kk}
		}, "n,,n=juliet,r=abc", TemporaryAuthFailure},
		{"nonce source error", func(_ *memKeys, o *Options) {
			o.Nonce = func() ([]byte, error) { return nil, errors.New("no entropy") }
		}, "n,,n=juliet,r=abc", TemporaryAuthFailure},
		{"nonce source returns a comma", func(_ *memKeys, o *Options) { o.Nonce = fixedNonce("a,b") }, "n,,n=juliet,r=abc", TemporaryAuthFailure},
		{"bad username escape", nil, "n,,n=jul=2Diet,r=abc", MalformedRequest},
		{"username not UTF-8", nil, "n,,n=jul\xffiet,r=abc", MalformedRequest},
		{"authzid not UTF-8", nil, "n,a=\xff,n=juliet,r=abc", MalformedRequest},
		{"empty message", nil, "", MalformedRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newMemKeys()
			ks.set("juliet", "pw", []byte("0123456789abcdef"), 4096, SHA256)
			a := newTestAuth(t, ks, func(o *Options) {
				if tc.setup != nil {
					tc.setup(ks, o)
				}
			})
			s, err := a.NewServer(ScramSHA256, &Conn{})
			if err != nil {
				t.Fatal(err)
			}
			_, done, err := s.Step(context.Background(), []byte(tc.first))
			if !done || condOf(err) != tc.want {
				t.Fatalf("done=%v err=%v, want %q", done, err, tc.want)
			}
			if tc.want == TemporaryAuthFailure && errors.Is(err, errBackend) != (ks.err == errBackend) {
				t.Fatalf("backend cause lost: %v", err)
			}
			// A failed exchange stays failed.
			_, done, err2 := s.Step(context.Background(), []byte("c=biws,r=abc,p=AAAA"))
			if !done || condOf(err2) != tc.want {
				t.Fatalf("step after failure: done=%v err=%v", done, err2)
			}
		})
	}
}

func TestSCRAMStepSequence(t *testing.T) {
	ks := newMemKeys()
	ks.set("juliet", "pw", []byte("0123456789abcdef"), 4096, SHA256)
	a := newTestAuth(t, ks, nil)
	ctx := context.Background()

	t.Run("no initial response gets an empty challenge once", func(t *testing.T) {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		out, done, err := s.Step(ctx, nil)
		if err != nil || done || out == nil || len(out) != 0 {
			t.Fatalf("out=%q done=%v err=%v", out, done, err)
		}
		if _, _, err := s.Step(ctx, nil); condOf(err) != MalformedRequest {
			t.Fatalf("second empty message: %v", err)
		}
	})
	t.Run("no initial response then full exchange", func(t *testing.T) {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		if _, _, err := s.Step(ctx, nil); err != nil {
			t.Fatal(err)
		}
		c := refClient{hashName: "SHA-256", user: "juliet", password: "pw", gs2Flag: "n", cnonce: "n0nce"}
		if err := runRef(t, s, &c); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("zero-length initial response", func(t *testing.T) {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		if _, _, err := s.Step(ctx, []byte{}); condOf(err) != MalformedRequest {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("step after success", func(t *testing.T) {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		c := refClient{hashName: "SHA-256", user: "juliet", password: "pw", gs2Flag: "n", cnonce: "n0nce"}
		if err := runRef(t, s, &c); err != nil {
			t.Fatal(err)
		}
		if _, done, err := s.Step(ctx, []byte("x")); !done || condOf(err) != MalformedRequest {
			t.Fatalf("done=%v err=%v", done, err)
		}
		if s.Username() != "juliet" {
			t.Fatalf("Username() = %q", s.Username())
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, done, err := s.Step(cctx, []byte("n,,n=juliet,r=abc"))
		if !done || condOf(err) != TemporaryAuthFailure || !errors.Is(err, context.Canceled) {
			t.Fatalf("done=%v err=%v", done, err)
		}
	})
	t.Run("final message in place of first", func(t *testing.T) {
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		if _, _, err := s.Step(ctx, []byte("c=biws,r=abc,p=AAAA")); condOf(err) != MalformedRequest {
			t.Fatalf("err = %v", err)
		}
	})
	if s, _ := a.NewServer(ScramSHA512Plus, tlsConn(exporterCB)); s.Mechanism() != ScramSHA512Plus {
		t.Fatalf("Mechanism() = %v", s.Mechanism())
	}
}
