package sasl

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"testing"

	msasl "mellium.im/sasl"
)

// Full exchanges over real crypto/tls connections on loopback. mellium.im/sasl is the
// independent client where it can be: PLAIN, SCRAM-SHA-1/256 and their -PLUS variants,
// for which it uses tls-exporter under TLS 1.3 and tls-unique (which Hermod does not
// offer) under TLS 1.2. What it cannot drive (SCRAM-SHA-512, tls-server-end-point,
// tls-exporter under TLS 1.2) is driven by refClient, written from RFC 5802 alone.

func interopAuth(t *testing.T) *Authenticator {
	t.Helper()
	ks := newMemKeys()
	ks.set("juliet", "r0m30myr0m30", []byte("0123456789abcdef"), 4096, allHashes...)
	return newTestAuth(t, ks, nil)
}

func mellium(m msasl.Mechanism, user, password, identity string) func(tls.ConnectionState, []string) saslClient {
	return func(cs tls.ConnectionState, remote []string) saslClient {
		return msasl.NewClient(m,
			msasl.Credentials(func() ([]byte, []byte, []byte) { return []byte(user), []byte(password), []byte(identity) }),
			msasl.TLSState(cs),
			msasl.RemoteMechanisms(remote...))
	}
}

// melliumNoRemote is a mellium client that was not told the server's mechanisms, so for
// a -PLUS mechanism it believes the server cannot bind and sends the GS2 flag 'y'.
func melliumNoRemote(m msasl.Mechanism) func(tls.ConnectionState, []string) saslClient {
	return func(cs tls.ConnectionState, _ []string) saslClient {
		return msasl.NewClient(m,
			msasl.Credentials(func() ([]byte, []byte, []byte) { return []byte("juliet"), []byte("r0m30myr0m30"), nil }),
			msasl.TLSState(cs))
	}
}

func TestInteropMellium(t *testing.T) {
	a := interopAuth(t)
	pwAuth, err := NewAuthenticator(Options{
		Passwords: &memPasswords{users: map[string]string{"juliet": "r0m30myr0m30"}},
		Secret:    testSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	cert := testCert(t, x509.ECDSAWithSHA256)
	const tls13, tls12 = tls.VersionTLS13, tls.VersionTLS12
	for _, tc := range []struct {
		name    string
		a       *Authenticator
		version uint16
		mech    msasl.Mechanism
		client  func(tls.ConnectionState, []string) saslClient
		want    Condition
	}{
		{"PLAIN against keys", a, tls13, msasl.Plain, mellium(msasl.Plain, "juliet", "r0m30myr0m30", ""), 0},
		{"PLAIN against password checker", pwAuth, tls13, msasl.Plain, mellium(msasl.Plain, "juliet", "r0m30myr0m30", ""), 0},
		{"PLAIN with authzid", a, tls13, msasl.Plain, mellium(msasl.Plain, "juliet", "r0m30myr0m30", "juliet@example.org"), 0},
		{"PLAIN wrong password", a, tls13, msasl.Plain, mellium(msasl.Plain, "juliet", "wrong", ""), NotAuthorized},
		{"PLAIN other authzid", a, tls13, msasl.Plain, mellium(msasl.Plain, "juliet", "r0m30myr0m30", "romeo@example.org"), InvalidAuthzid},
		{"SCRAM-SHA-1", a, tls13, msasl.ScramSha1, mellium(msasl.ScramSha1, "juliet", "r0m30myr0m30", ""), 0},
		{"SCRAM-SHA-256", a, tls13, msasl.ScramSha256, mellium(msasl.ScramSha256, "juliet", "r0m30myr0m30", ""), 0},
		{"SCRAM-SHA-256 TLS 1.2", a, tls12, msasl.ScramSha256, mellium(msasl.ScramSha256, "juliet", "r0m30myr0m30", ""), 0},
		{"SCRAM-SHA-256 case-mapped user", a, tls13, msasl.ScramSha256, mellium(msasl.ScramSha256, "JULIET", "r0m30myr0m30", ""), 0},
		{"SCRAM-SHA-256 authzid", a, tls13, msasl.ScramSha256, mellium(msasl.ScramSha256, "juliet", "r0m30myr0m30", "juliet@example.org"), 0},
		{"SCRAM-SHA-256 wrong password", a, tls13, msasl.ScramSha256, mellium(msasl.ScramSha256, "juliet", "wrong", ""), NotAuthorized},
		{"SCRAM-SHA-256 unknown user", a, tls13, msasl.ScramSha256, mellium(msasl.ScramSha256, "romeo", "r0m30myr0m30", ""), NotAuthorized},
		{"SCRAM-SHA-1-PLUS tls-exporter", a, tls13, msasl.ScramSha1Plus, mellium(msasl.ScramSha1Plus, "juliet", "r0m30myr0m30", ""), 0},
		{"SCRAM-SHA-256-PLUS tls-exporter", a, tls13, msasl.ScramSha256Plus, mellium(msasl.ScramSha256Plus, "juliet", "r0m30myr0m30", ""), 0},
		{"SCRAM-SHA-256-PLUS authzid", a, tls13, msasl.ScramSha256Plus, mellium(msasl.ScramSha256Plus, "juliet", "r0m30myr0m30", "juliet"), 0},
		{"SCRAM-SHA-256-PLUS wrong password", a, tls13, msasl.ScramSha256Plus, mellium(msasl.ScramSha256Plus, "juliet", "nope", ""), NotAuthorized},
		// Under TLS 1.2 mellium binds with tls-unique, which is not offered.
		{"SCRAM-SHA-256-PLUS tls-unique refused", a, tls12, msasl.ScramSha256Plus, mellium(msasl.ScramSha256Plus, "juliet", "r0m30myr0m30", ""), NotAuthorized},
		{"-PLUS with flag y", a, tls13, msasl.ScramSha256Plus, melliumNoRemote(msasl.ScramSha256Plus), MalformedRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := exchangeOverTLS(t, tc.a, cert, tc.version, tc.mech.Name, tc.client)
			if r.clientErr != nil {
				t.Fatalf("client: %v (server: %v)", r.clientErr, r.serverErr)
			}
			if r.cond != tc.want || condOf(r.serverErr) != tc.want {
				t.Fatalf("condition %q, server error %v, want %q", r.cond, r.serverErr, tc.want)
			}
			if tc.want == 0 && r.user != "juliet" {
				t.Fatalf("user %q", r.user)
			}
		})
	}
}

// refOverTLS returns a refClient factory whose binding data comes from the client's own
// connection state, computed independently of binding.go.
func refOverTLS(hashName, flag, password string) func(tls.ConnectionState, []string) saslClient {
	return func(cs tls.ConnectionState, _ []string) saslClient {
		c := &refClient{hashName: hashName, user: "juliet", password: password, gs2Flag: flag, cnonce: "ref-client-nonce"}
		switch flag {
		case "p=tls-exporter":
			c.cbData, _ = cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		case "p=tls-server-end-point":
			// The test certificate is signed with ECDSA-SHA256, so RFC 5929 says SHA-256.
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			c.cbData = sum[:]
		}
		return &refStepper{c: c}
	}
}

func TestInteropReferenceClientOverTLS(t *testing.T) {
	a := interopAuth(t)
	cert := testCert(t, x509.ECDSAWithSHA256)
	for _, tc := range []struct {
		name    string
		version uint16
		mech    Mechanism
		client  func(tls.ConnectionState, []string) saslClient
		want    Condition
	}{
		{"SCRAM-SHA-512", tls.VersionTLS13, ScramSHA512, refOverTLS("SHA-512", "n", "r0m30myr0m30"), 0},
		{"SCRAM-SHA-512-PLUS tls-exporter", tls.VersionTLS13, ScramSHA512Plus, refOverTLS("SHA-512", "p=tls-exporter", "r0m30myr0m30"), 0},
		{"SCRAM-SHA-512-PLUS tls-server-end-point", tls.VersionTLS13, ScramSHA512Plus, refOverTLS("SHA-512", "p=tls-server-end-point", "r0m30myr0m30"), 0},
		{"SCRAM-SHA-256-PLUS tls-server-end-point", tls.VersionTLS13, ScramSHA256Plus, refOverTLS("SHA-256", "p=tls-server-end-point", "r0m30myr0m30"), 0},
		{"SCRAM-SHA-1-PLUS tls-server-end-point TLS 1.2", tls.VersionTLS12, ScramSHA1Plus, refOverTLS("SHA-1", "p=tls-server-end-point", "r0m30myr0m30"), 0},
		{"SCRAM-SHA-256-PLUS tls-exporter TLS 1.2 with EMS", tls.VersionTLS12, ScramSHA256Plus, refOverTLS("SHA-256", "p=tls-exporter", "r0m30myr0m30"), 0},
		{"SCRAM-SHA-512-PLUS wrong password", tls.VersionTLS13, ScramSHA512Plus, refOverTLS("SHA-512", "p=tls-exporter", "nope"), NotAuthorized},
		{"downgrade: flag y while -PLUS is offered", tls.VersionTLS13, ScramSHA512, refOverTLS("SHA-512", "y", "r0m30myr0m30"), NotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := exchangeOverTLS(t, a, cert, tc.version, tc.mech.String(), tc.client)
			if r.clientErr != nil {
				t.Fatalf("client: %v (server: %v)", r.clientErr, r.serverErr)
			}
			if r.cond != tc.want || condOf(r.serverErr) != tc.want {
				t.Fatalf("condition %q, server error %v, want %q", r.cond, r.serverErr, tc.want)
			}
		})
	}
}

// TestChannelBindingDetectsRelay simulates a man in the middle: the client's TLS session
// ends at the attacker, who relays SCRAM to the server over a second session. The client
// binds to its own session, so the server (seeing the second) must refuse.
func TestChannelBindingDetectsRelay(t *testing.T) {
	a := interopAuth(t)
	cert := testCert(t, x509.ECDSAWithSHA256)
	_, victim := tlsLoopback(t, cert, tls.VersionTLS13)
	victimState := victim.ConnectionState()
	for _, mech := range []msasl.Mechanism{msasl.ScramSha256Plus, msasl.ScramSha1Plus} {
		r := exchangeOverTLS(t, a, cert, tls.VersionTLS13, mech.Name, func(_ tls.ConnectionState, remote []string) saslClient {
			return mellium(mech, "juliet", "r0m30myr0m30", "")(victimState, remote)
		})
		if r.cond != NotAuthorized || condOf(r.serverErr) != NotAuthorized {
			t.Fatalf("%s relayed: condition %q, server %v, client %v", mech.Name, r.cond, r.serverErr, r.clientErr)
		}
		if f := r.serverErr.(*Failure); f.Text != errTextCBMismatch {
			t.Fatalf("failure text %q", f.Text)
		}
	}
}
