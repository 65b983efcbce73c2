package xmlscan

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"
)

// The benchmark stream: a few thousand message, presence and IQ stanzas of
// 150 B to 4 KiB (namespaces, escaped text, non-ASCII text), generated once.
var benchStream = genStream(1, 3000, false)

// cpuMeter reports MB per CPU second (see processCPUNanos) and ns per stanza.
type cpuMeter struct {
	b       *testing.B
	start   int64
	stanzas int
}

// warm runs one untimed pass so that the scanner's buffers have grown to
// the stream's needs before measurement.
func warm(s *Scanner, in []byte) {
	for {
		if _, err := s.Next(in); err != nil {
			break
		}
	}
	s.Recycle()
	for {
		if _, err := s.NextStanza(in); err != nil {
			break
		}
	}
}

func startMeter(b *testing.B, size, stanzas int) *cpuMeter {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	return &cpuMeter{b: b, start: processCPUNanos(), stanzas: stanzas}
}

func (m *cpuMeter) stop() {
	b := m.b
	cpu := processCPUNanos() - m.start
	if cpu > 0 {
		b.ReportMetric(float64(b.N)*float64(len(benchStream))/1e6/(float64(cpu)/1e9), "cpu-MB/s")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m.stanzas), "ns/stanza")
}

func countStanzas(in []byte) int {
	s := New(Limits{})
	n := 0
	for {
		t, err := s.Next(in)
		if err != nil {
			return n
		}
		if t.StanzaEnd {
			n++
		}
	}
}

// BenchmarkScanner tokenizes the whole stream held in one buffer.
func BenchmarkScanner(b *testing.B) {
	in := benchStream
	stanzas := countStanzas(in)
	s := New(Limits{})
	warm(s, in)
	m := startMeter(b, len(in), stanzas)
	for b.Loop() {
		s.Recycle()
		for {
			_, err := s.Next(in)
			if err != nil {
				if !errors.Is(err, ErrNeedMore) {
					b.Fatal(err)
				}
				break
			}
		}
	}
	m.stop()
}

// BenchmarkScannerInto is BenchmarkScanner with NextInto, which fills the
// caller's Token in place.
func BenchmarkScannerInto(b *testing.B) {
	in := benchStream
	stanzas := countStanzas(in)
	s := New(Limits{})
	warm(s, in)
	var t Token
	m := startMeter(b, len(in), stanzas)
	for b.Loop() {
		s.Recycle()
		for {
			if err := s.NextInto(in, &t); err != nil {
				if !errors.Is(err, ErrNeedMore) {
					b.Fatal(err)
				}
				break
			}
		}
	}
	m.stop()
}

// BenchmarkScannerStanza reads the same stream with NextStanza, the
// routing path's call: stanzas are validated whole and only top-level
// events come back.
func BenchmarkScannerStanza(b *testing.B) {
	in := benchStream
	stanzas := countStanzas(in)
	s := New(Limits{})
	warm(s, in)
	m := startMeter(b, len(in), stanzas)
	for b.Loop() {
		s.Recycle()
		for {
			_, err := s.NextStanza(in)
			if err != nil {
				if !errors.Is(err, ErrNeedMore) {
					b.Fatal(err)
				}
				break
			}
		}
	}
	m.stop()
}

// BenchmarkScannerStanzaMTU is BenchmarkScannerMTU with NextStanza: reads
// of 1500 bytes, consumed bytes shifted out after every event, and the
// stanza's attributes looked at.
func BenchmarkScannerStanzaMTU(b *testing.B) {
	in := benchStream
	stanzas := countStanzas(in)
	s := New(Limits{})
	warm(s, in)
	buf := make([]byte, 0, 64<<10)
	m := startMeter(b, len(in), stanzas)
	for b.Loop() {
		s.Recycle()
		buf = buf[:0]
		for off := 0; off < len(in); {
			end := min(off+1500, len(in))
			buf = append(buf, in[off:end]...)
			off = end
			for {
				_, err := s.NextStanza(buf)
				if err != nil {
					if !errors.Is(err, ErrNeedMore) {
						b.Fatal(err)
					}
					break
				}
				for i := 0; i < s.NumAttrs(); i++ {
					_ = s.Attr(i)
				}
				k := s.Keep()
				buf = buf[:copy(buf, buf[k:])]
				if err := s.Shift(k); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	m.stop()
}

// BenchmarkScannerMTU feeds the stream in 1500-byte reads, as a server sees
// it, shifting consumed bytes out after every stanza like a connection
// buffer, and looks at every attribute.
func BenchmarkScannerMTU(b *testing.B) {
	in := benchStream
	stanzas := countStanzas(in)
	s := New(Limits{})
	warm(s, in)
	buf := make([]byte, 0, 64<<10)
	m := startMeter(b, len(in), stanzas)
	for b.Loop() {
		s.Recycle()
		buf = buf[:0]
		for off := 0; off < len(in); {
			end := min(off+1500, len(in))
			buf = append(buf, in[off:end]...)
			off = end
			for {
				t, err := s.Next(buf)
				if err != nil {
					if !errors.Is(err, ErrNeedMore) {
						b.Fatal(err)
					}
					break
				}
				if t.Kind == StartTag {
					for i := 0; i < s.NumAttrs(); i++ {
						_ = s.Attr(i)
					}
				}
				if t.StanzaEnd || t.Depth == 0 {
					k := s.Keep()
					buf = buf[:copy(buf, buf[k:])]
					if err := s.Shift(k); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	m.stop()
}

// BenchmarkEncodingXML is the peer: encoding/xml's Decoder.RawToken (strict)
// over the same bytes.
func BenchmarkEncodingXML(b *testing.B) {
	in := benchStream
	stanzas := countStanzas(in)
	r := bytes.NewReader(in)
	m := startMeter(b, len(in), stanzas)
	for b.Loop() {
		r.Reset(in)
		d := xml.NewDecoder(r)
		for {
			_, err := d.RawToken()
			if err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
	m.stop()
}

// BenchmarkUnescape decodes a text with entities into a sized buffer.
func BenchmarkUnescape(b *testing.B) {
	raw := []byte("Meet at 10:00 &amp; bring the &lt;draft&gt; please &#x263A; — and a longer plain tail of text")
	dst := make([]byte, 0, 256)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = Unescape(dst[:0], raw)
	}
}
