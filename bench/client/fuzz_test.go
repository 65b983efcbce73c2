package client

import (
	"bytes"
	"testing"
)

// FuzzScramServerFirst feeds arbitrary server-first-messages to the SCRAM client: it
// must never panic, and an accepted message must carry our nonce and a positive,
// bounded iteration count.
func FuzzScramServerFirst(f *testing.F) {
	f.Add([]byte(rfcServerFirst))
	f.Add([]byte("r=" + rfcNonce + "x,s=QSXCR+Q6sek8bf92,i=1"))
	f.Add([]byte("m=x,r=" + rfcNonce + "x,s=AA==,i=4096"))
	f.Add([]byte("r=,s=,i="))
	f.Add([]byte(",,,"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sc, err := newScramClient("user", "pencil", nil, rfcNonce)
		if err != nil {
			t.Fatal(err)
		}
		// Keep PBKDF2 cheap whatever the input asks: the bound itself is tested elsewhere.
		if bytes.Contains(in, []byte("i=")) && !bytes.Contains(in, []byte("i=1,")) && !bytes.HasSuffix(in, []byte("i=1")) {
			return
		}
		out, err := sc.final(in)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out, []byte("c=biws,r="+rfcNonce)) || !bytes.Contains(out, []byte(",p=")) {
			t.Fatalf("accepted %q, answered %q", in, out)
		}
		_ = sc.verify(in)
	})
}

// FuzzAttrText runs the raw-stanza helpers over arbitrary bytes: no panic, and results
// are always sub-slices of the input.
func FuzzAttrText(f *testing.F) {
	f.Add([]byte(`<message from='a@b/c' to="d@e" id='m1'><body>hb 1 2</body></message>`), "id", "body")
	f.Add([]byte(`<iq type='result'><bind><jid>a@b/c</jid></bind></iq>`), "type", "jid")
	f.Add([]byte(`<x a='`), "a", "x")
	f.Add([]byte(`<body/>`), "", "body")
	f.Fuzz(func(t *testing.T, raw []byte, name, child string) {
		within := func(sub []byte) bool {
			if len(sub) == 0 {
				return true
			}
			for i := 0; i+len(sub) <= len(raw); i++ {
				if &raw[i] == &sub[0] {
					return true
				}
			}
			return false
		}
		if a := Attr(raw, name); !within(a) {
			t.Fatalf("Attr(%q, %q) = %q: not part of the input", raw, name, a)
		}
		if x := Text(raw, child); !within(x) {
			t.Fatalf("Text(%q, %q) = %q: not part of the input", raw, child, x)
		}
	})
}
