package sasl

import (
	"strings"
	"testing"
)

func TestParseClientFirst(t *testing.T) {
	for _, tc := range []struct {
		in                                   string
		flag                                 byte
		cb, authz, user, nonce, header, bare string
	}{
		{"n,,n=user,r=abc", 'n', "", "", "user", "abc", "n,,", "n=user,r=abc"},
		{"y,,n=user,r=abc", 'y', "", "", "user", "abc", "y,,", "n=user,r=abc"},
		{"p=tls-exporter,,n=user,r=abc", 'p', "tls-exporter", "", "user", "abc", "p=tls-exporter,,", "n=user,r=abc"},
		{"p=tls-server-end-point,a=me,n=user,r=abc", 'p', "tls-server-end-point", "me", "user", "abc", "p=tls-server-end-point,a=me,", "n=user,r=abc"},
		{"n,a=a=2Cb=3D,n=a=2Cb,r=!~", 'n', "", "a=2Cb=3D", "a=2Cb", "!~", "n,a=a=2Cb=3D,", "n=a=2Cb,r=!~"},
		{"n,,n=user,r=abc,x=ext,Y=more=", 'n', "", "", "user", "abc", "n,,", "n=user,r=abc,x=ext,Y=more="},
		{"n,,n=ü,r=abc", 'n', "", "", "ü", "abc", "n,,", "n=ü,r=abc"},
	} {
		m, f := parseClientFirst([]byte(tc.in))
		if f != nil {
			t.Errorf("%q: %v", tc.in, f)
			continue
		}
		if m.flag != tc.flag || string(m.cbName) != tc.cb || string(m.authzid) != tc.authz || string(m.user) != tc.user ||
			string(m.nonce) != tc.nonce || string(m.gs2Header) != tc.header || string(m.bare) != tc.bare {
			t.Errorf("%q: got flag %c cb %q authz %q user %q nonce %q header %q bare %q", tc.in,
				m.flag, m.cbName, m.authzid, m.user, m.nonce, m.gs2Header, m.bare)
		}
		if (m.authzid == nil) != (tc.authz == "") {
			t.Errorf("%q: absent authzid must be nil, present non-nil", tc.in)
		}
	}
}

// TestParseClientFirstMalformed lists every way RFC 5802's grammar can be broken in a
// client-first-message; each must be malformed-request.
func TestParseClientFirstMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"n",
		"n,",
		"n,,",
		"x,,n=user,r=abc",
		"N,,n=user,r=abc",
		"nn,,n=user,r=abc",
		",,n=user,r=abc",
		"p,,n=user,r=abc",
		"p=,,n=user,r=abc",
		"p=tls_unique,,n=user,r=abc",
		"p=tls exporter,,n=user,r=abc",
		"p=tls-exporter",
		"n,x=me,n=user,r=abc",
		"n,a=,n=user,r=abc",
		"n,a=b=2D,n=user,r=abc",
		"n,a=me",
		"n,,m=ext,n=user,r=abc",
		"n,,r=abc,n=user",
		"n,,n=,r=abc",
		"n,,n=us=er,r=abc",
		"n,,n=us=2,r=abc",
		"n,,n=us=2c,r=abc",
		"n,,n=us\x00er,r=abc",
		"n,,n=user",
		"n,,n=user,",
		"n,,n=user,r=",
		"n,,n=user,r=a b",
		"n,,n=user,r=a\x7f",
		"n,,n=user,r=\xc3\xbc",
		"n,,n=user,nonce=abc",
		"n,,n=user,r=abc,",
		"n,,n=user,r=abc,x",
		"n,,n=user,r=abc,x=",
		"n,,n=user,r=abc,1=x",
		"n,,n=user,r=abc,m=x",
		"n,,n=user,r=abc,r=again",
		"n,,n=user,r=abc,p=proof",
		"n,,n=user,r=abc,x=a\x00b",
		"n,,n=user,r=abc,,x=y",
		"n,,n=user,r=" + strings.Repeat("a", maxClientMessage),
	} {
		if _, f := parseClientFirst([]byte(in)); f == nil || f.Condition != MalformedRequest {
			t.Errorf("%q: got %v, want malformed-request", in, f)
		}
	}
}

func TestParseClientFinal(t *testing.T) {
	for _, tc := range []struct{ in, cb, nonce, proof, without string }{
		{"c=biws,r=abc,p=dGVzdA==", "biws", "abc", "dGVzdA==", "c=biws,r=abc"},
		{"c=biws,r=abc,x=1,p=dGVzdA==", "biws", "abc", "dGVzdA==", "c=biws,r=abc,x=1"},
		{"c=cD10bHMtZXhwb3J0ZXIsLA==,r=a+b/c,p=AAAA", "cD10bHMtZXhwb3J0ZXIsLA==", "a+b/c", "AAAA", "c=cD10bHMtZXhwb3J0ZXIsLA==,r=a+b/c"},
	} {
		m, f := parseClientFinal([]byte(tc.in))
		if f != nil {
			t.Errorf("%q: %v", tc.in, f)
			continue
		}
		if string(m.cbind) != tc.cb || string(m.nonce) != tc.nonce || string(m.proof) != tc.proof || string(m.withoutProof) != tc.without {
			t.Errorf("%q: got cb %q nonce %q proof %q without %q", tc.in, m.cbind, m.nonce, m.proof, m.withoutProof)
		}
	}
}

func TestParseClientFinalMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"c=biws,r=abc",
		"c=biws,r=abc,p=",
		"c=biws,r=abc,p=dGVzdA",
		"c=biws,r=abc,p=dGVz\ndA==",
		"c=biws,r=abc,p=dGVzdA=a",
		"c=biws,r=abc,p=d*VzdA==",
		"c=biws,r=abc,p=dGVzdA==,x=1",
		"r=abc,c=biws,p=dGVzdA==",
		"c=,r=abc,p=dGVzdA==",
		"c=bi,r=abc,p=dGVzdA==",
		"c=bi\r\nws,r=abc,p=dGVzdA==",
		"c=biws,p=dGVzdA==",
		"c=biws,r=,p=dGVzdA==",
		"c=biws,r=a b,p=dGVzdA==",
		"c=biws,n=abc,p=dGVzdA==",
		"c=biws,r=abc,,p=dGVzdA==",
		"c=biws,r=abc,m=1,p=dGVzdA==",
		"c=biws,r=abc,p=AAAA,p=dGVzdA==",
		"c=biws,r=abc,r=abc,p=dGVzdA==",
		"c=biws,r=abc,7=x,p=dGVzdA==",
		"x=1,c=biws,r=abc,p=dGVzdA==",
		"c=biws,r=abc,p=" + strings.Repeat("AAAA", maxClientMessage/4),
	} {
		if _, f := parseClientFinal([]byte(in)); f == nil || f.Condition != MalformedRequest {
			t.Errorf("%q: got %v, want malformed-request", in, f)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"biws", "n,,", true},
		{"dGVzdA==", "test", true},
		{"dGVzdB==", "", false}, // non-zero padding bits: not canonical
		{"dA=a", "", false},
	} {
		got, ok := decodeBase64([]byte("x"), []byte(tc.in))
		if ok != tc.ok || (ok && string(got) != "x"+tc.want) {
			t.Errorf("%q: %q %v", tc.in, got, ok)
		}
	}
}
