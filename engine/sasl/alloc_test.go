//go:build !race

package sasl

import "testing"

// TestZeroAllocs pins the "does not allocate" claims of the functions the engine may call
// on an event loop or on a buffer it owns.
func TestZeroAllocs(t *testing.T) {
	a := newTestAuth(t, newMemKeys(), func(o *Options) { o.Anonymous = true })
	conn := tlsConn(exporterCB, endPointCB)
	mechs := make([]Mechanism, 0, 8)
	types := make([]string, 0, 4)
	buf := make([]byte, 0, 2048)
	first := []byte("p=tls-exporter,a=juliet,n=juliet,r=fyko+d2lbbFgONRv9qkxdawL,x=ext")
	final := []byte("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
	name := []byte("SCRAM-SHA-256-PLUS")
	cond := []byte("temporary-auth-failure")
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"ParseMechanism", func() { ParseMechanism(name) }},
		{"ParseCondition", func() { ParseCondition(cond) }},
		{"Mechanisms", func() { mechs = a.Mechanisms(mechs[:0], conn) }},
		{"BindingTypes", func() { types = a.BindingTypes(types[:0], conn) }},
		{"AppendFeatures", func() { buf = a.AppendFeatures(buf[:0], conn) }},
		{"parseClientFirst", func() { parseClientFirst(first) }},
		{"parseClientFinal", func() { parseClientFinal(final) }},
	} {
		if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, n)
		}
	}
}
