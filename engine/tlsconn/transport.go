package tlsconn

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// wouldBlock is what the transport's Read returns on the event loop when it
// holds no ciphertext. crypto/tls passes it through without recording it as
// the connection's error because Temporary() is true; Timeout() is true as
// well so that a future crypto/tls checking for timeouts would treat it the
// same way. SelfCheck fails if either stops holding.
type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tlsconn: no ciphertext buffered" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// errWouldBlock is the single value of wouldBlock handed to crypto/tls, so
// that Conn.Read recognises it by comparison without allocating.
var errWouldBlock net.Error = wouldBlock{}

// addrSource is implemented by sinks that know the socket's addresses (a
// gnet.Conn does); crypto/tls exposes them to GetCertificate through
// ClientHelloInfo.Conn.
type addrSource interface {
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// transport is the net.Conn that crypto/tls reads from and writes to. Input
// is what the loop fed; output goes to the Sink. Its Read blocks only while a
// handshake goroutine owns the connection; otherwise it returns errWouldBlock.
//
// mu guards every field except sink, pool and inflight. It is held only for
// short copies, never across a Sink call or a channel wait.
type transport struct {
	mu     sync.Mutex
	in     *[]byte // pooled; (*in)[r:] is unread ciphertext; nil when empty
	r      int
	closed bool
	// handshaking is true while the handshake goroutine owns reads and
	// writes: Read blocks and Write goes through Sink.AsyncWrite.
	handshaking bool
	// wake has one slot; Feed posts to it and close closes it, so a blocked
	// handshake Read always notices new input or the end.
	wake chan struct{}
	// rec tracks TLS record boundaries in the bytes handed to crypto/tls.
	rec framing
	// out collects the records of one Conn.Write (see Conn.Write); nil when
	// not collecting. Loop only.
	out *[]byte

	sink Sink
	pool *bufferPool
	// inflight counts AsyncWrites not yet written by the loop. While it is
	// above zero the loop must queue its own writes behind them with
	// AsyncWrite too, or the first application records could overtake the
	// last handshake flight.
	inflight atomic.Int32
}

// feed appends ciphertext. Called on the loop.
func (t *transport) feed(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if t.in == nil {
		if len(b) > maxBuffered {
			return ErrInputFull
		}
		t.in = t.pool.get(len(b))
		t.r = 0
	} else if free := cap(*t.in) - len(*t.in); free < len(b) {
		unread := len(*t.in) - t.r
		need := unread + len(b)
		if need > maxBuffered {
			return ErrInputFull
		}
		if cap(*t.in) >= need {
			n := copy((*t.in)[:cap(*t.in)], (*t.in)[t.r:])
			*t.in = (*t.in)[:n]
		} else {
			nb := t.pool.get(need)
			*nb = append(*nb, (*t.in)[t.r:]...)
			t.pool.put(t.in)
			t.in = nb
		}
		t.r = 0
	}
	*t.in = append(*t.in, b...)
	if t.wake != nil {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// hasRecord reports whether the buffer holds the rest of the current TLS
// record, so that a crypto/tls read would make progress. Called on the loop.
func (t *transport) hasRecord() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.in == nil {
		return false
	}
	avail := (*t.in)[t.r:]
	return t.rec.limit(avail) <= len(avail)
}

// buffered reports how many fed bytes crypto/tls has not consumed yet.
func (t *transport) buffered() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.in == nil {
		return 0
	}
	return len(*t.in) - t.r
}

// Read implements net.Conn for crypto/tls. It blocks only during the
// handshake (in the handshake goroutine); on the loop it returns
// errWouldBlock when nothing is buffered. It never hands out bytes past the
// end of the current TLS record, so crypto/tls never holds more than one
// record and Conn.Read can tell from the transport alone whether a read
// would make progress.
func (t *transport) Read(p []byte) (int, error) {
	t.mu.Lock()
	for {
		if t.in != nil {
			avail := (*t.in)[t.r:]
			n := copy(p[:min(len(p), t.rec.limit(avail))], avail)
			t.rec.advance(avail[:n])
			t.r += n
			if t.r == len(*t.in) {
				// Idle connections hold no input buffer.
				t.pool.put(t.in)
				t.in, t.r = nil, 0
			}
			t.mu.Unlock()
			return n, nil
		}
		if t.closed {
			t.mu.Unlock()
			return 0, io.EOF
		}
		if !t.handshaking {
			t.mu.Unlock()
			return 0, errWouldBlock
		}
		wake := t.wake
		t.mu.Unlock()
		<-wake
		t.mu.Lock()
	}
}

// Write implements net.Conn for crypto/tls: from the handshake goroutine it
// queues a copy with Sink.AsyncWrite; on the loop it writes through
// Sink.Write, or collects into t.out during Conn.Write.
func (t *transport) Write(b []byte) (int, error) {
	t.mu.Lock()
	closed, async := t.closed, t.handshaking
	t.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if async {
		return t.asyncWrite(b)
	}
	if t.out != nil {
		if len(*t.out)+len(b) > cap(*t.out) {
			if err := t.flushOut(); err != nil {
				return 0, err
			}
		}
		if len(b) <= cap(*t.out) {
			*t.out = append(*t.out, b...)
			return len(b), nil
		}
	}
	return t.loopWrite(b)
}

// loopWrite hands b to the sink on the loop, behind any handshake bytes
// still queued.
func (t *transport) loopWrite(b []byte) (int, error) {
	if t.inflight.Load() > 0 {
		return t.asyncWrite(b)
	}
	if err := t.sink.Write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (t *transport) asyncWrite(b []byte) (int, error) {
	// crypto/tls reuses b (a pooled record buffer) as soon as Write returns.
	cp := make([]byte, len(b))
	copy(cp, b)
	t.inflight.Add(1)
	if err := t.sink.AsyncWrite(cp, func() { t.inflight.Add(-1) }); err != nil {
		t.inflight.Add(-1)
		return 0, err
	}
	return len(b), nil
}

// beginCollect makes loop writes accumulate in a pooled buffer, so that the
// several records of one large Conn.Write reach the socket in one write.
func (t *transport) beginCollect() {
	t.out = t.pool.get(bufferClasses[1])
}

// endCollect writes what was collected and releases the buffer.
func (t *transport) endCollect() error {
	err := t.flushOut()
	t.pool.put(t.out)
	t.out = nil
	return err
}

func (t *transport) flushOut() error {
	if len(*t.out) == 0 {
		return nil
	}
	_, err := t.loopWrite(*t.out)
	*t.out = (*t.out)[:0]
	return err
}

// close ends the transport: blocked and future Reads see io.EOF, Writes
// fail, and the input buffer goes back to the pool. Safe from any goroutine;
// crypto/tls calls it as Close, and so does the handshake context's AfterFunc
// when the handshake times out.
func (t *transport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	if t.in != nil {
		t.pool.put(t.in)
		t.in, t.r = nil, 0
	}
	if t.wake != nil {
		close(t.wake)
	}
}

// Close implements net.Conn. It does not touch the socket: the engine owns it.
func (t *transport) Close() error {
	t.close()
	return nil
}

// LocalAddr implements net.Conn with the sink's address when it has one.
func (t *transport) LocalAddr() net.Addr {
	if a, ok := t.sink.(addrSource); ok {
		return a.LocalAddr()
	}
	return memAddr{}
}

// RemoteAddr implements net.Conn with the sink's address when it has one.
func (t *transport) RemoteAddr() net.Addr {
	if a, ok := t.sink.(addrSource); ok {
		return a.RemoteAddr()
	}
	return memAddr{}
}

// SetDeadline and friends are no-ops: the handshake is bounded by its
// context, and loop reads and writes never block.
func (t *transport) SetDeadline(time.Time) error      { return nil }
func (t *transport) SetReadDeadline(time.Time) error  { return nil }
func (t *transport) SetWriteDeadline(time.Time) error { return nil }

// memAddr stands in for an address when the sink has none.
type memAddr struct{}

func (memAddr) Network() string { return "tlsconn" }
func (memAddr) String() string  { return "tlsconn" }

// framing follows TLS record boundaries (RFC 8446 section 5.1: a 5-byte
// header whose last two bytes are the length of the body) in the stream
// handed to crypto/tls.
type framing struct {
	hdr  [5]byte
	hdrN int // header bytes of the current record handed out so far
	left int // body bytes of the current record not handed out (once hdrN == 5)
}

// limit returns how many bytes may be handed out from avail without passing
// the end of the current record; when the header is not complete even with
// avail, it returns len(avail)+1, meaning "all of avail, and the record is
// not complete".
func (f *framing) limit(avail []byte) int {
	if f.hdrN == len(f.hdr) {
		return f.left
	}
	missing := len(f.hdr) - f.hdrN
	if len(avail) < missing {
		return len(avail) + 1
	}
	var h [5]byte
	copy(h[:], f.hdr[:f.hdrN])
	copy(h[f.hdrN:], avail[:missing])
	return missing + (int(h[3])<<8 | int(h[4]))
}

// advance records that b was handed out.
func (f *framing) advance(b []byte) {
	for len(b) > 0 {
		if f.hdrN < len(f.hdr) {
			n := copy(f.hdr[f.hdrN:], b)
			f.hdrN += n
			b = b[n:]
			if f.hdrN == len(f.hdr) {
				f.left = int(f.hdr[3])<<8 | int(f.hdr[4])
			}
		} else {
			n := min(len(b), f.left)
			f.left -= n
			b = b[n:]
		}
		if f.hdrN == len(f.hdr) && f.left == 0 {
			f.hdrN = 0
		}
	}
}

// bufferClasses are the capacities the pool recycles. The smallest fits a
// ClientHello or a handful of stanza records; the middle one a full TLS record
// (16 KiB of plaintext plus overhead); the largest one gnet's default 64 KiB
// read chunk with room to spare, and it is also the cap on buffered input
// (see maxBuffered).
var bufferClasses = [...]int{2 << 10, 20 << 10, 128 << 10}

// maxBuffered is the most ciphertext a Conn holds that crypto/tls has not yet
// consumed. During the handshake a legitimate client sends far less (the
// largest handshake message crypto/tls accepts from a client is 64 KiB);
// after it, the loop drains the buffer on every Feed.
const maxBuffered = 128 << 10

// bufferPool recycles ciphertext buffers by size class. It is safe for
// concurrent use. The pools hold *[]byte so that Put does not allocate.
type bufferPool struct {
	classes [len(bufferClasses)]sync.Pool
}

// get returns a buffer of length 0 whose capacity is at least n (n must not
// exceed the largest class).
func (p *bufferPool) get(n int) *[]byte {
	for i, size := range bufferClasses {
		if n <= size {
			if v := p.classes[i].Get(); v != nil {
				return v.(*[]byte)
			}
			b := make([]byte, 0, size)
			return &b
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// put returns a buffer obtained from get. Buffers whose capacity is not one
// of the classes are dropped.
func (p *bufferPool) put(b *[]byte) {
	c := cap(*b)
	for i, size := range bufferClasses {
		if c == size {
			*b = (*b)[:0]
			p.classes[i].Put(b)
			return
		}
	}
}
