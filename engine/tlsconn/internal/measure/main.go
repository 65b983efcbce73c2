// Command measure reports the memory an idle, established TLS connection
// costs a Hermod-style server: a gnet v2 echo server using engine/tlsconn
// (mode tls), the same server without TLS (mode plain), and the peer, a
// goroutine-per-connection crypto/tls server (mode stdlib), all on loopback.
//
// The server runs in this process; the clients run in a child process (this
// binary with -client) so that their memory stays out of the figures. Each
// client completes a TLS 1.3 handshake and one 220-byte echo, then idles.
// After runtime.GC and debug.FreeOSMemory the server reports, per
// connection, the growth of its RSS, live heap, heap in use and goroutine
// stacks, and the growth of the kernel's slab (system-wide: an estimate).
//
//	go run ./engine/tlsconn/internal/measure -n 5000 -mode tls
//
// It is a measuring tool, not a server: it must not be imported, and it
// trusts nothing but its own certificate.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/engine/tlsconn"
	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

const (
	certEnv    = "HERMOD_MEASURE_CERT"
	serverName = "measure.invalid"
	stanzaSize = 220
)

func main() {
	n := flag.Int("n", 2000, "connections (the process fd limit here is 20,000; keep to 5,000 or fewer)")
	mode := flag.String("mode", "tls", "tls (gnet + tlsconn), plain (gnet, no TLS) or stdlib (goroutine per connection crypto/tls)")
	client := flag.Bool("client", false, "internal: run as the client process")
	addr := flag.String("addr", "", "internal: server address for -client")
	useTLS := flag.Bool("tls", true, "internal: clients speak TLS")
	heapProfile := flag.String("heapprofile", "", "write the server's heap profile here after measuring")
	compact := flag.Bool("compact", false, "mode tls: call Conn.Compact on every idle connection (as an idle timer would) before measuring")
	flag.Parse()
	var err error
	if *client {
		err = runClients(*addr, *n, *useTLS)
	} else {
		if *heapProfile != "" {
			// Record every allocation: the per-connection objects are small.
			runtime.MemProfileRate = 1
		}
		err = runServer(*mode, *n, *compact, heapProfile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
}

// snapshot is the server's memory after a full GC.
type snapshot struct {
	rssKB      int64
	heapAlloc  uint64
	heapInuse  uint64
	stackInuse uint64
	goroutines int
	slabKB     int64
}

func measure() (snapshot, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := snapshot{heapAlloc: ms.HeapAlloc, heapInuse: ms.HeapInuse, stackInuse: ms.StackInuse,
		goroutines: runtime.NumGoroutine()}
	var err error
	if s.rssKB, err = procField("/proc/self/status", "VmRSS:", 1); err != nil {
		return s, err
	}
	if s.slabKB, err = procField("/proc/meminfo", "Slab:", 1); err != nil {
		return s, err
	}
	return s, nil
}

// procField returns the idx-th space-separated field of the line starting
// with prefix.
func procField(path, prefix string, idx int) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) > idx && f[0] == prefix {
			return strconv.ParseInt(f[idx], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %q line", path, prefix)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

func runServer(mode string, n int, compact bool, heapProfile *string) error {
	cert, der, err := makeCert()
	if err != nil {
		return err
	}
	var srv server
	switch mode {
	case "tls", "plain":
		srv, err = startGnet(mode == "tls", cert)
	case "stdlib":
		srv, err = startStdlib(cert)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		return err
	}
	defer srv.stop()
	time.Sleep(200 * time.Millisecond)
	before, err := measure()
	if err != nil {
		return err
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find executable: %w", err)
	}
	cmd := exec.Command(exe, "-client", "-addr", srv.addr(), "-n", strconv.Itoa(n), "-tls="+strconv.FormatBool(mode != "plain"))
	cmd.Env = append(os.Environ(), certEnv+"="+base64.StdEncoding.EncodeToString(der))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("client stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("client stdout: %w", err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start clients: %w", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("clients: %q, %v", line, err)
	}
	connectTime := time.Since(start)
	deadline := time.Now().Add(30 * time.Second)
	for srv.established() < int64(n) || srv.handshaking() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("server saw %d of %d connections established", srv.established(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g, ok := srv.(*gnetServer); ok && compact {
		released, err := g.compactAll(n)
		if err != nil {
			return err
		}
		fmt.Printf("Compact released %d B/conn\n", released/int64(n))
	}
	time.Sleep(time.Second)
	after, err := measure()
	if err != nil {
		return err
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("clients: %w", err)
	}

	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	what := "TLS 1.3, Go's default key exchange (X25519MLKEM768), ECDSA P-256"
	if mode == "plain" {
		what = "no TLS"
	} else if compact && mode == "tls" {
		what += ", compacted"
	}
	fmt.Printf("mode %s, %d idle connections (%s), %s, GOMAXPROCS %d, connect+echo %v\n",
		mode, n, what, runtime.Version(), runtime.GOMAXPROCS(0), connectTime.Round(time.Millisecond))
	fmt.Printf("  server RSS          %8.0f B/conn  (%d -> %d KB)\n", float64(after.rssKB-before.rssKB)*1024/float64(n), before.rssKB, after.rssKB)
	fmt.Printf("  live heap           %8.0f B/conn\n", per(after.heapAlloc, before.heapAlloc))
	fmt.Printf("  heap in use         %8.0f B/conn\n", per(after.heapInuse, before.heapInuse))
	fmt.Printf("  goroutine stacks    %8.0f B/conn\n", per(after.stackInuse, before.stackInuse))
	fmt.Printf("  goroutines          %8.2f /conn   (%d -> %d)\n", float64(after.goroutines-before.goroutines)/float64(n), before.goroutines, after.goroutines)
	fmt.Printf("  kernel slab         %8.0f B/socket (system-wide /proc/meminfo Slab over both ends of %d loopback pairs; noisy)\n",
		float64(after.slabKB-before.slabKB)*1024/float64(2*n), n)
	if *heapProfile != "" {
		if err := writeHeapProfile(*heapProfile); err != nil {
			return err
		}
	}
	return nil
}

// server is one of the three servers under measurement.
type server interface {
	addr() string
	established() int64
	handshaking() int
	stop()
}

func makeCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: serverName}, DNSNames: []string{serverName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, nil
}

// runClients opens n connections (32 at a time), echoes one stanza on each,
// reports "ready" and holds them until stdin closes.
func runClients(addr string, n int, useTLS bool) error {
	der, err := base64.StdEncoding.DecodeString(os.Getenv(certEnv))
	if err != nil {
		return fmt.Errorf("certificate from %s: %w", certEnv, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	cfg := &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS13}
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, stanzaSize)
			got := make([]byte, stanzaSize)
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				c, err := net.DialTimeout("tcp", addr, 30*time.Second)
				if err == nil && useTLS {
					tc := tls.Client(c, cfg)
					err = tc.Handshake()
					c = tc
				}
				if err == nil {
					_, err = c.Write(msg)
				}
				if err == nil {
					_, err = io.ReadFull(c, got)
				}
				if err != nil {
					errc <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		_ = c.Close()
	}
	return nil
}

// gnetServer is the event-loop server, with or without tlsconn.
type gnetServer struct {
	gnet.BuiltinEventEngine
	acc     *tlsconn.Acceptor
	eng     gnet.Engine
	ln      string
	booted  chan struct{}
	done    chan error
	estab   atomic.Int64
	scratch sync.Pool // read buffers, held only inside OnTraffic

	conns     sync.Map     // gnet.Conn -> struct{}, for compactAll
	compactOn atomic.Bool  // OnTraffic compacts when woken
	compacted atomic.Int64 // connections compacted
	released  atomic.Int64 // bytes Compact released
}

// compactAll wakes every connection so that its loop calls Compact, as an
// idle timer would, and waits until all have.
func (s *gnetServer) compactAll(n int) (int64, error) {
	s.compactOn.Store(true)
	s.conns.Range(func(k, _ any) bool {
		_ = k.(gnet.Conn).Wake(nil)
		return true
	})
	deadline := time.Now().Add(30 * time.Second)
	for s.compacted.Load() < int64(n) {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("compacted %d of %d connections", s.compacted.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s.released.Load(), nil
}

func startGnet(useTLS bool, cert tls.Certificate) (*gnetServer, error) {
	s := &gnetServer{booted: make(chan struct{}), done: make(chan error, 1)}
	s.scratch.New = func() any { b := make([]byte, 16<<10); return &b }
	if useTLS {
		if err := tlsconn.SelfCheck(); err != nil {
			return nil, err
		}
		acc, err := tlsconn.NewAcceptor(tlsconn.Config(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }),
			tlsconn.Options{})
		if err != nil {
			return nil, err
		}
		s.acc = acc
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.ln = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	go func() {
		s.done <- gnet.Run(s, "tcp://"+s.ln, gnet.WithReuseAddr(true), gnet.WithMulticore(true),
			gnet.WithLogLevel(logging.ErrorLevel))
	}()
	select {
	case <-s.booted:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("gnet: %w", err)
	}
}

// freePort asks the kernel for a free port (gnet does not report the one it
// got for port 0).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

func (s *gnetServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if s.acc == nil {
		return nil, gnet.None
	}
	tc := s.acc.Server(tlsconn.GnetSink(c))
	c.SetContext(tc)
	s.conns.Store(c, struct{}{})
	err := tc.StartHandshake(context.Background(), func(err error) {
		if err == nil {
			s.estab.Add(1)
		}
		_ = c.Wake(nil)
	})
	if err != nil {
		return nil, gnet.Close
	}
	return nil, gnet.None
}

func (s *gnetServer) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Next(-1)
	if s.acc == nil {
		if len(in) > 0 {
			if _, err := c.Write(in); err != nil {
				return gnet.Close
			}
		}
		return gnet.None
	}
	tc := c.Context().(*tlsconn.Conn)
	if err := tc.Feed(in); err != nil {
		return gnet.Close
	}
	switch tc.State() {
	case tlsconn.StateHandshaking:
		return gnet.None
	case tlsconn.StateEstablished:
	default:
		return gnet.Close
	}
	if len(in) == 0 && s.compactOn.Load() {
		s.released.Add(int64(tc.Compact()))
		s.compacted.Add(1)
		return gnet.None
	}
	bp := s.scratch.Get().(*[]byte)
	defer s.scratch.Put(bp)
	for {
		n, err := tc.Read(*bp)
		if n > 0 {
			if _, werr := tc.Write((*bp)[:n]); werr != nil {
				return gnet.Close
			}
		}
		if err != nil {
			_ = tc.Close()
			return gnet.Close
		}
		if n < len(*bp) {
			return gnet.None
		}
	}
}

func (s *gnetServer) OnClose(c gnet.Conn, _ error) gnet.Action {
	s.conns.Delete(c)
	if tc, ok := c.Context().(*tlsconn.Conn); ok {
		tc.Abort()
	}
	return gnet.None
}

func (s *gnetServer) addr() string { return s.ln }

func (s *gnetServer) established() int64 {
	if s.acc == nil {
		return int64(s.eng.CountConnections())
	}
	return s.estab.Load()
}

func (s *gnetServer) handshaking() int {
	if s.acc == nil {
		return 0
	}
	st := s.acc.Limiter().Stats()
	return st.Running + st.Queued
}

func (s *gnetServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.eng.Stop(ctx)
	<-s.done
}

// stdlibServer is the peer: net.Listener, a goroutine per connection, a
// crypto/tls server and a 4 KB read buffer held while idle, as a typical Go
// server does.
type stdlibServer struct {
	ln    net.Listener
	estab atomic.Int64
	wg    sync.WaitGroup
}

func startStdlib(cert tls.Certificate) (*stdlibServer, error) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &stdlibServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, nil
}

func (s *stdlibServer) serve(c net.Conn) {
	defer c.Close()
	if err := c.(*tls.Conn).Handshake(); err != nil {
		return
	}
	s.estab.Add(1)
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}

func (s *stdlibServer) addr() string       { return s.ln.Addr().String() }
func (s *stdlibServer) established() int64 { return s.estab.Load() }
func (s *stdlibServer) handshaking() int   { return 0 }
func (s *stdlibServer) stop() {
	_ = s.ln.Close()
	s.wg.Wait()
}
