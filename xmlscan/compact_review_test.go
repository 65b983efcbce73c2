package xmlscan

import (
	"errors"
	"reflect"
	"testing"
)

// Review tests of the token state that Compact drops between tokens: every
// exported method must work on a scanner without it, Compact must keep it
// wherever a token is pending, and a restart (Reset, Recycle) after Compact
// must behave as without Compact.

// drainScanner calls next until it stops, returning the last error.
func drainScanner(s *Scanner, next func(*Scanner, []byte) (Token, error), buf []byte) error {
	for range 1000 {
		if _, err := next(s, buf); err != nil {
			return err
		}
	}
	return errors.New("no end")
}

func TestReviewMethodsWithoutTokenState(t *testing.T) {
	for _, framed := range []bool{false, true} {
		in := []byte(streamHeader + "<message to='a'><body>x</body></message> ")
		if framed {
			in = []byte("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/><message xmlns='jabber:client' to='a'/>")
		}
		s := New(Limits{Framed: framed})
		if err := drainScanner(s, (*Scanner).NextStanza, in); !errors.Is(err, ErrNeedMore) {
			t.Fatalf("framed=%v: %v", framed, err)
		}
		s.Compact()
		if s.tokenState != nil {
			t.Fatalf("framed=%v: Compact at a quiet point kept the token state", framed)
		}
		// Every exported method, twice Compact included, on the compacted scanner.
		s.Compact()
		if n := s.NumAttrs(); n != 0 {
			t.Errorf("NumAttrs = %d", n)
		}
		for _, i := range []int{-1, 0, 1} {
			if a := s.Attr(i); a.Local != nil || a.Value != nil {
				t.Errorf("Attr(%d) = %+v", i, a)
			}
		}
		if v, ok := s.AttrValue("", "to"); ok || v != nil {
			t.Errorf("AttrValue = %q, %v", v, ok)
		}
		_ = s.Limits()
		_ = s.Depth()
		_ = s.Offset()
		if s.Err() != nil {
			t.Errorf("Err = %v", s.Err())
		}
		keep := s.Keep()
		if err := s.Shift(0); err != nil {
			t.Fatal(err)
		}
		if err := s.Shift(keep + 1); err == nil {
			t.Error("Shift past Keep accepted")
		}
		if err := s.Shift(keep); err != nil {
			t.Fatal(err)
		}
		buf := append([]byte(nil), in[keep:]...)
		if s.tokenState != nil {
			t.Error("Shift woke the token state")
		}
		// ErrBufferShrunk must not need the token state either.
		if _, err := s.NextStanza(nil); len(buf) > 0 && !errors.Is(err, ErrBufferShrunk) {
			t.Errorf("NextStanza(nil) = %v", err)
		}
		buf = append(buf, "<iq type='get' id='x'/>"...)
		tok, err := s.NextStanza(buf)
		if err != nil || !tok.StanzaEnd || string(tok.Local) != "iq" {
			t.Fatalf("framed=%v: after Compact: %+v %v", framed, tok, err)
		}
		if v, ok := s.AttrValue("", "id"); !ok || string(v) != "x" {
			t.Errorf("framed=%v: id after Compact = %q %v", framed, v, ok)
		}
		// Reset and Recycle of a compacted scanner.
		s.Compact()
		s.Reset()
		if err := s.Shift(s.Keep()); err != nil {
			t.Fatal(err)
		}
		s.Compact()
		s.Recycle()
		tok, err = s.NextStanza(in)
		if err != nil || tok.Kind != StartTag {
			t.Fatalf("framed=%v: after Compact and Recycle: %+v %v", framed, tok, err)
		}
	}
}

// TestReviewCompactKeepsPendingTokens stops the scanner in the middle of
// each kind of construct, compacts, and checks that the token state was kept
// where a token or stanza is pending and that the rest of the input gives the
// same tokens and error as without Compact.
func TestReviewCompactKeepsPendingTokens(t *testing.T) {
	tests := []struct {
		name       string
		head, tail string
		framed     bool
		dropOK     bool // a quiet point: the token state may go
	}{
		{"xml declaration", "<?xm", "l version='1.0'?>" + streamHeader + "<a/>", false, true}, // stStart rescans from pos
		{"inside declaration", "<?xml version='1.", "0'?>" + streamHeader + "<a/>", false, false},
		{"header name", "<stream:str", "eam xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", false, false},
		{"header attribute value", "<stream:stream xmlns='jabber:cl", "ient' xmlns:stream='http://etherx.jabber.org/streams'><a/>", false, false},
		{"between stanzas", streamHeader + "<a/>", "<b x='1'/>", false, true},
		{"lt between stanzas", streamHeader + "<a/><", "b x='1'/>", false, false},
		{"stanza start tag", streamHeader + "<message to='a' ty", "pe='chat'><body>x</body></message>", false, false},
		{"stanza content", streamHeader + "<message to='a'><bo", "dy>x</body></message>", false, false},
		{"stanza text ref", streamHeader + "<message to='a'><body>x &am", "p; y</body></message>", false, false},
		{"cdata brackets", streamHeader + "<message><body><![CDATA[x]]", "]]></body></message>", false, false},
		{"text brackets between stanzas", streamHeader + "<a/> ]]", "> <b/>", false, true},
		{"text ref between stanzas", streamHeader + "<a/> x &a", "mp; <b/>", false, false},
		{"text utf8 between stanzas", streamHeader + "<a/> \xc3", "\xa9 <b/>", false, true},
		{"attribute ref", streamHeader + "<message to='a&#x4", "1;'/>", false, false},
		{"end tag", streamHeader + "<message></mess", "age>", false, false},
		{"stream end", streamHeader + "<a/></stream:str", "eam>", false, false},
		{"epilog", streamHeader + "<a/></stream:stream>", "  ", false, true},
		{"epilog error", streamHeader + "<a/></stream:stream>", " x", false, true},
		{"framed between", "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='e' version='1.0'/>", " <message xmlns='jabber:client' id='m'/>", true, true},
		{"framed stanza", "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='e' version='1.0'/><message xmlns='jabber:client' id='m'><bo", "dy/></message>", true, false},
	}
	for _, tt := range tests {
		for _, m := range []struct {
			name string
			f    func(*Scanner, []byte) (Token, error)
		}{{"Next", (*Scanner).Next}, {"NextStanza", (*Scanner).NextStanza}} {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				lim := Limits{Framed: tt.framed}
				in := []byte(tt.head + tt.tail)
				want, wantErr := feedWith(t, New(lim), m.f, in)
				compacted := false
				first := true
				next := func(s *Scanner, b []byte) (Token, error) {
					tok, err := m.f(s, b)
					if errors.Is(err, ErrNeedMore) && first {
						// The scanner stopped at the end of head.
						first = false
						s.Compact()
						compacted = true
						if s.tokenState == nil && !tt.dropOK {
							t.Errorf("Compact dropped the token state in the middle of %q", tt.name)
						}
					}
					return tok, err
				}
				got, err := feedWith(t, New(lim), next, in, len(tt.head), 0)
				if !compacted {
					t.Fatal("the scanner never ran out of input at the cut")
				}
				if errString(err) != errString(wantErr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("with Compact at the cut: err %s (want %s)\n got %q\nwant %q", errString(err), errString(wantErr), strs(got), strs(want))
				}
			})
		}
	}
}
