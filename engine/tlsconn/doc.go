// Package tlsconn runs TLS on event-loop connections (gnet has none) so that an
// established, idle TLS connection holds no goroutine and almost no buffer.
//
// # Design
//
// A Conn wraps a crypto/tls server connection around an in-memory transport (a
// net.Conn) that the event loop drives:
//
//   - The loop hands every ciphertext byte it receives to Conn.Feed. Ciphertext
//     leaves through a Sink: Sink.Write on the loop, Sink.AsyncWrite from the
//     handshake goroutine.
//   - The handshake runs in a short-lived goroutine started by
//     Conn.StartHandshake. A shared Limiter bounds how many run at once and
//     queues the rest (reconnect storms cost queue slots, not goroutines). In that
//     goroutine the transport's Read blocks until the loop feeds bytes, the
//     handshake times out, or the connection is closed. crypto/tls makes every
//     handshake error sticky, which is why the handshake cannot run on the loop.
//   - Once the handshake has succeeded the goroutine exits and the record layer
//     runs on the loop: Conn.Read asks crypto/tls for plaintext, and when the
//     transport has no bytes left it returns a net.Error whose Temporary() is
//     true. crypto/tls's readRecordOrCCS does not make temporary errors sticky
//     and keeps the partial record in its buffer, so the next Feed resumes it.
//     That behaviour is undocumented: SelfCheck verifies it (the engine should
//     call it at start-up) and the package tests pin it.
//   - The transport follows TLS record boundaries and never hands crypto/tls
//     more than the rest of the current record. So crypto/tls never holds a
//     record Conn.Read does not know about, and Read enters crypto/tls only
//     when a complete record is buffered: polling an idle or half-fed
//     connection costs a mutex, not a crypto/tls call and an allocation.
//   - Writes from the handshake goroutine go out by Sink.AsyncWrite; loop
//     writes go out by Sink.Write, except while handshake bytes are still
//     queued, when they queue behind them (gnet does not order Wake after
//     AsyncWrite).
//
// STARTTLS and direct TLS (XEP-0368) share the code: for STARTTLS the engine
// feeds the bytes it already holds after <starttls/> before or after calling
// StartHandshake; for direct TLS it creates the Conn when the socket opens.
// Config builds a server tls.Config with Hermod's defaults (TLS 1.2 or newer,
// Go's cipher suites, certificates chosen by SNI through the caller's
// GetCertificate, ALPN "xmpp-client" or "xmpp-server" for direct TLS).
//
// # Goroutines
//
// Every method says who may call it. In short: Feed, StartHandshake, Read,
// Write, Close, Buffered and Compact belong to the connection's event loop; the done callback of
// StartHandshake is called from the handshake goroutine (the engine should
// Wake the connection from it and continue on the loop); Abort, State,
// HandshakeComplete and ConnectionState are safe from any goroutine.
//
// # Memory
//
// Ciphertext waiting in the transport sits in a pooled buffer that goes back
// to the pool as soon as crypto/tls has consumed it, so an idle connection
// holds none. What remains per idle connection is crypto/tls's state (the
// tls.Conn, two AES-GCM states, and the buffers it read the handshake with)
// and this package's small Conn. Conn.Compact drops crypto/tls's empty
// handshake buffers (about 3.5 KB) on a connection the engine deems idle.
// Measured with internal/measure at 5,000 idle TLS 1.3 connections on
// loopback (Go 1.26.8, 2 cores): 8.9 KB of server RSS per connection, 5.0 KB
// after Compact, against 0.5 KB for plain gnet and 22.5 KB for a
// goroutine-per-connection crypto/tls server; the kernel adds about 4.5 KB
// per socket in every case.
//
// # What this package must not do
//
// It never reads from or writes to a socket itself, never blocks an event
// loop, never keeps a goroutine per established connection, and knows nothing
// of XMPP beyond the ALPN protocol names.
package tlsconn
