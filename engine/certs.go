package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

// certStore holds the certificates served by SNI. Reload swaps the whole set
// atomically, so handshakes in flight keep the set they started with.
type certStore struct {
	cfg     *config.Config
	log     *slog.Logger
	set     atomic.Pointer[certSet]
	mu      sync.Mutex // serialises reloads
	bindMap sync.Map   // *tls.Certificate -> sasl.ChannelBinding (tls-server-end-point)
}

type certSet struct {
	byName map[string]*tls.Certificate
	def    *tls.Certificate
}

func newCertStore(cfg *config.Config, log *slog.Logger) (*certStore, error) {
	cs := &certStore{cfg: cfg, log: log}
	if err := cs.reload(); err != nil {
		return nil, err
	}
	return cs, nil
}

// reload reads every configured certificate again (on SIGHUP). With none configured
// it uses, or on first start generates, a self-signed certificate for the served
// domains, kept in the data directory.
func (cs *certStore) reload() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	set := &certSet{byName: map[string]*tls.Certificate{}}
	add := func(domains []string, certFile, keyFile string) error {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("tls: load %s: %w", certFile, err)
		}
		if c.Leaf == nil && len(c.Certificate) > 0 {
			c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
		}
		for _, d := range domains {
			set.byName[strings.ToLower(d)] = &c
		}
		if set.def == nil {
			set.def = &c
		}
		return nil
	}
	t := cs.cfg.TLS
	for host, pair := range t.Host {
		if err := add([]string{host}, pair.CertFile, pair.KeyFile); err != nil {
			return err
		}
	}
	for _, c := range t.Certificates {
		if err := add(c.Domains, c.CertFile, c.KeyFile); err != nil {
			return err
		}
	}
	if t.CertFile != "" {
		if err := add(cs.cfg.General.Hosts, t.CertFile, t.KeyFile); err != nil {
			return err
		}
	}
	if set.def == nil {
		certFile, keyFile, err := cs.selfSigned()
		if err != nil {
			return err
		}
		if err := add(cs.cfg.General.Hosts, certFile, keyFile); err != nil {
			return err
		}
	}
	cs.set.Store(set)
	cs.bindMap.Clear()
	return nil
}

// selfSigned returns the paths of the data directory's self-signed certificate,
// creating it when absent, and again when the one there no longer covers every served
// domain (the domains changed since it was made) or has expired.
func (cs *certStore) selfSigned() (string, string, error) {
	dir := cs.cfg.General.DataDir
	certFile, keyFile := filepath.Join(dir, "selfsigned.crt"), filepath.Join(dir, "selfsigned.key")
	why := "no certificate configured: generated a self-signed one"
	if _, err := os.Stat(certFile); err == nil {
		if selfSignedFits(certFile, cs.cfg.General.Hosts, time.Now()) {
			return certFile, keyFile, nil
		}
		why = "the self-signed certificate in the data directory does not cover the served domains or has expired: generated a new one"
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", "", fmt.Errorf("tls: data dir: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("tls: generate key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cs.cfg.General.Hosts[0], Organization: []string{"Hermod self-signed"}},
		DNSNames:     cs.cfg.General.Hosts,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("tls: self-sign: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("tls: marshal key: %w", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", fmt.Errorf("tls: write key: %w", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", fmt.Errorf("tls: write certificate: %w", err)
	}
	cs.log.Warn(why, "cert", certFile, "domains", cs.cfg.General.Hosts)
	return certFile, keyFile, nil
}

// selfSignedFits reports whether the certificate in certFile names every host and is
// valid at now. A file that cannot be read or parsed does not fit.
func selfSignedFits(certFile string, hosts []string, now time.Time) bool {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return false
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || now.After(cert.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// getCertificate picks the certificate by SNI, falling back to the default.
func (cs *certStore) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := cs.set.Load()
	if c, ok := set.byName[strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))]; ok {
		return c, nil
	}
	if set.def == nil {
		return nil, errors.New("tls: no certificate")
	}
	return set.def, nil
}

// endPointBinding returns the tls-server-end-point channel binding (RFC 5929) of the
// certificate the connection was served with, computed once per certificate.
func (cs *certStore) endPointBinding(state *tls.ConnectionState) sasl.ChannelBinding {
	c, err := cs.getCertificate(&tls.ClientHelloInfo{ServerName: state.ServerName})
	if err != nil || c.Leaf == nil {
		return sasl.ChannelBinding{}
	}
	if b, ok := cs.bindMap.Load(c); ok {
		return b.(sasl.ChannelBinding)
	}
	b, err := sasl.EndPointBinding(c.Leaf)
	if err != nil {
		return sasl.ChannelBinding{}
	}
	cs.bindMap.Store(c, b)
	return b
}

// tlsConfig is the server side TLS configuration shared by every listener.
func (cs *certStore) tlsConfig() *tls.Config {
	min := uint16(tls.VersionTLS12)
	if cs.cfg.TLS.MinVersion == "1.3" {
		min = tls.VersionTLS13
	}
	return &tls.Config{
		MinVersion:     min,
		GetCertificate: cs.getCertificate,
	}
}
