package tlsconn

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// orderSink records every byte in order of arrival on the "socket", and
// holds AsyncWrites until the test runs them, like a busy loop would.
type orderSink struct {
	wire    []byte
	direct  int
	pending []func()
}

func (s *orderSink) Write(b []byte) error {
	s.direct++
	s.wire = append(s.wire, b...)
	return nil
}

func (s *orderSink) AsyncWrite(b []byte, written func()) error {
	s.pending = append(s.pending, func() {
		s.wire = append(s.wire, b...)
		written()
	})
	return nil
}

func (s *orderSink) runOne() {
	s.pending[0]()
	s.pending = s.pending[1:]
}

// TestLoopWritesWaitForHandshakeFlight: loop writes made while handshake
// bytes are still queued go behind them, in order.
func TestLoopWritesWaitForHandshakeFlight(t *testing.T) {
	sink := &orderSink{}
	tr := &transport{sink: sink, pool: &bufferPool{}}
	tr.handshaking = true
	buf := []byte("A")
	if _, err := tr.Write(buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // crypto/tls reuses its record buffer
	tr.handshaking = false
	for _, s := range []string{"B", "C"} {
		if _, err := tr.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if sink.direct != 0 || len(sink.pending) != 3 {
		t.Fatalf("direct %d, pending %d: loop writes overtook the handshake flight", sink.direct, len(sink.pending))
	}
	sink.runOne()
	if _, err := tr.Write([]byte("D")); err != nil {
		t.Fatal(err)
	}
	for len(sink.pending) > 0 {
		sink.runOne()
	}
	if _, err := tr.Write([]byte("E")); err != nil {
		t.Fatal(err)
	}
	if string(sink.wire) != "ABCDE" || sink.direct != 1 {
		t.Fatalf("wire %q, direct writes %d; want ABCDE with only E direct", sink.wire, sink.direct)
	}
}

// TestTransportBuffers: the input buffer grows, compacts, and goes back to
// the pool when drained; reads on the loop never block.
func TestTransportBuffers(t *testing.T) {
	tr := &transport{sink: discardSink{}, pool: &bufferPool{}}
	p := make([]byte, 1500)
	if n, err := tr.Read(p); n != 0 || err != errWouldBlock {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	var want, got []byte
	for i := range 50 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1+i*97)
		want = append(want, chunk...)
		if err := tr.feed(chunk); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 { // leave some unread so feed must compact or grow
			continue
		}
		n, err := tr.Read(p[:700])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
	}
	for {
		n, err := tr.Read(p)
		if err == errWouldBlock {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes out differ from bytes in")
	}
	if tr.in != nil || tr.buffered() != 0 {
		t.Fatal("drained transport still holds a buffer")
	}
	tr.close()
	if n, err := tr.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("read after close: %d, %v", n, err)
	}
	if _, err := tr.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
	if err := tr.feed([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("feed after close: %v", err)
	}
}

func TestBufferPoolClasses(t *testing.T) {
	var p bufferPool
	for _, tc := range []struct{ n, cap int }{{1, 2 << 10}, {2 << 10, 2 << 10}, {2<<10 + 1, 20 << 10}, {100 << 10, 128 << 10}, {200 << 10, 200 << 10}} {
		b := p.get(tc.n)
		if len(*b) != 0 || cap(*b) != tc.cap {
			t.Errorf("get(%d): len %d cap %d, want cap %d", tc.n, len(*b), cap(*b), tc.cap)
		}
		*b = append(*b, 1)
		p.put(b)
	}
}

// TestFraming: the transport never hands out bytes past a record's end,
// hasRecord is true exactly when the rest of the current record is
// buffered, and every byte comes out once, in order, whatever the feed and
// read sizes.
func TestFraming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var ends []int // offsets just past each record
	for _, bodyLen := range []int{0, 1, 4, 5, 300, 0, 16384 + 256, 2, 70, 0} {
		body := make([]byte, bodyLen)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		stream = append(stream, 23, 3, 3, byte(bodyLen>>8), byte(bodyLen))
		stream = append(stream, body...)
		ends = append(ends, len(stream))
	}
	for _, feedSize := range []int{1, 3, 5, 6, 97, 4096, len(stream)} {
		for _, readSize := range []int{1, 2, 5, 512, 1 << 20} {
			tr := &transport{sink: discardSink{}, pool: &bufferPool{}}
			var out []byte
			fed := 0
			p := make([]byte, readSize)
			for len(out) < len(stream) {
				if fed < len(stream) {
					n := min(feedSize, len(stream)-fed)
					if err := tr.feed(stream[fed : fed+n]); err != nil {
						t.Fatal(err)
					}
					fed += n
				}
				for {
					// The rest of the current record is buffered iff the
					// next record end is within what was fed.
					next := 0
					for _, e := range ends {
						if e > len(out) {
							next = e
							break
						}
					}
					if want := next != 0 && next <= fed; tr.hasRecord() != want {
						t.Fatalf("feed %d read %d: at %d (fed %d, record ends %d) hasRecord %v",
							feedSize, readSize, len(out), fed, next, !want)
					}
					n, err := tr.Read(p)
					if err == errWouldBlock {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(out)+n > next {
						t.Fatalf("feed %d read %d: read %d bytes at %d, past the record end %d", feedSize, readSize, n, len(out), next)
					}
					out = append(out, p[:n]...)
				}
			}
			if !bytes.Equal(out, stream) {
				t.Fatalf("feed %d read %d: stream differs", feedSize, readSize)
			}
		}
	}
}
