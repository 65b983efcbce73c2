package sasl_test

import (
	"context"
	"fmt"

	"github.com/hermod-im/hermod/engine/sasl"
)

// oneUser is a KeyStore holding SCRAM-SHA-256 keys for a single account.
type oneUser struct {
	name string
	keys sasl.ScramKeys
}

func (u oneUser) ScramKeys(_ context.Context, user string, h sasl.Hash) (sasl.ScramKeys, bool, error) {
	if user != u.name || h != sasl.SHA256 {
		return sasl.ScramKeys{}, false, nil
	}
	return u.keys, true, nil
}

// Example shows the engine's side: advertise, then run one PLAIN exchange on a TLS stream.
func Example() {
	store := oneUser{name: "juliet", keys: sasl.DeriveKeys(sasl.SHA256, "r0m30", []byte("0123456789abcdef"), 4096)}
	a, err := sasl.NewAuthenticator(sasl.Options{
		Keys:   store,
		Hashes: []sasl.Hash{sasl.SHA256},
		Secret: []byte("a long and stable server secret"),
	})
	if err != nil {
		panic(err)
	}
	conn := &sasl.Conn{Secure: true, Domain: "example.org"}
	fmt.Println(string(a.AppendFeatures(nil, conn)))

	// <auth mechanism='PLAIN'>AGp1bGlldAByMG0zMA==</auth>, base64-decoded by the engine.
	m, _ := sasl.ParseMechanism([]byte("PLAIN"))
	s, err := a.NewServer(m, conn)
	if err != nil {
		panic(err)
	}
	_, done, err := s.Step(context.Background(), []byte("\x00Juliet\x00r0m30"))
	fmt.Println(done, err, s.Username())

	s, _ = a.NewServer(m, conn)
	_, _, err = s.Step(context.Background(), []byte("\x00juliet\x00romeo"))
	fmt.Println(err)
	// Output:
	// <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism><mechanism>PLAIN</mechanism></mechanisms>
	// true <nil> juliet
	// sasl: not-authorized
}
