package tlsconn

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// Errors returned by Conn. They are sentinels: compare with errors.Is.
var (
	// ErrClosed: the Conn was closed or aborted.
	ErrClosed = errors.New("tlsconn: connection closed")
	// ErrNotEstablished: Read or Write before the handshake succeeded.
	ErrNotEstablished = errors.New("tlsconn: handshake not complete")
	// ErrHandshakeStarted: StartHandshake called twice.
	ErrHandshakeStarted = errors.New("tlsconn: handshake already started")
	// ErrInputFull: the peer sent more ciphertext than crypto/tls consumed
	// and the buffer cap was reached (a flood during the handshake, or an
	// engine that stopped reading).
	ErrInputFull = errors.New("tlsconn: too much unread ciphertext")
	// ErrBusy: the Limiter's queue is full; the engine should close the
	// connection.
	ErrBusy = errors.New("tlsconn: too many pending TLS handshakes")
)

// State is where a Conn is in its life.
type State uint32

// The states of a Conn, in order.
const (
	StateNew         State = iota // created; Feed allowed, handshake not started
	StateHandshaking              // the handshake goroutine is queued or running
	StateEstablished              // the record layer runs on the loop
	StateFailed                   // the handshake failed or timed out
	StateClosed                   // Close or Abort was called
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateHandshaking:
		return "handshaking"
	case StateEstablished:
		return "established"
	case StateFailed:
		return "failed"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// collectThreshold is the plaintext size above which Conn.Write gathers its
// records into one sink write. crypto/tls sizes application records for one
// TCP segment (about 1.2 KB of payload) until the connection has sent 128 KB,
// so anything larger becomes several records.
const collectThreshold = 1024

// Conn is a TLS server connection driven by an event loop. Create it with
// Acceptor.Server. The zero value is not usable.
type Conn struct {
	t     transport
	tc    *tls.Conn
	acc   *Acceptor
	state atomic.Uint32
	// established is set once, when the handshake succeeds, and never
	// cleared: ConnectionState stays available after Close.
	established atomic.Bool
	// morePlain says crypto/tls may hold plaintext that Read has not
	// returned yet (the last read filled its buffer, or the handshake just
	// ended). Loop only.
	morePlain bool
	// readErr is the first error Read returned; later Reads return it
	// again, so a caller that processes n > 0 and calls again still sees
	// it. Loop only.
	readErr error
	// job lives only while the handshake is queued or running.
	job *handshakeJob
}

// Feed hands the Conn ciphertext received from the peer. It copies b (into a
// pooled buffer released once crypto/tls has consumed it), so b may be a
// gnet Peek slice. Before StartHandshake it buffers bytes for the handshake,
// which is how STARTTLS passes on what the client sent after <starttls/>.
// After the handshake, call Read once Feed returns.
//
// Call it on the connection's event loop only. It returns ErrClosed after
// Close or Abort and ErrInputFull when more than 128 KiB would be waiting.
func (c *Conn) Feed(ciphertext []byte) error {
	if err := c.t.feed(ciphertext); err != nil {
		return fmt.Errorf("tlsconn: feed: %w", err)
	}
	return nil
}

// Buffered reports how many fed ciphertext bytes crypto/tls has not taken
// yet. Call it on the connection's event loop.
func (c *Conn) Buffered() int { return c.t.buffered() }

// Read decrypts into plain the complete records fed so far. It returns
// fewer than len(plain) bytes only when no complete record is left, so the
// loop calls it again only when it filled plain (0, nil means "feed more").
// Checking for a complete record costs nothing: the Conn follows record
// boundaries itself and calls into crypto/tls only when a record is
// complete or plaintext is left over. It returns io.EOF once the peer sent
// close_notify, and the connection's fatal error otherwise (after which the
// engine closes the socket); bytes returned with an error are valid, and
// every later call returns the same error.
//
// Call it on the connection's event loop only, and only once the handshake
// succeeded (ErrNotEstablished otherwise). Right after done(nil), call it even
// without new input: the peer's first records may have arrived with its last
// handshake flight.
func (c *Conn) Read(plain []byte) (int, error) {
	if st := State(c.state.Load()); st != StateEstablished {
		return 0, c.stateErr(st)
	}
	if c.readErr != nil {
		return 0, c.readErr
	}
	total := 0
	for total < len(plain) && (c.morePlain || c.t.hasRecord()) {
		n, err := c.tc.Read(plain[total:])
		total += n
		// crypto/tls returns one record's plaintext per call: a full
		// plain means some may be left in crypto/tls.
		c.morePlain = total == len(plain)
		if err == errWouldBlock {
			// The record carried no application data (a KeyUpdate, an
			// empty record) and nothing complete follows.
			break
		}
		if err != nil {
			c.readErr = err
			return total, err
		}
	}
	return total, nil
}

// Write encrypts plain and hands the records to the sink. Plaintext larger
// than about 1 KB leaves in one sink write however many records it takes.
//
// Call it on the connection's event loop only, and only once the handshake
// succeeded (ErrNotEstablished otherwise).
func (c *Conn) Write(plain []byte) (int, error) {
	if st := State(c.state.Load()); st != StateEstablished {
		return 0, c.stateErr(st)
	}
	if len(plain) <= collectThreshold {
		return c.tc.Write(plain)
	}
	c.t.beginCollect()
	n, err := c.tc.Write(plain)
	if ferr := c.t.endCollect(); err == nil && ferr != nil {
		err = fmt.Errorf("tlsconn: write: %w", ferr)
	}
	return n, err
}

// Close ends the connection. After a successful handshake it sends
// close_notify through Sink.Write first; during a handshake it stops the
// handshake goroutine (done is still called, with an error). It does not
// close the socket: the engine does that after Close returns. Further calls
// return nil.
//
// Call it on the connection's event loop only. When the socket is already
// gone (gnet's OnClose), use Abort.
func (c *Conn) Close() error {
	switch State(c.state.Swap(uint32(StateClosed))) {
	case StateClosed:
		return nil
	case StateEstablished:
		if err := c.tc.Close(); err != nil {
			return fmt.Errorf("tlsconn: close: %w", err)
		}
		return nil
	default:
		c.t.close()
		return nil
	}
}

// Abort ends the connection without writing anything: use it when the
// socket is already closed. A running handshake fails (done is still called)
// and its goroutine exits promptly. Safe from any goroutine.
func (c *Conn) Abort() {
	c.state.Store(uint32(StateClosed))
	c.t.close()
}

// State returns the connection's state. Safe from any goroutine.
func (c *Conn) State() State { return State(c.state.Load()) }

// HandshakeComplete reports whether the handshake succeeded (it stays true
// after Close). Safe from any goroutine.
func (c *Conn) HandshakeComplete() bool { return c.established.Load() }

// ConnectionState returns the negotiated parameters (version, cipher suite,
// ALPN protocol, SNI name, and ExportKeyingMaterial for tls-exporter channel
// binding). Before the handshake succeeds it returns the zero value rather
// than wait for the handshake goroutine. Safe from any goroutine.
func (c *Conn) ConnectionState() tls.ConnectionState {
	if !c.established.Load() {
		return tls.ConnectionState{}
	}
	return c.tc.ConnectionState()
}

func (c *Conn) stateErr(st State) error {
	if st == StateClosed {
		return ErrClosed
	}
	return fmt.Errorf("%w (state %s)", ErrNotEstablished, st)
}

// crypto/tls keeps, per connection, the buffers it read the handshake with:
// rawInput (sized by the largest record so far, about 2 KB after a
// ClientHello carrying an X25519MLKEM768 key share) and hand (the handshake
// messages, about 1.5 KB). They stay allocated while the connection idles,
// and are about 40% of an idle TLS connection's heap. crypto/tls offers no
// way to release them, so Compact resets them, through their field offsets,
// when they are empty: an empty bytes.Buffer or bytes.Reader and its zero
// value behave the same, and crypto/tls grows them again on the next
// record. This relies on the names and types of three unexported fields;
// if a Go release changes them, Compact becomes a no-op (never unsafe) and
// TestPinCompactFields fails.

// tlsBuffers holds the offsets of crypto/tls.Conn's input buffers.
type tlsBuffers struct {
	ok                    bool
	rawInput, input, hand uintptr
}

// findTLSBuffers looks the fields up by name and checks their types.
func findTLSBuffers() tlsBuffers {
	t := reflect.TypeFor[tls.Conn]()
	buffer, reader := reflect.TypeFor[bytes.Buffer](), reflect.TypeFor[bytes.Reader]()
	var b tlsBuffers
	ok := true
	field := func(name string, typ reflect.Type) uintptr {
		f, found := t.FieldByName(name)
		if !found || f.Type != typ || len(f.Index) != 1 {
			ok = false
			return 0
		}
		return f.Offset
	}
	b.rawInput = field("rawInput", buffer)
	b.input = field("input", reader)
	b.hand = field("hand", buffer)
	b.ok = ok
	return b
}

// Compact releases the memory crypto/tls keeps between records when none
// of it holds data, and returns how many bytes of buffer capacity it
// released (0 when there was nothing to release, the connection is not
// established, or this Go version's crypto/tls is not the one Compact
// knows). The connection works as before; the next record costs one
// allocation to grow the buffers again, so call Compact when a connection
// has gone idle (from the idle timer, say), not after every read.
//
// Call it on the connection's event loop only.
func (c *Conn) Compact() int {
	b := &c.acc.bufs
	if !b.ok || State(c.state.Load()) != StateEstablished || c.morePlain {
		return 0
	}
	base := unsafe.Pointer(c.tc)
	raw := (*bytes.Buffer)(unsafe.Add(base, b.rawInput))
	input := (*bytes.Reader)(unsafe.Add(base, b.input))
	hand := (*bytes.Buffer)(unsafe.Add(base, b.hand))
	if raw.Len() != 0 || input.Len() != 0 || hand.Len() != 0 {
		return 0
	}
	released := raw.Cap() + hand.Cap()
	// input aliases rawInput's array; drop both references.
	*raw, *input, *hand = bytes.Buffer{}, bytes.Reader{}, bytes.Buffer{}
	return released
}
