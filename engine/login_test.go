package engine_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// login opens a client session with mellium.im/xmpp over addr.
func login(t *testing.T, addr, user, password, resource string, direct bool, mech ...msasl.Mechanism) (*xmpp.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	if direct {
		cfg := clientTLS()
		cfg.NextProtos = []string{"xmpp-client"}
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	} else {
		conn, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	if err != nil {
		return nil, err
	}
	origin := jid.MustParse(user + "@localhost")
	if resource != "" {
		origin = jid.MustParse(user + "@localhost/" + resource)
	}
	if len(mech) == 0 {
		mech = []msasl.Mechanism{msasl.ScramSha256}
	}
	features := []xmpp.StreamFeature{xmpp.SASL("", password, mech...), xmpp.BindResource()}
	if !direct {
		features = append([]xmpp.StreamFeature{xmpp.StartTLS(clientTLS())}, features...)
	}
	s, err := xmpp.NewClientSession(ctx, origin, conn, features...)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { s.Close(); conn.Close() })
	return s, nil
}

func TestLoginEveryMechanism(t *testing.T) {
	ts := startServer(t)
	ts.AddUser("alice", "pencil")
	mechs := []msasl.Mechanism{
		msasl.Plain, msasl.ScramSha1, msasl.ScramSha256,
		msasl.ScramSha1Plus, msasl.ScramSha256Plus,
	}
	for _, direct := range []bool{false, true} {
		for _, m := range mechs {
			name := m.Name + "/starttls"
			addr := ts.C2S
			if direct {
				name, addr = m.Name+"/direct", ts.Direct
			}
			t.Run(name, func(t *testing.T) {
				s, err := login(t, addr, "alice", "pencil", "r-"+strings.ToLower(m.Name), direct, m)
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				// mellium v0.22 sends an empty <resource/> whatever it is asked
				// for, so the server generates one; raw tests cover chosen resources.
				if got := s.LocalAddr(); got.Bare().String() != "alice@localhost" || got.Resourcepart() == "" {
					t.Fatalf("bound JID %q", got)
				}
			})
		}
	}
}

func TestLoginWrongPassword(t *testing.T) {
	ts := startServer(t)
	ts.AddUser("alice", "pencil")
	for _, m := range []msasl.Mechanism{msasl.Plain, msasl.ScramSha256} {
		if _, err := login(t, ts.C2S, "alice", "wrong", "x", false, m); err == nil {
			t.Fatalf("%s: login with a wrong password succeeded", m.Name)
		}
		if _, err := login(t, ts.C2S, "nobody", "pencil", "x", false, m); err == nil {
			t.Fatalf("%s: login of an unknown user succeeded", m.Name)
		}
	}
}

func TestServerGeneratedResource(t *testing.T) {
	ts := startServer(t)
	ts.AddUser("alice", "pencil")
	s, err := login(t, ts.C2S, "alice", "pencil", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if s.LocalAddr().Resourcepart() == "" {
		t.Fatalf("no resource generated: %s", s.LocalAddr())
	}
}
