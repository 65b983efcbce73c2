package tlsconn

import (
	"bytes"
	"crypto/tls"
	"reflect"
	"unsafe"
)

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
