//go:build !race

package jid

import "testing"

// TestZeroAllocs pins the allocation-free claims of the package doc.
func TestZeroAllocs(t *testing.T) {
	full := "juliet@example.com/balcony"
	j := MustParse(full)
	out := make([]byte, 0, 64)
	var sink JID
	var ok bool
	var n int
	tests := []struct {
		name string
		want float64
		f    func()
	}{
		{"Parse normal full JID", 0, func() { sink, _ = Parse(full) }},
		{"Parse normal domain", 0, func() { sink, _ = Parse("conference.example.com") }},
		{"Parse normal IPv6 literal", 0, func() { sink, _ = Parse("u@[2001:db8::1]/r") }},
		{"ParseBytes normal full JID", 1, func() { sink, _ = ParseBytes([]byte(full)) }},
		{"Parse mixed-case ASCII", 1, func() { sink, _ = Parse("Juliet@Example.com/Balcony") }},
		{"ParseBytes mixed-case ASCII", 1, func() { sink, _ = ParseBytes([]byte("Juliet@Example.com/Balcony")) }},
		{"Bare", 0, func() { sink = j.Bare() }},
		{"DomainJID", 0, func() { sink = j.DomainJID() }},
		{"parts", 0, func() { n = len(j.Localpart()) + len(j.Domainpart()) + len(j.Resourcepart()) }},
		{"AppendTo", 0, func() { out = j.AppendTo(out[:0]) }},
		{"EqualBytes same", 0, func() { ok = j.EqualBytes([]byte(full)) }},
		{"EqualBytes other normal", 0, func() { ok = j.EqualBytes([]byte("romeo@example.net/orchard")) }},
		{"EqualBytes upper case", 0, func() { ok = j.EqualBytes([]byte("Juliet@Example.com/balcony")) }},
		{"EqualBytes other upper case", 0, func() { ok = j.EqualBytes([]byte("Juliet@Example.com/Balcony")) }},
		{"Equal", 0, func() { ok = j.Equal(sink) }},
	}
	for _, tc := range tests {
		if got := testing.AllocsPerRun(200, tc.f); got != tc.want {
			t.Errorf("%s: %v allocs, want %v", tc.name, got, tc.want)
		}
	}
	_, _, _ = sink, ok, n
}
