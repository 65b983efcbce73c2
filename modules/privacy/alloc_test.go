//go:build !race

package privacy

import (
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza/jid"
)

// TestDeniedAllocs pins the claim of the package documentation: the check a hook makes
// on an event loop does not allocate, for users with or without lists, allowed or not.
func TestDeniedAllocs(t *testing.T) {
	m := testModule(50)
	romeo, nobody := jid.MustParse("romeo@example.com"), jid.MustParse("nobody@example.com")
	cases := []struct {
		name     string
		self     jid.JID
		other    string
		kind     backends.PrivacyStanzas
		wantDeny bool
	}{
		{"no state", nobody, "friend1@example.net/x", backends.PrivacyMessage, false},
		{"blocked", romeo, "blocked49@example.org/x", backends.PrivacyIQ, true},
		{"roster both", romeo, "friend7@example.net/x", backends.PrivacyMessage, false},
		{"stranger message", romeo, "someone@example.net/x", backends.PrivacyMessage, true},
		{"stranger presence", romeo, "someone@example.net/x", backends.PrivacyPresenceIn, false},
	}
	for _, c := range cases {
		other := jid.MustParse(c.other)
		if _, deny := m.denied(c.self, nil, other, c.kind); deny != c.wantDeny {
			t.Fatalf("%s: deny %v, want %v", c.name, deny, c.wantDeny)
		}
		if n := testing.AllocsPerRun(200, func() { m.denied(c.self, nil, other, c.kind) }); n != 0 {
			t.Errorf("%s: %v allocations per check", c.name, n)
		}
	}
}
