package tlsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// This file is an in-memory stand-in for an event loop and a socket: a
// crypto/tls client on one side, a Conn driven by the calling goroutine (the
// "loop") on the other. SelfCheck uses it at start-up and the tests use it
// everywhere; it is not for production traffic.

// byteQueue is an unbounded one-way byte stream. Writers never block; read
// blocks until data or close; take never blocks.
type byteQueue struct {
	mu     sync.Mutex
	data   []byte
	closed bool
	notify chan struct{} // one slot: "something changed"
}

func newByteQueue() *byteQueue { return &byteQueue{notify: make(chan struct{}, 1)} }

func (q *byteQueue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *byteQueue) write(b []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return net.ErrClosed
	}
	q.data = append(q.data, b...)
	q.signal()
	return nil
}

// read blocks until data is available or the queue is closed and drained.
func (q *byteQueue) read(p []byte) (int, error) {
	for {
		q.mu.Lock()
		if len(q.data) > 0 {
			n := copy(p, q.data)
			q.data = q.data[n:]
			q.mu.Unlock()
			return n, nil
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		<-q.notify
	}
}

// take returns everything buffered (nil if nothing) and whether the queue
// is closed.
func (q *byteQueue) take() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.data
	q.data = nil
	return b, q.closed
}

func (q *byteQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signal()
}

// memConn is the client's end of the in-memory socket.
type memConn struct{ in, out *byteQueue }

func (m *memConn) Read(p []byte) (int, error)  { return m.in.read(p) }
func (m *memConn) Write(p []byte) (int, error) { return len(p), m.out.write(p) }
func (m *memConn) Close() error {
	m.in.close()
	m.out.close()
	return nil
}
func (m *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// queueSink is the server's Sink: both paths append to the client's input.
// AsyncWrite runs written at once, as if the loop had already written.
type queueSink struct{ q *byteQueue }

func (s queueSink) Write(b []byte) error { return s.q.write(b) }
func (s queueSink) AsyncWrite(b []byte, written func()) error {
	err := s.q.write(b)
	if err == nil {
		written()
	}
	return err
}

// loopback joins a server Conn and a crypto/tls client. The goroutine that
// calls its methods plays the server's event loop.
type loopback struct {
	srv     *Conn
	client  *tls.Conn
	raw     *memConn   // the client's socket, before TLS
	toSrv   *byteQueue // client -> server ciphertext
	toCli   *byteQueue // server -> client ciphertext
	hsDone  chan error // the server's done callback
	cliDone chan error // the client's handshake result, once started
	plain   []byte     // plaintext the server has read so far
	scratch []byte     // Read buffer
	split   int        // feed at most this many bytes per Feed (0: all)
	srvErr  error      // first error Read returned
}

func newLoopback(acc *Acceptor, clientCfg *tls.Config) *loopback {
	lb := &loopback{
		toSrv:   newByteQueue(),
		toCli:   newByteQueue(),
		hsDone:  make(chan error, 1),
		scratch: make([]byte, 4096),
	}
	lb.raw = &memConn{in: lb.toCli, out: lb.toSrv}
	lb.srv = acc.Server(queueSink{lb.toCli})
	lb.client = tls.Client(lb.raw, clientCfg)
	return lb
}

// start begins the server handshake.
func (lb *loopback) start(ctx context.Context) error {
	return lb.srv.StartHandshake(ctx, func(err error) { lb.hsDone <- err })
}

// startClient begins the client handshake in a goroutine; its result
// arrives on cliDone. handshake calls it if the test has not.
func (lb *loopback) startClient(ctx context.Context) {
	if lb.cliDone != nil {
		return
	}
	lb.cliDone = make(chan error, 1)
	go func() { lb.cliDone <- lb.client.HandshakeContext(ctx) }()
}

// handshake starts both sides (unless already started) and plays the loop
// until both are done or 30 seconds pass. It returns the server's and the
// client's results.
func (lb *loopback) handshake(ctx context.Context) (srvErr, cliErr error) {
	if lb.srv.State() == StateNew {
		if err := lb.start(ctx); err != nil {
			return err, nil
		}
	}
	lb.startClient(ctx)
	srvPending, cliPending := true, true
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for srvPending || cliPending {
		select {
		case <-lb.toSrv.notify:
			// A Feed error here (closed, full) also ends the handshake,
			// whose goroutine reports the cause.
			_ = lb.pump()
		case srvErr = <-lb.hsDone:
			srvPending = false
			if srvErr == nil {
				// Records may have come with the client's last flight.
				_ = lb.readAll()
			}
		case cliErr = <-lb.cliDone:
			cliPending = false
			if cliErr != nil {
				// A failed client stops talking; end the server side too.
				lb.raw.Close()
				lb.srv.Abort()
			}
		case <-timeout.C:
			return errors.New("loopback: handshake did not finish"), errors.New("loopback: timeout")
		}
	}
	return srvErr, cliErr
}

// pump feeds whatever the client has sent, lb.split bytes at a time, and
// reads plaintext after each piece once established.
func (lb *loopback) pump() error {
	b, _ := lb.toSrv.take()
	return lb.feed(b)
}

// feed hands b to the server in pieces and drains plaintext after each.
func (lb *loopback) feed(b []byte) error {
	for len(b) > 0 {
		n := len(b)
		if lb.split > 0 && n > lb.split {
			n = lb.split
		}
		if err := lb.srv.Feed(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if lb.srv.State() == StateEstablished {
			if err := lb.readAll(); err != nil {
				return err
			}
		}
	}
	return nil
}

// readAll reads plaintext until Read returns 0.
func (lb *loopback) readAll() error {
	for {
		n, err := lb.srv.Read(lb.scratch)
		lb.plain = append(lb.plain, lb.scratch[:n]...)
		if err != nil {
			if lb.srvErr == nil {
				lb.srvErr = err
			}
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

func (lb *loopback) close() {
	lb.srv.Abort()
	lb.raw.Close()
}
