package xmlscan

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// chunkingInputs are streams whose tokens and errors must not depend on how
// the bytes are split into reads.
func chunkingInputs() map[string]struct {
	in  []byte
	lim Limits
} {
	return map[string]struct {
		in  []byte
		lim Limits
	}{
		"login":     {[]byte(loginStream), Limits{}},
		"generated": {genStream(7, 3, true), Limits{}},
		"framed": {[]byte("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>" +
			"<message xmlns='jabber:client'><body>a &amp; b 😀</body></message> <close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"), Limits{Framed: true}},
		"references":   {[]byte(streamHeader + "<a x='&#x0000000041;&amp;&lt;'>&#0000065;&quot;]]&gt;&apos;&#x1F600;</a>&amp;&#65;  "), Limits{}},
		"error late":   {[]byte(loginStream[:300] + "<a><b></a>"), Limits{}},
		"error entity": {[]byte(streamHeader + "<message><body>x &nbsp; y</body></message>"), Limits{}},
		"error utf8":   {[]byte(streamHeader + "<message><body>x \xe6\x97 y</body></message>"), Limits{}},
		"error limit": {[]byte(streamHeader + "<message><body>" + strings.Repeat("é", 100) + "</body></message>"),
			Limits{MaxStanzaBytes: 120}},
		"error name limit": {[]byte(streamHeader + "<message><" + strings.Repeat("é", 20) + "/></message>"),
			Limits{MaxNameLen: 25}},
		"error control between stanzas":   {[]byte(streamHeader + "<a/> ok \x17"), Limits{}},
		"error cdata end between stanzas": {[]byte(streamHeader + "<a/> ab]]>"), Limits{}},
		"error entity between stanzas":    {[]byte(streamHeader + "<a/> ab&foo; "), Limits{}},
		"error utf8 between stanzas":      {[]byte(streamHeader + "<a/> é\xe9 "), Limits{}},
		"text between stanzas limited": {[]byte("<s xmlns='jabber:client'><a/>" + strings.Repeat(" x&amp;é", 40) + "<b/>"),
			Limits{MaxStanzaBytes: 50}},
	}
}

func TestChunking(t *testing.T) {
	for name, c := range chunkingInputs() {
		t.Run(name, func(t *testing.T) {
			want, wantErr := feed(t, New(c.lim), c.in)
			if strings.HasPrefix(name, "error") == (wantErr == nil) {
				t.Fatalf("single feed: err = %v", wantErr)
			}
			check := func(desc string, sizes ...int) {
				t.Helper()
				got, err := feed(t, New(c.lim), c.in, sizes...)
				if errString(err) != errString(wantErr) {
					t.Fatalf("%s: err %s, want %s", desc, errString(err), errString(wantErr))
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: tokens differ\n got %q\nwant %q", desc, strs(got), strs(want))
				}
			}
			check("1 byte at a time", 1)
			for cut := 1; cut < len(c.in); cut++ {
				check("split at "+itoa(cut), cut, 0)
			}
			r := rand.New(rand.NewPCG(uint64(len(c.in)), 2))
			for k := 0; k < 50; k++ {
				sizes := make([]int, 64)
				for i := range sizes {
					sizes[i] = 1 + r.IntN(40)
				}
				sizes = append(sizes, 0)
				check("random sizes", sizes...)
			}
		})
	}
}

// TestChunkingStream checks a long generated stream in MTU-sized and odd
// reads against the single feed.
func TestChunkingStream(t *testing.T) {
	in := genStream(11, 300, true)
	want, err := feed(t, New(Limits{}), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, sz := range []int{1500, 1, 7, 4096, 65536} {
		got, err := feed(t, New(Limits{}), in, sz)
		if err != nil {
			t.Fatalf("size %d: %v", sz, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("size %d: tokens differ", sz)
		}
	}
	// Stanzas reassemble the stream: every byte outside stanzas is the
	// declaration, the header, whitespace or the end tag.
	var b strings.Builder
	for _, r := range want {
		if r.Depth == 0 || r.Stanza {
			if r.Stanza {
				b.WriteString(r.Stanza_)
			} else {
				b.WriteString(r.Raw)
			}
		}
	}
	if got := b.String(); !strings.HasSuffix(string(in), got) || len(in)-len(got) != len(`<?xml version='1.0' encoding='UTF-8'?>`) {
		t.Fatalf("stanzas and depth-0 tokens do not reassemble the stream (%d of %d bytes)", len(got), len(in))
	}
}
