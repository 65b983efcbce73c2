package tlsconn

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"time"
)

// SelfCheck verifies, in memory and in a few milliseconds, the undocumented
// crypto/tls behaviour this package relies on, with TLS 1.2 and TLS 1.3:
// after the handshake, a record fed one byte at a time yields no plaintext
// and no error until its last byte, then its plaintext, and the connection
// keeps working (a temporary read error is not recorded as the connection's
// error). The engine should call it once at start-up and refuse to serve TLS
// if it fails: a Go upgrade that breaks the assumption would otherwise kill
// every TLS connection at its first partial record. Safe from any goroutine;
// it starts (and ends) one handshake goroutine per version.
func SelfCheck() error {
	cert, roots, err := selfSignedCert("selfcheck.invalid")
	if err != nil {
		return fmt.Errorf("tlsconn: self-check: %w", err)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if err := selfCheckVersion(cert, roots, v); err != nil {
			return fmt.Errorf("tlsconn: self-check with %s on %s: %w",
				tls.VersionName(v), runtime.Version(), err)
		}
	}
	return nil
}

func selfCheckVersion(cert tls.Certificate, roots *x509.CertPool, version uint16) error {
	acc, err := NewAcceptor(Config(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }),
		Options{Limiter: NewLimiter(1, 1)})
	if err != nil {
		return err
	}
	lb := newLoopback(acc, &tls.Config{
		RootCAs: roots, ServerName: "selfcheck.invalid",
		MinVersion: version, MaxVersion: version,
	})
	defer lb.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if srvErr, cliErr := lb.handshake(ctx); srvErr != nil || cliErr != nil {
		return fmt.Errorf("in-memory handshake failed: server: %v, client: %v", srvErr, cliErr)
	}
	if got := lb.srv.ConnectionState().Version; got != version {
		return fmt.Errorf("negotiated %s", tls.VersionName(got))
	}

	buf := make([]byte, 64)
	for round, msg := range []string{"first record", "second record"} {
		if _, err := lb.client.Write([]byte(msg)); err != nil {
			return fmt.Errorf("client write: %w", err)
		}
		record, _ := lb.toSrv.take()
		if len(record) <= len(msg) {
			return fmt.Errorf("client produced %d bytes for a %d-byte message", len(record), len(msg))
		}
		for i := range record {
			if err := lb.srv.Feed(record[i : i+1]); err != nil {
				return fmt.Errorf("feed: %w", err)
			}
			// Call crypto/tls directly: Conn.Read would not call it
			// before the record is complete.
			n, err := lb.srv.tc.Read(buf)
			last := i == len(record)-1
			switch {
			case !last && err != errWouldBlock:
				return fmt.Errorf("round %d: byte %d of %d: crypto/tls returned %d, %v; want the "+
					"transport's temporary error", round, i+1, len(record), n, err)
			case last && err != nil:
				return fmt.Errorf("round %d: crypto/tls returned %q for the completed record: it no longer "+
					"tolerates a temporary error on a partial record, so the record layer cannot "+
					"run on the event loop", round, err)
			case last && string(buf[:n]) != msg:
				return fmt.Errorf("round %d: complete record gave %q, want %q", round, buf[:n], msg)
			}
		}
	}
	// The same through Conn.Read, with two records fed at once.
	for _, msg := range []string{"third", "fourth"} {
		if _, err := lb.client.Write([]byte(msg)); err != nil {
			return fmt.Errorf("client write: %w", err)
		}
	}
	both, _ := lb.toSrv.take()
	if err := lb.srv.Feed(both); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	if n, err := lb.srv.Read(buf); err != nil || string(buf[:n]) != "thirdfourth" {
		return fmt.Errorf("Conn.Read of two records: %q, %v", buf[:n], err)
	}
	if _, err := lb.srv.Write([]byte("reply")); err != nil {
		return fmt.Errorf("server write: %w", err)
	}
	got := make([]byte, 5)
	if _, err := lb.client.Read(got); err != nil || !bytes.Equal(got, []byte("reply")) {
		return fmt.Errorf("client read %q, %v", got, err)
	}
	return nil
}

// selfSignedCert makes an ECDSA P-256 certificate for names, valid for a
// day, and a pool that trusts it.
func selfSignedCert(names ...string) (tls.Certificate, *x509.CertPool, error) {
	if len(names) == 0 {
		return tls.Certificate{}, nil, errors.New("no names for certificate")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("parse certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
