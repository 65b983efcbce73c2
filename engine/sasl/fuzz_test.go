package sasl

import (
	"bytes"
	"context"
	"testing"
)

// FuzzParseClientFirst checks that the client-first parser never panics and that what it
// accepts decomposes the input exactly and satisfies the grammar it claims to enforce.
func FuzzParseClientFirst(f *testing.F) {
	for _, s := range []string{
		"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"y,,n=user,r=abc",
		"p=tls-exporter,a=juliet,n=juliet,r=abc,x=ext",
		"n,a=a=2Cb,n=a=3Db,r=!~",
		"n,,m=x,n=user,r=abc",
		"p=,,n=user,r=abc",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, fl := parseClientFirst(in)
		if fl != nil {
			if fl.Condition != MalformedRequest {
				t.Fatalf("condition %v", fl.Condition)
			}
			return
		}
		if !bytes.Equal(append(append([]byte(nil), m.gs2Header...), m.bare...), in) {
			t.Fatalf("header %q + bare %q != input %q", m.gs2Header, m.bare, in)
		}
		switch m.flag {
		case 'n', 'y':
			if len(m.cbName) != 0 {
				t.Fatalf("cb name with flag %c", m.flag)
			}
		case 'p':
			if !validCBName(m.cbName) {
				t.Fatalf("invalid cb name %q accepted", m.cbName)
			}
		default:
			t.Fatalf("flag %q", m.flag)
		}
		if !validSaslname(m.user) || !validNonce(m.nonce) || (m.authzid != nil && !validSaslname(m.authzid)) {
			t.Fatalf("accepted invalid fields: %+v", m)
		}
		if !bytes.HasPrefix(m.bare, []byte("n=")) {
			t.Fatalf("bare %q", m.bare)
		}
	})
}

// FuzzParseClientFinal does the same for client-final-message.
func FuzzParseClientFinal(f *testing.F) {
	for _, s := range []string{
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"c=cD10bHMtZXhwb3J0ZXIsLA==,r=abc,x=1,p=AAAA",
		"c=biws,r=abc,p=dGVzdA=a",
		"c=biws,r=abc,p=AAAA,p=AAAA",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, fl := parseClientFinal(in)
		if fl != nil {
			if fl.Condition != MalformedRequest {
				t.Fatalf("condition %v", fl.Condition)
			}
			return
		}
		rebuilt := append(append(append([]byte(nil), m.withoutProof...), ",p="...), m.proof...)
		if !bytes.Equal(rebuilt, in) {
			t.Fatalf("without-proof %q + proof %q != input %q", m.withoutProof, m.proof, in)
		}
		if !validBase64(m.cbind) || !validBase64(m.proof) || !validNonce(m.nonce) {
			t.Fatalf("accepted invalid fields: %+v", m)
		}
		if !bytes.HasPrefix(m.withoutProof, []byte("c=")) {
			t.Fatalf("without-proof %q", m.withoutProof)
		}
	})
}

// FuzzSCRAMServer feeds arbitrary client-first and client-final messages to a SCRAM-PLUS
// capable server: it must never panic, must fail with a *Failure of a condition SCRAM can
// produce, and must never accept a proof for the user it has no keys for.
func FuzzSCRAMServer(f *testing.F) {
	f.Add([]byte("n,,n=user,r=abc"), []byte("c=biws,r=abcSNONCE,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	f.Add([]byte("p=tls-exporter,,n=ghost,r=abc"), []byte("c=cD10bHMtZXhwb3J0ZXIsLA==,r=abcSNONCE,p=AAAA"))
	f.Add([]byte("y,a=user,n=user,r=abc"), []byte("c=eSxhPXVzZXIs,r=abcSNONCE,p=AAAA"))
	ks := newMemKeys()
	ks.set("user", "pencil", []byte("0123456789abcdef"), 1, SHA256)
	a := newTestAuth(f, ks, func(o *Options) { o.Nonce = fixedNonce("SNONCE"); o.Iterations = 1 })
	conn := tlsConn(exporterCB, endPointCB)
	f.Fuzz(func(t *testing.T, first, final []byte) {
		for _, m := range []Mechanism{ScramSHA256, ScramSHA256Plus} {
			s, err := a.NewServer(m, conn)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, done, err := s.Step(ctx, first)
			if err != nil {
				checkSCRAMFailure(t, err, done)
				continue
			}
			_, done, err = s.Step(ctx, final)
			if err != nil {
				checkSCRAMFailure(t, err, done)
				continue
			}
			if !done || s.Username() != "user" {
				t.Fatalf("accepted without done or for %q", s.Username())
			}
		}
	})
}

func checkSCRAMFailure(t *testing.T, err error, done bool) {
	t.Helper()
	switch condOf(err) {
	case MalformedRequest, NotAuthorized, InvalidAuthzid:
	default:
		t.Fatalf("unexpected failure %v", err)
	}
	if !done {
		t.Fatal("failure without done")
	}
}
