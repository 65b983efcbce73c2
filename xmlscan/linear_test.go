package xmlscan

import (
	"errors"
	"strings"
	"testing"
)

// TestLinearWork feeds 64 KiB stanzas of several shapes one byte at a time
// and checks, with the scanner's count of bytes examined, that the work is
// linear in the input: a scanner that rescanned the partial token on every
// read would examine about size²/2 bytes here (2 GiB), not a few times size.
func TestLinearWork(t *testing.T) {
	const size = 64 << 10
	fill := func(unit string) string { return strings.Repeat(unit, size/len(unit)) }
	manyAttrs := func() string {
		var b strings.Builder
		for i := 0; i < 60; i++ {
			b.WriteString(" a" + itoa(i) + "='" + strings.Repeat("v", size/64) + "'")
		}
		return b.String()
	}
	shapes := []struct {
		name    string
		stanza  string
		perByte int64 // bytes examined per input byte allowed
	}{
		{"long text", "<message><body>" + fill("hello world ") + "</body></message>", 2},
		{"entities", "<message><body>" + fill("&amp;&lt;&#x263A;&#9731;x") + "</body></message>", 2},
		{"brackets", "<message><body>" + fill("]] ]>") + "</body></message>", 2},
		{"unicode text", "<message><body>" + fill("日本語😀é") + "</body></message>", 4},
		{"long attribute", "<message to='" + fill("abc&amp;") + "'/>", 2},
		{"many attributes", "<message" + manyAttrs() + "/>", 2},
		{"long name", "<message><" + fill("n") + "/></message>", 2},
		{"many elements", "<iq><query xmlns='jabber:iq:roster'>" + fill("<item jid='a@b' name='x'/>") + "</query></iq>", 3},
		{"nesting and namespaces", "<iq>" + fill("<a xmlns:p='urn:p'><p:b/></a>") + "</iq>", 3},
		{"cdata", "<message><body><![CDATA[" + fill("x]]y<>&") + "]]></body></message>", 2},
		{"char ref with zeros", "<message><body>&#x" + fill("0") + "41;</body></message>", 2},
		{"whitespace between stanzas", fill(" \n"), 2},
	}
	lim := Limits{MaxNameLen: size + 10, MaxStanzaBytes: 2 * size, MaxAttrs: 64}
	for _, sh := range shapes {
		for _, next := range []struct {
			name string
			f    func(*Scanner, []byte) (Token, error)
		}{{"Next", (*Scanner).Next}, {"NextStanza", (*Scanner).NextStanza}} {
			t.Run(sh.name+"/"+next.name, func(t *testing.T) {
				in := []byte(smallHeader + sh.stanza)
				s := New(lim)
				buf := make([]byte, 0, len(in))
				tokens := 0
				for i := range in {
					buf = append(buf, in[i])
					for {
						_, err := next.f(s, buf)
						if errors.Is(err, ErrNeedMore) {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						tokens++
					}
				}
				if tokens < 2 {
					t.Fatalf("only %d tokens", tokens)
				}
				limit := sh.perByte*int64(len(in)) + 64
				if s.work > limit || s.work < int64(len(in))-64 {
					t.Fatalf("examined %d bytes for %d input bytes (allowed %d)", s.work, len(in), limit)
				}
				t.Logf("%d bytes examined for %d input bytes", s.work, len(in))
			})
		}
	}
}
