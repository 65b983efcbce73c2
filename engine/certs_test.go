package engine

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hermod-im/hermod/engine/config"
)

// newTestCert writes a fresh self-signed certificate for host into dir under the
// given base name, using the generator the server uses on first start.
func newTestCert(t *testing.T, dir, base string) (certFile, keyFile string) {
	t.Helper()
	cfg := config.Default()
	cfg.General.DataDir = t.TempDir()
	cs := &certStore{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c, k, err := cs.selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
	for _, p := range [][2]string{{c, certFile}, {k, keyFile}} {
		b, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := newTestCert(t, dir, "live")
	cfg := config.Default()
	cfg.General.DataDir = t.TempDir()
	cfg.TLS.CertFile, cfg.TLS.KeyFile = certFile, keyFile
	cs, err := newCertStore(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hello := &tls.ClientHelloInfo{ServerName: "localhost"}
	before, err := cs.getCertificate(hello)
	if err != nil {
		t.Fatal(err)
	}
	// The operator replaces the files, then sends SIGHUP.
	newCert, newKey := newTestCert(t, dir, "next")
	if err := os.Rename(newCert, certFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(newKey, keyFile); err != nil {
		t.Fatal(err)
	}
	if err := cs.reload(); err != nil {
		t.Fatal(err)
	}
	after, _ := cs.getCertificate(hello)
	if string(after.Certificate[0]) == string(before.Certificate[0]) {
		t.Fatal("reload kept the old certificate")
	}
	// A broken file leaves the served set as it was.
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cs.reload(); err == nil {
		t.Fatal("reload of a broken certificate succeeded")
	}
	still, _ := cs.getCertificate(hello)
	if still != after {
		t.Fatal("a failed reload changed the served certificate")
	}
}

// TestSelfSignedFollowsDomains: the data directory's self-signed certificate is kept
// across restarts while it covers the served domains, and made again when they change.
func TestSelfSignedFollowsDomains(t *testing.T) {
	cfg := config.Default()
	cfg.General.DataDir = t.TempDir()
	cs := &certStore{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	names := func() []string {
		t.Helper()
		c, k, err := cs.selfSigned()
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return pair.Leaf.DNSNames
	}
	first := names()
	if !slices.Equal(first, []string{"localhost"}) {
		t.Fatalf("first certificate names %v", first)
	}
	b1, _ := os.ReadFile(filepath.Join(cfg.General.DataDir, "selfsigned.crt"))
	names()
	b2, _ := os.ReadFile(filepath.Join(cfg.General.DataDir, "selfsigned.crt"))
	if string(b1) != string(b2) {
		t.Fatal("the certificate was made again for the same domains")
	}
	cfg.General.Hosts = []string{"example.com", "localhost"}
	if got := names(); !slices.Equal(got, []string{"example.com", "localhost"}) {
		t.Fatalf("after the domains changed the certificate names %v", got)
	}
}
