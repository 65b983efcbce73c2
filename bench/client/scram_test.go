package client

import (
	"strings"
	"testing"
)

// The example exchange of RFC 7677 section 3.
const (
	rfcNonce       = "rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func TestScramRFC7677(t *testing.T) {
	var cache ScramCache
	for round := 0; round < 2; round++ { // the second round uses the cached keys
		sc, err := newScramClient("user", "pencil", &cache, rfcNonce)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(sc.first()); got != "n,,n=user,r="+rfcNonce {
			t.Fatalf("client-first %q", got)
		}
		final, err := sc.final([]byte(rfcServerFirst))
		if err != nil {
			t.Fatal(err)
		}
		if string(final) != rfcClientFinal {
			t.Fatalf("round %d: client-final\n got %s\nwant %s", round, final, rfcClientFinal)
		}
		if err := sc.verify([]byte(rfcServerFinal)); err != nil {
			t.Fatal(err)
		}
		if err := sc.verify([]byte("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err == nil {
			t.Fatal("wrong server signature verified")
		}
	}
	if cache.Len() != 1 {
		t.Fatalf("cache holds %d key sets, want 1", cache.Len())
	}
}

func TestScramRejectsBadServerFirst(t *testing.T) {
	cases := map[string]string{
		"foreign nonce":    "r=XXXX%hv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"nonce not longer": "r=" + rfcNonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"bad salt":         "r=" + rfcNonce + "x,s=***,i=4096",
		"no salt":          "r=" + rfcNonce + "x,i=4096",
		"zero iterations":  "r=" + rfcNonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
		"huge iterations":  "r=" + rfcNonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999",
		"extension":        "m=ext,r=" + rfcNonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"malformed":        "garbage",
	}
	for name, in := range cases {
		sc, _ := newScramClient("user", "pencil", nil, rfcNonce)
		if _, err := sc.final([]byte(in)); err == nil {
			t.Errorf("%s: %q accepted", name, in)
		}
	}
	sc, _ := newScramClient("user", "pencil", nil, rfcNonce)
	if err := sc.verify([]byte("e=invalid-proof")); err == nil || !strings.Contains(err.Error(), "invalid-proof") {
		t.Errorf("server error not reported: %v", err)
	}
	if err := sc.verify([]byte("v=AAAA")); err == nil {
		t.Error("verify before final accepted")
	}
}

func TestScramEscapesName(t *testing.T) {
	sc, _ := newScramClient("a=b,c", "p", nil, "n")
	if got := string(sc.first()); got != "n,,n=a=3Db=2Cc,r=n" {
		t.Fatalf("client-first %q", got)
	}
}
