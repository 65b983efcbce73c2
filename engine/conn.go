package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/engine/tlsconn"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/xmlscan"
)

// conn is one client connection. Apart from the fields documented otherwise, it
// belongs to its gnet event loop: only callbacks running on that loop touch it.
type conn struct {
	srv *Server
	gc  gnet.Conn
	lis *listener
	// host is the served host the stream names (nil before the stream header).
	host *Host

	// sc is nil while parked: an idle bound stream whose scanner was in the state of
	// one of the listener's checkpoints (parkedAt-1) gave it up (see park).
	sc *xmlscan.Scanner
	// in holds input the scanner has not finished with: a partial token or stanza, or
	// whole stanzas held while an asynchronous step is in flight. nil when empty, so an
	// idle connection holds no input buffer.
	in []byte

	tls *tlsconn.Conn

	stream stream

	tlsState uint8 // tlsNone, tlsHandshake, tlsReady
	parkedAt uint8 // 0, or 1 + the index in lis.checkpoints of the parked scanner's state
	// busy is set while an asynchronous step (SASL, a storage lookup the stream must
	// wait for) is in flight: input is held, not scanned, until it completes.
	busy    bool
	closing bool
	// resumeSoon asks onTraffic to resume the stream once the current input has
	// been set aside: a step that would have gone to a worker ran on the loop.
	resumeSoon bool
	// corked gathers writes in wq while input is handled (see write).
	corked bool
	// The mailbox's flags, guarded by mu (in the same word as the loop's flags:
	// distinct bytes, so no race, and one word less per connection).
	wakePending bool
	dead        bool

	wq *bytebufferpool.ByteBuffer

	// pres is the session's availability and priority (packPresence), published for
	// routers on other loops.
	pres atomic.Uint32
	// lastPres is the session's latest available presence as sent to others (from
	// stamped), for resources that come online later; nil when unavailable.
	lastPres atomic.Pointer[[]byte]

	// idle is the sweeper's idle mark: idleActive after traffic, idleMarked after one
	// quiet sweep period, idleCompacted once buffers were released.
	idle atomic.Uint32

	// deadline is the UnixNano time after which the sweeper times the connection out
	// (0: none). Written on the loop, read by the sweeper goroutine.
	deadline atomic.Int64

	// The mailbox: written from any goroutine, drained on the loop.
	mu    sync.Mutex
	outq  *bytebufferpool.ByteBuffer
	tasks []func()
}

const (
	idleActive uint32 = iota
	idleMarked
	idleCompacted
)

// compact releases what a quiet connection need not hold: the scanner's spare
// capacity and crypto/tls's empty record buffers. On the loop.
func (c *conn) compact() {
	if c.closing || c.busy {
		return
	}
	if len(c.in) == 0 && c.sc != nil && !c.park() {
		c.sc.Compact()
	}
	if c.tlsState == tlsReady {
		c.tls.Compact()
	}
}

// park drops the scanner of a quiet bound stream when a listener checkpoint holds
// its state: the commonest idle connection then holds no scanner at all, and
// scanner() restores one when input arrives. It reports whether it parked. On the
// loop, with no input held.
func (c *conn) park() bool {
	if c.stream.state != stBound {
		return false // negotiation reads the header's attributes through the scanner
	}
	for i, cp := range c.lis.checkpoints {
		if cp.Matches(c.sc) {
			c.sc, c.parkedAt = nil, uint8(i+1)
			return true
		}
	}
	return false
}

// scanner returns the connection's scanner, restoring a parked one. On the loop.
func (c *conn) scanner() *xmlscan.Scanner {
	if c.sc == nil {
		c.sc, c.parkedAt = c.lis.checkpoints[c.parkedAt-1].Restore(), 0
	}
	return c.sc
}

// maxInlineSteps bounds the SASL steps one read may run on the loop (see onTraffic).
const maxInlineSteps = 8

const (
	tlsNone uint8 = iota
	tlsHandshake
	tlsReady
)

// post queues fn to run on the connection's loop and wakes the loop. Safe from any
// goroutine; fn is dropped if the connection has closed.
func (c *conn) post(fn func()) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.tasks = append(c.tasks, fn)
	wake := !c.wakePending
	c.wakePending = true
	c.mu.Unlock()
	if wake {
		_ = c.gc.Wake(nil)
	}
}

// deliver queues stanza bytes for the client. It copies b, so the caller may reuse it.
// Safe from any goroutine. Writes queued between two loop iterations leave in one
// write.
func (c *conn) deliver(b []byte) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	if c.outq == nil {
		c.outq = bytebufferpool.Get()
	}
	_, _ = c.outq.Write(b)
	wake := !c.wakePending
	c.wakePending = true
	c.mu.Unlock()
	if wake {
		_ = c.gc.Wake(nil)
	}
}

// drain runs posted tasks and writes queued output. On the loop only.
func (c *conn) drain() {
	c.mu.Lock()
	if !c.wakePending {
		c.mu.Unlock()
		return
	}
	out, tasks := c.outq, c.tasks
	c.outq, c.tasks, c.wakePending = nil, nil, false
	c.mu.Unlock()
	if out != nil {
		c.write(out.B)
		bytebufferpool.Put(out)
	}
	for _, fn := range tasks {
		if c.closing {
			break
		}
		fn()
	}
}

// write sends b to the client, through TLS when the stream is encrypted. On the loop
// only; b may be reused once write returns. While the connection's input is being
// handled (corked), writes are gathered and leave in one system call (one TLS record)
// when the handling ends: a stream header and its features, or the replies to
// stanzas that arrived together, cost one write instead of several.
func (c *conn) write(b []byte) {
	if c.closing && c.tlsState == tlsHandshake {
		return
	}
	c.lis.meter.BytesOut(len(b))
	if c.corked && c.tlsState != tlsHandshake {
		if c.wq == nil {
			c.wq = bytebufferpool.Get()
		}
		c.wq.B = append(c.wq.B, b...)
		return
	}
	c.send(b)
}

// send writes b to the socket now (gnet and crypto/tls copy what they keep).
func (c *conn) send(b []byte) {
	if c.tlsState == tlsReady {
		if _, err := c.tls.Write(b); err != nil {
			c.srv.log.Debug("c2s: tls write", "remote", c.gc.RemoteAddr(), "err", err)
			c.abort()
		}
		return
	}
	if _, err := c.gc.Write(b); err != nil {
		c.abort()
	}
}

// flush sends what corked writes gathered. It must run before anything that writes
// around write (the TLS handshake, close_notify) or closes the socket.
func (c *conn) flush() {
	wq := c.wq
	if wq == nil {
		return
	}
	c.wq = nil
	if !c.closing {
		c.send(wq.B)
	}
	bytebufferpool.Put(wq)
}

// writeString is write for constant protocol text.
func (c *conn) writeString(s string) { c.write([]byte(s)) }

// setDeadline arms the connection's timeout d from now (0 disarms it).
func (c *conn) setDeadline(d time.Duration) {
	if d <= 0 {
		c.deadline.Store(0)
		return
	}
	c.deadline.Store(time.Now().Add(d).UnixNano())
}

// abort closes the connection without a closing stream tag (the transport failed).
func (c *conn) abort() {
	if c.closing {
		return
	}
	c.flush()
	c.closing = true
	_ = c.gc.Close()
}

// closeStream ends the stream gracefully: the closing tag, then the TCP connection.
// The close is queued on the loop, after the bytes already written.
func (c *conn) closeStream() {
	if c.closing {
		return
	}
	c.writeString("</stream:stream>")
	c.flush()
	if c.tlsState == tlsReady {
		_ = c.tls.Close()
	}
	c.closing = true
	_ = c.gc.Close()
}

// onTraffic handles newly received bytes (data may be empty when the loop was only
// woken). data is valid only during the call. What it writes leaves in one batch at
// the end.
func (c *conn) onTraffic(data []byte) {
	c.corked = true
	c.handleTraffic(data)
	for n := 0; c.resumeSoon && !c.closing; n++ {
		c.resumeSoon = false
		if n == maxInlineSteps {
			// A client pipelining many cheap steps gets the rest after the loop
			// has served the other connections: the stream stays paused (busy)
			// until the posted resume runs.
			c.post(c.resume)
			break
		}
		c.resume()
	}
	c.corked = false
	c.flush()
}

func (c *conn) handleTraffic(data []byte) {
	c.drain()
	if c.closing {
		return
	}
	if len(data) > 0 {
		c.lis.meter.BytesIn(len(data))
		c.srv.reads.Add(1)
		if c.idle.Load() != idleActive {
			c.idle.Store(idleActive)
		}
	}
	switch c.tlsState {
	case tlsNone:
		c.feed(data)
	case tlsHandshake:
		if len(data) > 0 && c.tls.Feed(data) != nil {
			c.abort()
		}
	case tlsReady:
		if len(data) > 0 && c.tls.Feed(data) != nil {
			c.abort()
			return
		}
		c.readTLS()
	}
}

// readTLS decrypts whatever complete records have arrived and feeds the plaintext.
// The plaintext buffer is borrowed for the call only, so an idle TLS connection holds
// none.
func (c *conn) readTLS() {
	buf := c.srv.readBufs.Get().(*readBuf)
	defer c.srv.readBufs.Put(buf)
	for !c.closing {
		n, err := c.tls.Read(buf[:])
		if n > 0 {
			c.feed(buf[:n])
			continue
		}
		if err != nil {
			c.srv.log.Debug("c2s: tls read", "remote", c.gc.RemoteAddr(), "err", err)
			c.abort()
		}
		break
	}
}

// feed scans plaintext input: data (new bytes) after whatever c.in holds.
func (c *conn) feed(data []byte) {
	buf := data
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		buf = c.in
	}
	if c.busy || c.closing || len(buf) == 0 {
		if c.busy && len(buf) > c.lis.maxHeld() {
			// A client may pipeline what follows a pending step, not megabytes of it.
			c.in = nil
			c.streamError(stanza.StreamError{Condition: stanza.StreamPolicyViolation, Text: "too much input while a step is pending"})
			return
		}
		c.keep(buf)
		return
	}
	c.scanner() // a parked scanner comes back before it is needed
	drop, next := c.scan(buf)
	if c.closing {
		// The stream is over: nothing more will be scanned.
		c.in = nil
		return
	}
	buf = buf[drop:]
	if err := c.sc.Shift(drop); err != nil {
		c.srv.log.Error("c2s: scanner shift", "err", err)
		c.abort()
		return
	}
	if next == scanStartTLS {
		c.keep(nil)
		c.beginTLS(buf)
		return
	}
	c.keep(buf)
}

// keep stores rest as the pending input, reusing c.in's storage.
func (c *conn) keep(rest []byte) {
	if len(rest) == 0 {
		c.in = nil
		return
	}
	if len(c.in) > 0 && &rest[0] == &c.in[len(c.in)-len(rest)] {
		c.in = c.in[:copy(c.in, rest)]
		return
	}
	c.in = append(make([]byte, 0, max(len(rest), 512)), rest...)
}

// resume rescans held input after an asynchronous step finished. On the loop only.
func (c *conn) resume() {
	c.busy = false
	if c.closing || len(c.in) == 0 {
		return
	}
	// The held input stays in c.in: feed scans it in place and keeps what is left
	// without a new buffer.
	c.feed(nil)
}

// beginTLS switches the connection to TLS (STARTTLS or direct TLS); early holds
// bytes that already arrived after the <starttls/> element.
func (c *conn) beginTLS(early []byte) {
	acc := c.srv.startTLS
	if c.lis.tls == tlsDirect {
		acc = c.srv.directTLS
	}
	c.flush() // <proceed/> leaves in the clear, before the handshake
	if c.closing {
		// The write failed and gnet closed the connection inside it (OnClose has
		// run): no handshake may start, nothing would ever stop it.
		return
	}
	// RFC 6120 5.4.3.3: nothing negotiated in the clear survives the TLS layer; an
	// authentication begun before it is abandoned.
	c.stream.auth = nil
	c.tls = acc.Server(tlsconn.GnetSink(c.gc))
	c.tlsState = tlsHandshake
	if len(early) > 0 {
		if err := c.tls.Feed(early); err != nil {
			c.abort()
			return
		}
	}
	c.setDeadline(c.lis.handshakeTimeout)
	err := c.tls.StartHandshake(c.srv.ctx, func(err error) {
		c.post(func() { c.handshakeDone(err) })
	})
	if err != nil {
		c.srv.log.Warn("c2s: tls handshake refused", "remote", c.gc.RemoteAddr(), "err", err)
		c.abort()
	}
}

func (c *conn) handshakeDone(err error) {
	if err != nil {
		c.srv.log.Debug("c2s: tls handshake failed", "remote", c.gc.RemoteAddr(), "err", err)
		c.abort()
		return
	}
	c.tlsState = tlsReady
	c.stream.secured = true
	c.sc.Reset()
	c.setDeadline(c.lis.handshakeTimeout)
	c.readTLS()
	c.tls.Compact() // the handshake's buffers are empty now and not needed again
}

// Resource returns the bound resource; the router reads it from any goroutine, which
// is safe because it is set before the session enters the table and never changes.
func (c *conn) Resource() string { return c.stream.jid.Resourcepart() }

// readBuf holds one TLS record's worth of plaintext.
type readBuf [16 << 10]byte
