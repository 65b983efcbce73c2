//go:build !race

package xmlscan

import (
	"errors"
	"testing"
)

// scanAll runs the server's read loop over in, delivered in reads of chunk
// bytes, touching every attribute and decoding every text and value into
// dst. It returns the number of tokens.
func scanAll(tb testing.TB, s *Scanner, in, buf, dst []byte, chunk int) int {
	buf = buf[:0]
	n := 0
	for off := 0; off < len(in); {
		end := min(off+chunk, len(in))
		buf = append(buf, in[off:end]...)
		off = end
		for {
			t, err := s.Next(buf)
			if errors.Is(err, ErrNeedMore) {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			n++
			switch t.Kind {
			case StartTag:
				for i := 0; i < s.NumAttrs(); i++ {
					a := s.Attr(i)
					if dst, err = Unescape(dst[:0], a.Value); err != nil {
						tb.Fatal(err)
					}
				}
				s.AttrValue("", "to")
				s.AttrValue(nsXML, "lang")
			case Text:
				if dst, err = Unescape(dst[:0], t.Raw); err != nil {
					tb.Fatal(err)
				}
			}
			if t.StanzaEnd || t.Depth == 0 {
				k := s.Keep()
				copy(buf, buf[k:])
				buf = buf[:len(buf)-k]
				if err := s.Shift(k); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	return n
}

func TestZeroAllocs(t *testing.T) {
	in := genStream(3, 400, true)
	for _, chunk := range []int{len(in), 1500, 1} {
		s := New(Limits{})
		buf := make([]byte, 0, 2*len(in))
		dst := make([]byte, 0, 8192)
		scanAll(t, s, in, buf, dst, chunk) // grow arena and attribute table
		var tokens int
		allocs := testing.AllocsPerRun(3, func() {
			s.Recycle()
			tokens = scanAll(t, s, in, buf, dst, chunk)
		})
		if allocs != 0 {
			t.Errorf("chunk %d: %v allocations per run of %d tokens", chunk, allocs, tokens)
		}
	}
}

// scanStanzas is scanAll with NextStanza: the routing path's loop, reading
// the attributes of every stanza and shifting after every event.
func scanStanzas(tb testing.TB, s *Scanner, in, buf []byte, chunk int) int {
	buf = buf[:0]
	n := 0
	for off := 0; off < len(in); {
		end := min(off+chunk, len(in))
		buf = append(buf, in[off:end]...)
		off = end
		for {
			t, err := s.NextStanza(buf)
			if errors.Is(err, ErrNeedMore) {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			if t.StanzaEnd {
				n++
				for i := 0; i < s.NumAttrs(); i++ {
					_ = s.Attr(i)
				}
				s.AttrValue("", "to")
			}
			k := s.Keep()
			buf = buf[:copy(buf, buf[k:])]
			if err := s.Shift(k); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return n
}

func TestZeroAllocsStanza(t *testing.T) {
	in := genStream(3, 400, true)
	for _, chunk := range []int{len(in), 1500, 1} {
		s := New(Limits{})
		buf := make([]byte, 0, 2*len(in))
		scanStanzas(t, s, in, buf, chunk)
		var stanzas int
		allocs := testing.AllocsPerRun(3, func() {
			s.Recycle()
			stanzas = scanStanzas(t, s, in, buf, chunk)
		})
		if allocs != 0 || stanzas != 400 {
			t.Errorf("chunk %d: %v allocations per run of %d stanzas", chunk, allocs, stanzas)
		}
	}
}

func TestZeroAllocsFramed(t *testing.T) {
	in := []byte("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>" +
		"<message xmlns='jabber:client' to='a@b'><body>hi &amp; bye 😀</body><x xmlns='urn:x' y='1'/></message>" +
		"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
	s := New(Limits{Framed: true})
	buf := make([]byte, 0, len(in))
	dst := make([]byte, 0, 256)
	scanAll(t, s, in, buf, dst, len(in))
	allocs := testing.AllocsPerRun(10, func() {
		s.Recycle()
		scanAll(t, s, in, buf, dst, 64)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}

func TestUnescapeZeroAllocs(t *testing.T) {
	raw := []byte("a &amp; b &lt;c&gt; &#x1F600; &#65;\r\n&quot;&apos;")
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = Unescape(dst[:0], raw)
		dst, _ = UnescapeAttr(dst[:0], raw)
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}
