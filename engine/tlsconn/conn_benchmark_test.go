package tlsconn

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"testing"
)

// The Stdlib benchmarks are the peer: crypto/tls used the ordinary way, on a
// blocking in-memory net.Conn, measured in the same run.

var benchVersions = []uint16{tls.VersionTLS12, tls.VersionTLS13}

// BenchmarkReadMessage: Feed the records of one client message of size
// bytes (several records above about 1.2 KB), Read it.
func BenchmarkReadMessage(b *testing.B) {
	for _, v := range benchVersions {
		for _, size := range []int{220, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", versionName(v), size), func(b *testing.B) {
				acc, _ := newTestAcceptor(b, Options{})
				lb := handshakeLoopback(b, acc, clientConfig(v), 0)
				msg := make([]byte, size)
				plain := make([]byte, 16<<10)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					b.StopTimer()
					batch := messages(b, lb, msg, min(1024, b.N-done))
					b.StartTimer()
					for _, rec := range batch {
						if err := lb.srv.Feed(rec); err != nil {
							b.Fatal(err)
						}
						if n, err := lb.srv.Read(plain); n != size || err != nil {
							b.Fatalf("read %d, %v", n, err)
						}
					}
					done += len(batch)
				}
			})
		}
	}
}

func BenchmarkReadMessageStdlib(b *testing.B) {
	cert, _ := testCert()
	for _, v := range benchVersions {
		for _, size := range []int{220, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", versionName(v), size), func(b *testing.B) {
				srv, cli, toSrv := stdlibPair(b, cert, v)
				defer srv.Close()
				defer cli.Close()
				msg := make([]byte, size)
				plain := make([]byte, 16<<10)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					b.StopTimer()
					n := min(1024, b.N-done)
					recs := make([][]byte, n)
					for i := range recs {
						if _, err := cli.Write(msg); err != nil {
							b.Fatal(err)
						}
						recs[i], _ = toSrv.take()
					}
					b.StartTimer()
					for _, rec := range recs {
						// The peer's "feed" is its socket receiving the bytes.
						toSrv.mu.Lock()
						toSrv.data = rec
						toSrv.mu.Unlock()
						if got, err := io.ReadFull(srv, plain[:size]); got != size || err != nil {
							b.Fatalf("read %d, %v", got, err)
						}
					}
					done += n
				}
			})
		}
	}
}

// BenchmarkWrite: encrypt size bytes and hand them to a sink.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{220, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			acc, _ := newTestAcceptor(b, Options{})
			lb := handshakeLoopback(b, acc, clientConfig(tls.VersionTLS13), 0)
			lb.srv.t.sink = discardSink{}
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := lb.srv.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandshake: a full in-memory handshake, both sides (ECDSA P-256
// certificate, Go's default key exchange).
func BenchmarkHandshake(b *testing.B) {
	for _, v := range benchVersions {
		b.Run(versionName(v), func(b *testing.B) {
			acc, _ := newTestAcceptor(b, Options{})
			cfg := clientConfig(v)
			b.ReportAllocs()
			for b.Loop() {
				lb := newLoopback(acc, cfg)
				if srvErr, cliErr := lb.handshake(context.Background()); srvErr != nil || cliErr != nil {
					b.Fatal(srvErr, cliErr)
				}
				lb.close()
			}
		})
	}
}

func BenchmarkHandshakeStdlib(b *testing.B) {
	cert, _ := testCert()
	for _, v := range benchVersions {
		b.Run(versionName(v), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				srv, cli, _ := stdlibPair(b, cert, v)
				srv.Close()
				cli.Close()
			}
		})
	}
}

// stdlibPair returns a handshaken crypto/tls server and client over
// in-memory blocking conns, and the client-to-server queue.
func stdlibPair(b *testing.B, cert tls.Certificate, v uint16) (srv, cli *tls.Conn, toSrv *byteQueue) {
	toSrv, toCli := newByteQueue(), newByteQueue()
	srv = tls.Server(&memConn{in: toSrv, out: toCli}, &tls.Config{Certificates: []tls.Certificate{cert}})
	cli = tls.Client(&memConn{in: toCli, out: toSrv}, clientConfig(v))
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return srv, cli, toSrv
}
