package sasl

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	_ "crypto/sha256" // register SHA-224/256 for crypto.Hash.New
	_ "crypto/sha512" // register SHA-384/512 for crypto.Hash.New
)

// Channel-binding type names (the IANA "Channel-binding unique prefix"), as they appear in
// the GS2 header's p= and in XEP-0440's <channel-binding type='...'/>.
const (
	// TLSExporter is RFC 9266's type: 32 bytes exported from the TLS session under the
	// label "EXPORTER-Channel-Binding". Unique per connection; only defined for TLS 1.3
	// or TLS 1.2 with the extended master secret.
	TLSExporter = "tls-exporter"
	// TLSServerEndPoint is RFC 5929 section 4's type: a hash of the server certificate.
	// It is the same for every connection served with the certificate, and XEP-0440
	// requires servers to offer it.
	TLSServerEndPoint = "tls-server-end-point"
)

// exporterLabel and exporterLen are fixed by RFC 9266 section 2.
const (
	exporterLabel = "EXPORTER-Channel-Binding"
	exporterLen   = 32
)

// ChannelBinding is one channel-binding type available on a connection and its data. The
// engine supplies them per connection; a connection without TLS has none.
type ChannelBinding struct {
	Type string
	Data []byte
}

var (
	errNoTLS13OrEMS    = errors.New("tls-exporter needs TLS 1.3, or TLS 1.2 with the extended master secret")
	errUnsafeEKM       = errors.New("tls-exporter refused for TLS 1.2: GODEBUG tlsunsafeekm=1 hides whether the extended master secret was used")
	errNoEndPointHash  = errors.New("tls-server-end-point is undefined for a certificate signature without a single hash (RFC 5929 section 4.1)")
	errEmptyKeyingData = errors.New("tls-exporter: empty keying material")
)

// ExporterBinding computes the tls-exporter binding (RFC 9266) from a completed server or
// client handshake. It refuses TLS 1.2 sessions without the extended master secret, where
// the exported value is not unique to the connection: crypto/tls itself refuses them unless
// GODEBUG tlsunsafeekm=1, which this function therefore treats as "no EMS". Safe from any
// goroutine once the handshake is complete; costs one HKDF expansion and 32 bytes.
func ExporterBinding(cs *tls.ConnectionState) (ChannelBinding, error) {
	if !cs.HandshakeComplete {
		return ChannelBinding{}, errors.New("tls-exporter: handshake not complete")
	}
	if cs.Version < tls.VersionTLS12 {
		return ChannelBinding{}, errNoTLS13OrEMS
	}
	if cs.Version == tls.VersionTLS12 && strings.Contains(os.Getenv("GODEBUG"), "tlsunsafeekm=1") {
		return ChannelBinding{}, errUnsafeEKM
	}
	data, err := cs.ExportKeyingMaterial(exporterLabel, nil, exporterLen)
	if err != nil {
		if cs.Version == tls.VersionTLS12 {
			return ChannelBinding{}, fmt.Errorf("%w: %w", errNoTLS13OrEMS, err)
		}
		return ChannelBinding{}, fmt.Errorf("tls-exporter: %w", err)
	}
	if len(data) == 0 {
		return ChannelBinding{}, errEmptyKeyingData
	}
	return ChannelBinding{Type: TLSExporter, Data: data}, nil
}

// EndPointBinding computes the tls-server-end-point binding (RFC 5929 section 4.1) of the
// certificate the server presents: the hash of its DER encoding with the hash of its
// signature algorithm, SHA-256 in place of MD5 and SHA-1. The result depends only on the
// certificate, so compute it once when the certificate is loaded and share it between
// connections. Signatures without a single hash (Ed25519) have no defined binding and give
// an error. Safe from any goroutine.
func EndPointBinding(cert *x509.Certificate) (ChannelBinding, error) {
	h, ok := endPointHash(cert.SignatureAlgorithm)
	if !ok {
		return ChannelBinding{}, fmt.Errorf("%w: %v", errNoEndPointHash, cert.SignatureAlgorithm)
	}
	d := h.New()
	d.Write(cert.Raw)
	return ChannelBinding{Type: TLSServerEndPoint, Data: d.Sum(nil)}, nil
}

// endPointHash picks the hash of RFC 5929 section 4.1 for a signature algorithm.
// RSASSA-PSS names one hash in Go's algorithm identifiers, which is the hash used.
func endPointHash(alg x509.SignatureAlgorithm) (crypto.Hash, bool) {
	switch alg {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return crypto.SHA256, true
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return crypto.SHA384, true
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return crypto.SHA512, true
	}
	return 0, false
}

// TLSBindings appends to dst every binding available on a completed server-side
// handshake, strongest first: tls-exporter when the session allows it, then
// tls-server-end-point when endPoint (from EndPointBinding for the certificate served on
// this connection) has a Type. Failures only omit a type, as a connection may well have
// neither. Safe from any goroutine once the handshake is complete.
func TLSBindings(dst []ChannelBinding, cs *tls.ConnectionState, endPoint ChannelBinding) []ChannelBinding {
	if b, err := ExporterBinding(cs); err == nil {
		dst = append(dst, b)
	}
	if endPoint.Type == TLSServerEndPoint && len(endPoint.Data) > 0 {
		dst = append(dst, endPoint)
	}
	return dst
}

// validCBName reports whether s is a cb-name of RFC 5802 (1*(ALPHA / DIGIT / "." / "-")),
// which also makes it safe to write into an XML attribute unescaped.
func validCBName[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
