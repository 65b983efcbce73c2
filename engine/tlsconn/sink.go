package tlsconn

import (
	"net"

	"github.com/panjf2000/gnet/v2"
)

// Sink takes the ciphertext a Conn produces to the peer.
type Sink interface {
	// Write writes b to the socket, or to the connection's outbound buffer,
	// before it returns; it must not keep b. The Conn calls it only on the
	// connection's event loop.
	Write(b []byte) error
	// AsyncWrite queues b to be written on the connection's event loop,
	// after every b queued before, and takes ownership of b. It must call
	// written exactly once (from any goroutine) when b has been written or
	// dropped, if it returns nil. The Conn calls it from the handshake
	// goroutine, and on the loop while earlier AsyncWrites are pending.
	AsyncWrite(b []byte, written func()) error
}

// GnetSink adapts a gnet connection: Write is gnet's Conn.Write (which
// copies what the socket does not take at once) and AsyncWrite is gnet's
// Conn.AsyncWrite (which runs written on the loop, even when the connection
// has closed meanwhile). It also lends the socket's addresses to
// tls.ClientHelloInfo.Conn.
func GnetSink(c gnet.Conn) Sink { return gnetSink{c} }

type gnetSink struct{ c gnet.Conn }

func (s gnetSink) Write(b []byte) error {
	_, err := s.c.Write(b)
	return err
}

func (s gnetSink) AsyncWrite(b []byte, written func()) error {
	return s.c.AsyncWrite(b, func(gnet.Conn, error) error {
		written()
		return nil
	})
}

func (s gnetSink) LocalAddr() net.Addr  { return s.c.LocalAddr() }
func (s gnetSink) RemoteAddr() net.Addr { return s.c.RemoteAddr() }
