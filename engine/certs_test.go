package engine

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
