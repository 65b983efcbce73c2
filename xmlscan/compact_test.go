package xmlscan

import (
	"errors"
	"reflect"
	"testing"
	"unsafe"
)

// footprint is the heap the scanner holds: the struct and the capacity of
// every slice it owns.
func footprint(s *Scanner) int {
	n := int(unsafe.Sizeof(*s))
	if s.tokenState != nil {
		n += int(unsafe.Sizeof(*s.tokenState))
		n += cap(s.attrs) * int(unsafe.Sizeof(attrRec{}))
		n += cap(s.top.attrs) * int(unsafe.Sizeof(attrRec{}))
		n += cap(s.tag) + cap(s.top.tag)
	}
	n += cap(s.arena)
	n += cap(s.open) * int(unsafe.Sizeof(openElem{}))
	n += cap(s.binds) * int(unsafe.Sizeof(binding{}))
	return n
}

// TestCompactFootprint measures an idle scanner after a stream header and a
// few stanzas (one with a large start tag and deep nesting), before and
// after Compact, and checks that Compact keeps only what the open header
// needs.
func TestCompactFootprint(t *testing.T) {
	in := []byte(streamHeader + string(genStream(9, 6, false)[len(`<?xml version='1.0' encoding='UTF-8'?>`)+len(streamHeader):]) +
		`<iq type='set' id='big'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:avatar:data'>` +
		`<item id='` + string(make40('a')) + `' a1='1' a2='2' a3='3' a4='4' a5='5' a6='6' a7='7' a8='8' a9='9' a10='10'>` +
		`<data xmlns='urn:xmpp:avatar:data' xmlns:a='urn:a' xmlns:b='urn:b' xmlns:c='urn:c'><a:x><b:y><c:z/></b:y></a:x></data>` +
		`</item></publish></pubsub></iq> `)
	for _, next := range []struct {
		name string
		f    func(*Scanner, []byte) (Token, error)
	}{{"Next", (*Scanner).Next}, {"NextStanza", (*Scanner).NextStanza}} {
		s := New(Limits{})
		fresh := footprint(s)
		for {
			if _, err := next.f(s, in); err != nil {
				if !errors.Is(err, ErrNeedMore) {
					t.Fatal(err)
				}
				break
			}
		}
		idle := footprint(s)
		s.Compact()
		compact := footprint(s)
		t.Logf("%s: new scanner %d B, idle after header and stanzas %d B, after Compact %d B (struct %d B, token state kept: %v, arena %d B, %d bindings, %d open)",
			next.name, fresh, idle, compact, unsafe.Sizeof(*s), s.tokenState != nil, len(s.arena), len(s.binds), len(s.open))
		if s.tokenState != nil {
			t.Errorf("%s: Compact between stanzas kept the token state", next.name)
		}
		if compact >= idle || compact > int(unsafe.Sizeof(*s))+256 {
			t.Errorf("%s: Compact left %d B of %d", next.name, compact, idle)
		}
		// Compact again is a no-op; the scanner still works.
		s.Compact()
		if footprint(s) != compact {
			t.Errorf("second Compact changed the footprint")
		}
		more := append(in, `<message to='a'><body>x</body></message>`...)
		tok, err := next.f(s, more)
		if err != nil || !tok.StanzaEnd && next.name == "NextStanza" {
			t.Fatalf("after Compact: %+v %v", tok, err)
		}
	}
}

func make40(c byte) []byte {
	b := make([]byte, 40)
	for i := range b {
		b[i] = c
	}
	return b
}

// TestCompactAnywhere compacts before every call, at every split point and
// byte by byte, so that Compact lands inside tags, attribute values, text
// and references; tokens and errors must not change.
func TestCompactAnywhere(t *testing.T) {
	compactNext := func(s *Scanner, b []byte) (Token, error) { s.Compact(); return s.Next(b) }
	compactStanza := func(s *Scanner, b []byte) (Token, error) { s.Compact(); return s.NextStanza(b) }
	for name, c := range chunkingInputs() {
		t.Run(name, func(t *testing.T) {
			want, wantErr := feed(t, New(c.lim), c.in)
			wantStz := stanzaEvents(want, c.lim.Framed)
			for _, sizes := range [][]int{{0}, {1}, {3}, {17}} {
				got, err := feedWith(t, New(c.lim), compactNext, c.in, sizes...)
				if errString(err) != errString(wantErr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("Next sizes %v: err %s (want %s), tokens equal %v", sizes, errString(err), errString(wantErr), reflect.DeepEqual(got, want))
				}
				got, err = feedWith(t, New(c.lim), compactStanza, c.in, sizes...)
				if errString(err) != errString(wantErr) || !reflect.DeepEqual(got, wantStz) {
					t.Fatalf("NextStanza sizes %v: err %s (want %s), events equal %v", sizes, errString(err), errString(wantErr), reflect.DeepEqual(got, wantStz))
				}
			}
		})
	}
}
