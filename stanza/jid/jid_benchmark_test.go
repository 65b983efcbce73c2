package jid

import "testing"

var (
	benchJID  JID
	benchBool bool
)

func benchParse(b *testing.B, s string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		j, err := Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		benchJID = j
	}
}

// BenchmarkParse measures the fast path (normal ASCII), the per-part slow
// path (ASCII with upper case: PRECIS on the localpart, IDNA on the
// domainpart) and the full slow path (non-ASCII in every part).
func BenchmarkParse(b *testing.B) {
	b.Run("normal-ascii-full", func(b *testing.B) { benchParse(b, "juliet@capulet.example.com/balcony-4f2a") })
	b.Run("mixed-case-ascii-full", func(b *testing.B) { benchParse(b, "Juliet@Capulet.Example.com/balcony-4f2a") })
	b.Run("non-ascii-full", func(b *testing.B) { benchParse(b, "J\u00fcliet@B\u00fccher.example/\u00e9t\u00e9") })
	b.Run("a-label", func(b *testing.B) { benchParse(b, "juliet@xn--bcher-kva.example/balcony") })
	b.Run("ipv6-literal", func(b *testing.B) { benchParse(b, "juliet@[2001:db8::1]/balcony") })
}

func BenchmarkParseBytes(b *testing.B) {
	in := []byte("juliet@capulet.example.com/balcony-4f2a")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		j, err := ParseBytes(in)
		if err != nil {
			b.Fatal(err)
		}
		benchJID = j
	}
}

func BenchmarkBare(b *testing.B) {
	j := MustParse("juliet@capulet.example.com/balcony-4f2a")
	b.ReportAllocs()
	for b.Loop() {
		benchJID = j.Bare()
	}
}

// BenchmarkEqualBytes is the router comparing a session's JID with a "to"
// attribute still in the read buffer.
func BenchmarkEqualBytes(b *testing.B) {
	j := MustParse("juliet@capulet.example.com/balcony-4f2a")
	same := []byte("juliet@capulet.example.com/balcony-4f2a")
	other := []byte("romeo@montague.example.net/orchard")
	b.Run("equal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchBool = j.EqualBytes(same)
		}
	})
	b.Run("different", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchBool = j.EqualBytes(other)
		}
	})
}
