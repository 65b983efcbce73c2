package tlsconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"testing"
	"time"
)

// FuzzFraming feeds an arbitrary byte stream (valid TLS records or not) in
// pieces and reads it back in pieces: every byte must come out once, in
// order, and no read may cross a record boundary as a reference parser
// computes it.
func FuzzFraming(f *testing.F) {
	f.Add([]byte{23, 3, 3, 0, 2, 'h', 'i', 21, 3, 3, 0, 0}, uint8(1), uint8(3))
	f.Add([]byte{22, 3, 1, 0xff, 0xff, 1, 2, 3}, uint8(200), uint8(255))
	f.Add([]byte{0x80, 0x2e, 1, 0, 2}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, feedSize, readSize uint8) {
		fs, rs := int(feedSize)+1, int(readSize)+1
		var ends []int // record ends, by the reference parser
		for off := 0; off+5 <= len(stream); {
			off += 5 + (int(stream[off+3])<<8 | int(stream[off+4]))
			ends = append(ends, off)
		}
		tr := &transport{sink: discardSink{}, pool: &bufferPool{}}
		p := make([]byte, rs)
		var out []byte
		for fed := 0; fed < len(stream) || tr.buffered() > 0; {
			if fed < len(stream) {
				n := min(fs, len(stream)-fed)
				if err := tr.feed(stream[fed : fed+n]); err != nil {
					t.Fatal(err)
				}
				fed += n
			}
			for {
				n, err := tr.Read(p)
				if err == errWouldBlock {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range ends {
					if len(out) < e && len(out)+n > e {
						t.Fatalf("read [%d,%d) crosses the record end %d", len(out), len(out)+n, e)
					}
				}
				out = append(out, p[:n]...)
			}
		}
		if !bytes.Equal(out, stream) {
			t.Fatalf("read back %d bytes that differ from the %d fed", len(out), len(stream))
		}
	})
}

// FuzzHandshakeInput feeds arbitrary bytes as a client's first flight: the
// handshake must end (by failure, or by Abort while it waits for more)
// without a panic or a stuck goroutine.
func FuzzHandshakeInput(f *testing.F) {
	f.Add([]byte("<?xml version='1.0'?>"))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 0})
	f.Add([]byte{22, 3, 3, 0xff, 0xff})
	acc, _ := newTestAcceptor(f, Options{})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := acc.Server(discardSink{})
		done := make(chan error, 1)
		if len(in) > maxBuffered {
			in = in[:maxBuffered]
		}
		if err := c.Feed(in); err != nil {
			t.Fatal(err)
		}
		if err := c.StartHandshake(context.Background(), func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("handshake succeeded with no client")
			}
			return
		case <-time.After(5 * time.Millisecond):
		}
		c.Abort()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("handshake did not end after Abort")
		}
	})
}

// FuzzChunkedRecords sends client records carrying payload and feeds their
// ciphertext in the pieces the fuzzer chooses: the server must read exactly
// the payload. One connection serves every input of a fuzz worker.
func FuzzChunkedRecords(f *testing.F) {
	f.Add([]byte("<message to='a@b'><body>hi</body></message>"), []byte{1, 2, 3})
	f.Add(bytes.Repeat([]byte{0xaa}, 20000), []byte{0, 255, 17})
	f.Add([]byte{}, []byte{})
	acc, _ := newTestAcceptor(f, Options{})
	lb := handshakeLoopback(f, acc, clientConfig(tls.VersionTLS13), 0)
	f.Fuzz(func(t *testing.T, payload, pieces []byte) {
		if len(payload) == 0 {
			return
		}
		lb.plain = lb.plain[:0]
		if _, err := lb.client.Write(payload); err != nil {
			t.Fatal(err)
		}
		wire, _ := lb.toSrv.take()
		for i := 0; len(wire) > 0; i++ {
			n := len(wire)
			if len(pieces) > 0 {
				n = min(n, int(pieces[i%len(pieces)])+1)
			}
			if err := lb.srv.Feed(wire[:n]); err != nil {
				t.Fatal(err)
			}
			wire = wire[n:]
			if err := lb.readAll(); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(lb.plain, payload) {
			t.Fatalf("server read %d bytes, want the %d-byte payload", len(lb.plain), len(payload))
		}
	})
}
