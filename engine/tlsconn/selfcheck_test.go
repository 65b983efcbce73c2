package tlsconn

import "testing"

// TestSelfCheck pins the undocumented crypto/tls behaviour the package relies
// on (see SelfCheck). If it fails after a Go upgrade, do not serve TLS with
// this package on that Go version: every connection would die at its first
// partial record.
func TestSelfCheck(t *testing.T) {
	if err := SelfCheck(); err != nil {
		t.Fatalf("GO UPGRADE BROKE THE TLS RECORD LAYER ON THE EVENT LOOP: %v", err)
	}
}
