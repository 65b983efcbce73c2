package privacy

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza/jid"
)

// BenchmarkDenied measures the check the deliver hook makes for every stanza.
func BenchmarkDenied(b *testing.B) {
	romeo, nobody := jid.MustParse("romeo@example.com"), jid.MustParse("nobody@example.com")
	for _, c := range []struct {
		name  string
		n     int
		self  jid.JID
		other string
	}{
		{"NoLists", 10, nobody, "friend1@example.net/x"},
		{"Block10/Contact", 10, romeo, "friend3@example.net/x"},
		{"Block10/Blocked", 10, romeo, "blocked9@example.org/x"},
		{"Block1000/Contact", 1000, romeo, "friend3@example.net/x"},
	} {
		m := testModule(c.n)
		other := jid.MustParse(c.other)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.denied(c.self, nil, other, backends.PrivacyMessage)
			}
		})
	}
}
