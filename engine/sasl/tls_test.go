package sasl

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testCert returns a self-signed certificate for example.org signed with alg.
func testCert(t testing.TB, alg x509.SignatureAlgorithm) tls.Certificate {
	t.Helper()
	var key crypto.Signer
	var err error
	if alg == x509.PureEd25519 {
		_, key, err = ed25519.GenerateKey(rand.Reader)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(1),
		Subject:            pkix.Name{CommonName: "example.org"},
		DNSNames:           []string{"example.org"},
		NotBefore:          time.Now().Add(-time.Hour),
		NotAfter:           time.Now().Add(time.Hour),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tlsLoopback connects a crypto/tls client and server over a real TCP connection on
// 127.0.0.1 and completes the handshake on both ends.
func tlsLoopback(t testing.TB, cert tls.Certificate, version uint16) (srv, cli *tls.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   *tls.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- result{err: err}
			return
		}
		c := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
		ch <- result{c, c.Handshake()}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	cli, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs: pool, ServerName: "example.org", MinVersion: version, MaxVersion: version,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { cli.Close(); r.c.Close() })
	return r.c, cli
}

func TestExporterBinding(t *testing.T) {
	cert := testCert(t, x509.ECDSAWithSHA256)
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		srv, cli := tlsLoopback(t, cert, v)
		scs, ccs := srv.ConnectionState(), cli.ConnectionState()
		sb, err := ExporterBinding(&scs)
		if err != nil {
			t.Fatalf("%x: %v", v, err)
		}
		cb, err := ExporterBinding(&ccs)
		if err != nil {
			t.Fatal(err)
		}
		if sb.Type != TLSExporter || len(sb.Data) != 32 || string(sb.Data) != string(cb.Data) {
			t.Fatalf("%x: server %x client %x", v, sb.Data, cb.Data)
		}
		// Another connection has other binding data.
		srv2, _ := tlsLoopback(t, cert, v)
		scs2 := srv2.ConnectionState()
		sb2, _ := ExporterBinding(&scs2)
		if string(sb2.Data) == string(sb.Data) {
			t.Fatal("two connections share tls-exporter data")
		}
	}
	if _, err := ExporterBinding(&tls.ConnectionState{}); err == nil {
		t.Fatal("binding from an incomplete handshake")
	}
	t.Run("unsafe EKM setting refuses TLS 1.2", func(t *testing.T) {
		t.Setenv("GODEBUG", "tlsunsafeekm=1")
		srv, _ := tlsLoopback(t, cert, tls.VersionTLS12)
		cs := srv.ConnectionState()
		if _, err := ExporterBinding(&cs); !errors.Is(err, errUnsafeEKM) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEndPointBinding(t *testing.T) {
	for _, tc := range []struct {
		alg  x509.SignatureAlgorithm
		hash crypto.Hash
	}{
		{x509.ECDSAWithSHA256, crypto.SHA256},
		{x509.ECDSAWithSHA384, crypto.SHA384},
		{x509.ECDSAWithSHA512, crypto.SHA512},
	} {
		cert := testCert(t, tc.alg)
		b, err := EndPointBinding(cert.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		d := tc.hash.New()
		d.Write(cert.Certificate[0])
		if b.Type != TLSServerEndPoint || string(b.Data) != string(d.Sum(nil)) {
			t.Fatalf("%v: %x", tc.alg, b.Data)
		}
	}
	if _, err := EndPointBinding(testCert(t, x509.PureEd25519).Leaf); !errors.Is(err, errNoEndPointHash) {
		t.Fatalf("Ed25519: %v", err)
	}
	// RFC 5929 section 4.1: MD5 and SHA-1 are replaced by SHA-256.
	for alg, want := range map[x509.SignatureAlgorithm]crypto.Hash{
		x509.MD5WithRSA: crypto.SHA256, x509.SHA1WithRSA: crypto.SHA256, x509.ECDSAWithSHA1: crypto.SHA256,
		x509.DSAWithSHA1: crypto.SHA256, x509.SHA256WithRSAPSS: crypto.SHA256, x509.SHA384WithRSA: crypto.SHA384,
		x509.SHA512WithRSAPSS: crypto.SHA512, x509.UnknownSignatureAlgorithm: 0, x509.PureEd25519: 0,
	} {
		if got, ok := endPointHash(alg); got != want || ok != (want != 0) {
			t.Errorf("%v: %v %v", alg, got, ok)
		}
	}
}

func TestTLSBindings(t *testing.T) {
	cert := testCert(t, x509.ECDSAWithSHA256)
	ep, err := EndPointBinding(cert.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := tlsLoopback(t, cert, tls.VersionTLS13)
	cs := srv.ConnectionState()
	got := TLSBindings(nil, &cs, ep)
	if len(got) != 2 || got[0].Type != TLSExporter || got[1].Type != TLSServerEndPoint {
		t.Fatalf("got %+v", got)
	}
	if got := TLSBindings(nil, &cs, ChannelBinding{}); len(got) != 1 || got[0].Type != TLSExporter {
		t.Fatalf("without end-point: %+v", got)
	}
	if got := TLSBindings(nil, &tls.ConnectionState{}, ep); len(got) != 1 || got[0].Type != TLSServerEndPoint {
		t.Fatalf("without exporter: %+v", got)
	}
}

// saslClient is one side of a SASL exchange as mellium.im/sasl's Negotiator defines it.
type saslClient interface {
	Step(challenge []byte) (more bool, resp []byte, err error)
}

// serveSASL runs the server side of a toy framing of RFC 6120's SASL negotiation over a
// real connection: it announces the mechanisms, then answers "AUTH <mech> <b64|=|->"
// and "RESPONSE <b64>" lines with CHALLENGE, SUCCESS or FAILURE lines.
func serveSASL(conn net.Conn, a *Authenticator, c *Conn) (string, error) {
	r := bufio.NewReader(conn)
	w := func(parts ...string) error {
		_, err := conn.Write([]byte(strings.Join(parts, " ") + "\n"))
		return err
	}
	if err := w("MECHS", mechNames(a.Mechanisms(nil, c))); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "AUTH" {
		return "", fmt.Errorf("bad auth line %q", line)
	}
	m, _ := ParseMechanism([]byte(f[1]))
	s, err := a.NewServer(m, c)
	if err != nil {
		w("FAILURE", condOf(err).String())
		return "", err
	}
	in, err := decodePayload(f[2])
	if err != nil {
		return "", err
	}
	for {
		out, done, err := s.Step(context.Background(), in)
		if err != nil {
			w("FAILURE", condOf(err).String())
			return "", err
		}
		if done {
			return s.Username(), w("SUCCESS", base64.StdEncoding.EncodeToString(out)+".")
		}
		if err := w("CHALLENGE", base64.StdEncoding.EncodeToString(out)+"."); err != nil {
			return "", err
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		f := strings.Fields(line)
		if len(f) != 2 || f[0] != "RESPONSE" {
			return "", fmt.Errorf("bad response line %q", line)
		}
		if in, err = decodePayload(f[1]); err != nil {
			return "", err
		}
	}
}

// decodePayload decodes "-" (absent), "=" (empty) or base64 followed by a '.' guard.
func decodePayload(s string) ([]byte, error) {
	switch s {
	case "-":
		return nil, nil
	case "=":
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(strings.TrimSuffix(s, "."))
}

// runClient drives c against serveSASL on conn. It returns the server's failure condition
// (0 on success) and any client-side error, including a bad server signature.
func runClient(conn net.Conn, mech string, newClient func(remote []string) saslClient) (Condition, error) {
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	remote := strings.Fields(strings.TrimPrefix(line, "MECHS"))
	c := newClient(remote)
	_, resp, err := c.Step(nil)
	if err != nil {
		return 0, fmt.Errorf("client start: %w", err)
	}
	payload := "="
	if len(resp) > 0 {
		payload = base64.StdEncoding.EncodeToString(resp)
	}
	if _, err := fmt.Fprintf(conn, "AUTH %s %s\n", mech, payload); err != nil {
		return 0, err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return 0, fmt.Errorf("bad server line %q", line)
		}
		switch f[0] {
		case "FAILURE":
			c, _ := ParseCondition([]byte(f[1]))
			return c, nil
		case "SUCCESS":
			data, err := decodePayload(f[1])
			if err != nil {
				return 0, err
			}
			if len(data) > 0 {
				if _, _, err := c.Step(data); err != nil {
					return 0, fmt.Errorf("client rejected the server's success data: %w", err)
				}
			}
			return 0, nil
		case "CHALLENGE":
			data, err := decodePayload(f[1])
			if err != nil {
				return 0, err
			}
			_, resp, err := c.Step(data)
			if err != nil {
				return 0, fmt.Errorf("client step: %w", err)
			}
			if _, err := fmt.Fprintf(conn, "RESPONSE %s.\n", base64.StdEncoding.EncodeToString(resp)); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("bad server line %q", line)
		}
	}
}

// refStepper adapts refClient to saslClient.
type refStepper struct {
	c     *refClient
	steps int
}

func (s *refStepper) Step(in []byte) (bool, []byte, error) {
	s.steps++
	switch s.steps {
	case 1:
		return true, s.c.first(), nil
	case 2:
		out, err := s.c.final(in)
		return true, out, err
	case 3:
		return false, nil, s.c.verify(in)
	}
	return false, nil, errors.New("too many steps")
}

// exchangeResult is what one exchange over TLS produced on both sides.
type exchangeResult struct {
	user      string
	serverErr error
	cond      Condition
	clientErr error
}

// exchangeOverTLS authenticates over a fresh TLS connection of the given version. The
// server's Conn carries tls-exporter (when available) and tls-server-end-point computed
// from its own handshake state; newClient gets the client's connection state.
func exchangeOverTLS(t *testing.T, a *Authenticator, cert tls.Certificate, version uint16, mech string,
	newClient func(cs tls.ConnectionState, remote []string) saslClient) exchangeResult {
	t.Helper()
	srv, cli := tlsLoopback(t, cert, version)
	ep, err := EndPointBinding(cert.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	scs := srv.ConnectionState()
	sc := &Conn{Secure: true, Bindings: TLSBindings(nil, &scs, ep), Domain: "example.org"}
	type sres struct {
		user string
		err  error
	}
	ch := make(chan sres, 1)
	go func() {
		u, err := serveSASL(srv, a, sc)
		ch <- sres{u, err}
	}()
	ccs := cli.ConnectionState()
	cond, cerr := runClient(cli, mech, func(remote []string) saslClient { return newClient(ccs, remote) })
	cli.Close()
	r := <-ch
	return exchangeResult{user: r.user, serverErr: r.err, cond: cond, clientErr: cerr}
}
