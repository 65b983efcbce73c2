package xmlscan

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// stanzaEvents projects Next's tokens onto the events NextStanza reports:
// tokens outside stanzas as they are, and for each stanza one StartTag with
// the top element's name and attributes, its start tag as Raw, and the
// whole stanza.
func stanzaEvents(toks []rec, framed bool) []rec {
	at := 1
	if framed {
		at = 0
	}
	var out []rec
	var top *rec
	for _, r := range toks {
		switch {
		case top == nil && r.Kind == StartTag && r.Depth == at && !r.Self:
			c := r
			top = &c
		case top != nil:
			if r.Stanza {
				e := *top
				e.Stanza, e.Stanza_ = true, r.Stanza_
				out = append(out, e)
				top = nil
			}
		default:
			out = append(out, r)
		}
	}
	return out
}

func TestNextStanza(t *testing.T) {
	hdr := "S0 stream:stream{http://etherx.jabber.org/streams} xmlns=jabber:client xmlns:stream=http://etherx.jabber.org/streams to=example.com version=1.0"
	in := `<?xml version='1.0'?>` + streamHeader +
		`<message to='a@b/c' type='chat'><body>hi &amp; <b>bye</b></body><x xmlns='urn:x' xmlns:p='urn:p' p:y='1'/></message>` +
		` <presence/>` + "\n" +
		`<p:iq xmlns:p='jabber:client' p:id='1' type='get'><query xmlns='jabber:iq:roster'/></p:iq>` +
		`</stream:stream>`
	want := []string{
		hdr,
		"S1 message{jabber:client} to=a@b/c type=chat $",
		`T0 " "`,
		"S1 presence{jabber:client} / $",
		`T0 "\n"`,
		"S1 p:iq{jabber:client} xmlns:p=jabber:client p:id{jabber:client}=1 type=get $",
		"E0 stream:stream{http://etherx.jabber.org/streams} !",
	}
	for _, sizes := range [][]int{{0}, {1}, {7}} {
		got, err := feedStanzas(t, New(Limits{}), []byte(in), sizes...)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := strings.Join(strs(got), "\n"), strings.Join(want, "\n"); g != w {
			t.Fatalf("sizes %v: events:\n%s\nwant:\n%s", sizes, g, w)
		}
		msg := got[1]
		if !strings.HasPrefix(msg.Stanza_, "<message ") || !strings.HasSuffix(msg.Stanza_, "</message>") ||
			msg.Raw != `<message to='a@b/c' type='chat'>` || in[msg.Abs:msg.Abs+int64(len(msg.Stanza_))] != msg.Stanza_ {
			t.Fatalf("sizes %v: stanza %+v", sizes, msg)
		}
	}
}

func TestNextStanzaFramed(t *testing.T) {
	in := `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>` +
		`<message xmlns='jabber:client' to='a@b'><body>x</body></message>` +
		`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`
	got, err := feedStanzas(t, New(Limits{Framed: true}), []byte(in), 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"S0 open{urn:ietf:params:xml:ns:xmpp-framing} xmlns=urn:ietf:params:xml:ns:xmpp-framing to=example.com version=1.0 / $",
		"S0 message{jabber:client} xmlns=jabber:client to=a@b $",
		"S0 close{urn:ietf:params:xml:ns:xmpp-framing} xmlns=urn:ietf:params:xml:ns:xmpp-framing / $",
	}
	if g, w := strings.Join(strs(got), "\n"), strings.Join(want, "\n"); g != w {
		t.Fatalf("events:\n%s\nwant:\n%s", g, w)
	}
}

// TestNextStanzaMatchesNext holds NextStanza to Next's stanza events and
// errors on every chunking input, fed whole, byte by byte, split at every
// point and in random reads.
func TestNextStanzaMatchesNext(t *testing.T) {
	for name, c := range chunkingInputs() {
		t.Run(name, func(t *testing.T) {
			toks, wantErr := feed(t, New(c.lim), c.in)
			want := stanzaEvents(toks, c.lim.Framed)
			check := func(desc string, sizes ...int) {
				t.Helper()
				got, err := feedStanzas(t, New(c.lim), c.in, sizes...)
				if errString(err) != errString(wantErr) {
					t.Fatalf("%s: err %s, want %s", desc, errString(err), errString(wantErr))
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: events differ\n got %q\nwant %q", desc, strs(got), strs(want))
				}
			}
			check("whole")
			check("1 byte at a time", 1)
			for cut := 1; cut < len(c.in); cut++ {
				check("split at "+itoa(cut), cut, 0)
			}
			r := rand.New(rand.NewPCG(uint64(len(c.in)), 3))
			for k := 0; k < 20; k++ {
				sizes := make([]int, 64)
				for i := range sizes {
					sizes[i] = 1 + r.IntN(40)
				}
				check("random sizes", append(sizes, 0)...)
			}
		})
	}
	in := genStream(11, 300, true)
	toks, err := feed(t, New(Limits{}), in)
	if err != nil {
		t.Fatal(err)
	}
	want := stanzaEvents(toks, false)
	for _, sz := range []int{0, 1500, 1, 7} {
		got, err := feedStanzas(t, New(Limits{}), in, sz)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("generated stream in reads of %d: err %v, events equal %v", sz, err, reflect.DeepEqual(got, want))
		}
	}
}

// TestNextStanzaErrors checks every error case through NextStanza: the
// same code, message and offset as Next.
func TestNextStanzaErrors(t *testing.T) {
	for _, tc := range errCases {
		hdr := streamHeader
		if tc.hdr != "" {
			hdr = tc.hdr
		}
		in := tc.in
		if !tc.raw {
			in = hdr + in
		}
		_, want := feed(t, New(tc.lim), []byte(in))
		for _, sizes := range [][]int{{0}, {1}, {3}} {
			_, err := feedStanzas(t, New(tc.lim), []byte(in), sizes...)
			if errString(err) != errString(want) || err == nil {
				t.Errorf("%s sizes %v: %s, Next gave %s", tc.name, sizes, errString(err), errString(want))
			}
		}
	}
}

// TestNextStanzaMixed switches between Next and NextStanza in the middle
// of a stanza: the stanza's name and attributes survive.
func TestNextStanzaMixed(t *testing.T) {
	buf := []byte(streamHeader + `<message to='x' id='1'><body>a</body><thread>t</thread></message><presence type='away'/>`)
	s := New(Limits{})
	if tok, err := s.Next(buf); err != nil || tok.Depth != 0 {
		t.Fatal(tok, err)
	}
	if tok, err := s.Next(buf); err != nil || string(tok.Local) != "message" {
		t.Fatal(tok, err)
	}
	if tok, err := s.Next(buf); err != nil || string(tok.Local) != "body" {
		t.Fatal(tok, err)
	}
	tok, err := s.NextStanza(buf)
	if err != nil || !tok.StanzaEnd || string(tok.Local) != "message" || string(tok.Raw) != `<message to='x' id='1'>` {
		t.Fatalf("%+v %v", tok, err)
	}
	if v, ok := s.AttrValue("", "id"); !ok || string(v) != "1" || s.NumAttrs() != 2 {
		t.Fatalf("id = %q %v, %d attributes", v, ok, s.NumAttrs())
	}
	tok, err = s.Next(buf)
	if err != nil || !tok.StanzaEnd || string(tok.Local) != "presence" {
		t.Fatalf("%+v %v", tok, err)
	}
	if v, ok := s.AttrValue("", "type"); !ok || string(v) != "away" {
		t.Fatalf("type = %q %v", v, ok)
	}
	if _, err := s.NextStanza(buf); !errors.Is(err, ErrNeedMore) {
		t.Fatal(err)
	}
}
