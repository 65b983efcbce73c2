package sasl

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPlain(t *testing.T) {
	ks := newMemKeys()
	ks.set("juliet", "r0m30", []byte("0123456789abcdef"), 4096, SHA512)
	ks.set("nurse", "ﬁx\u00a0me", []byte("0123456789abcdef"), 1000, SHA1) // NBSP: OpaqueString maps it to a space
	pw := &memPasswords{users: map[string]string{"juliet": "r0m30", "nurse": "ﬁx me"}}
	errDown := errors.New("ldap down")

	for _, source := range []string{"keys", "passwords"} {
		t.Run(source, func(t *testing.T) {
			a := newTestAuth(t, ks, func(o *Options) {
				o.Hashes = []Hash{SHA256, SHA512, SHA1} // SHA256 absent for everyone: PLAIN must try on
				if source == "passwords" {
					o.Passwords = pw
				}
			})
			for _, tc := range []struct {
				name  string
				msg   string
				conn  *Conn
				want  Condition
				wantU string
			}{
				{"ok", "\x00juliet\x00r0m30", tlsConn(), 0, "juliet"},
				{"case-mapped", "\x00JULIET\x00r0m30", tlsConn(), 0, "juliet"},
				{"authzid user", "juliet\x00juliet\x00r0m30", tlsConn(), 0, "juliet"},
				{"authzid JID", "juliet@example.org\x00juliet\x00r0m30", tlsConn(), 0, "juliet"},
				{"password prepared", "\x00nurse\x00ﬁx\u3000me", tlsConn(), 0, "nurse"}, // ideographic space maps too
				{"authzid other", "romeo@example.org\x00juliet\x00r0m30", tlsConn(), InvalidAuthzid, ""},
				{"authzid other domain", "juliet@example.net\x00juliet\x00r0m30", tlsConn(), InvalidAuthzid, ""},
				{"wrong password", "\x00juliet\x00romeo", tlsConn(), NotAuthorized, ""},
				{"password case", "\x00juliet\x00R0M30", tlsConn(), NotAuthorized, ""},
				{"unknown user", "\x00romeo\x00r0m30", tlsConn(), NotAuthorized, ""},
				{"invalid username", "\x00jul iet\x00r0m30", tlsConn(), NotAuthorized, ""},
				{"username with @", "\x00juliet@example.org\x00r0m30", tlsConn(), NotAuthorized, ""},
				{"one NUL", "juliet\x00r0m30", tlsConn(), MalformedRequest, ""},
				{"no NUL", "julietr0m30", tlsConn(), MalformedRequest, ""},
				{"three NULs", "\x00juliet\x00r0m30\x00", tlsConn(), MalformedRequest, ""},
				{"empty authcid", "\x00\x00r0m30", tlsConn(), MalformedRequest, ""},
				{"empty password", "\x00juliet\x00", tlsConn(), MalformedRequest, ""},
				{"empty message", "", tlsConn(), MalformedRequest, ""},
				{"not UTF-8", "\x00juliet\x00r0m\xff30", tlsConn(), MalformedRequest, ""},
				{"authcid too long", "\x00" + strings.Repeat("a", 4*maxLocalpart+1) + "\x00p", tlsConn(), MalformedRequest, ""},
				{"localpart too long", "\x00" + strings.Repeat("a", maxLocalpart+1) + "\x00p", tlsConn(), NotAuthorized, ""},
				{"password too long", "\x00juliet\x00" + strings.Repeat("p", maxPassword+1), tlsConn(), MalformedRequest, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s, err := a.NewServer(Plain, tc.conn)
					if err != nil {
						t.Fatal(err)
					}
					out, done, err := s.Step(context.Background(), []byte(tc.msg))
					if !done || out != nil {
						t.Fatalf("done=%v out=%q", done, out)
					}
					if condOf(err) != tc.want || (tc.want == 0 && err != nil) {
						t.Fatalf("err = %v, want %q", err, tc.want)
					}
					if s.Username() != tc.wantU {
						t.Fatalf("Username() = %q, want %q", s.Username(), tc.wantU)
					}
				})
			}
		})
	}

	t.Run("backend errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			err  error
			want Condition
		}{
			{"plain error", errDown, TemporaryAuthFailure},
			{"disabled", &Failure{Condition: AccountDisabled, Text: "ask the admin"}, AccountDisabled},
			{"expired", &Failure{Condition: CredentialsExpired}, CredentialsExpired},
		} {
			for _, source := range []string{"keys", "passwords"} {
				bad := newMemKeys()
				bad.err = tc.err
				p := &memPasswords{err: tc.err}
				a := newTestAuth(t, bad, func(o *Options) {
					if source == "passwords" {
						o.Passwords = p
					}
				})
				s, _ := a.NewServer(Plain, tlsConn())
				_, _, err := s.Step(context.Background(), []byte("\x00juliet\x00pw"))
				if condOf(err) != tc.want {
					t.Fatalf("%s/%s: err = %v, want %q", tc.name, source, err, tc.want)
				}
				if tc.err == errDown && !errors.Is(err, errDown) {
					t.Fatalf("cause lost: %v", err)
				}
			}
		}
	})

	t.Run("unknown user costs a derivation", func(t *testing.T) {
		a := newTestAuth(t, ks, func(o *Options) { o.Iterations = 1 << 30 })
		s, _ := a.NewServer(Plain, tlsConn())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		// With a cancelled context the 2^30-iteration fake derivation must stop, and
		// reaching it at all shows unknown users are not answered early.
		_, _, err := s.Step(ctx, []byte("\x00romeo\x00pw"))
		if condOf(err) != TemporaryAuthFailure || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("no initial response", func(t *testing.T) {
		a := newTestAuth(t, ks, nil)
		s, _ := a.NewServer(Plain, tlsConn())
		if s.Mechanism() != Plain {
			t.Fatalf("Mechanism() = %v", s.Mechanism())
		}
		out, done, err := s.Step(context.Background(), nil)
		if err != nil || done || out == nil || len(out) != 0 {
			t.Fatalf("out=%q done=%v err=%v", out, done, err)
		}
		if _, done, err := s.Step(context.Background(), []byte("\x00juliet\x00r0m30")); !done || err != nil {
			t.Fatalf("done=%v err=%v", done, err)
		}
		if _, done, err := s.Step(context.Background(), []byte("\x00juliet\x00r0m30")); !done || condOf(err) != MalformedRequest {
			t.Fatalf("step after done: done=%v err=%v", done, err)
		}
	})
}

// TestPlainMatchesScram checks the property PLAIN against stored keys rests on: a password
// accepted by SCRAM is accepted by PLAIN, including one OpaqueString rewrites.
func TestPlainMatchesScram(t *testing.T) {
	for _, pw := range []string{"pencil", "Ünïcödé pass", "tab\tinside", "x\u00a0y"} {
		ks := newMemKeys()
		ks.set("user", pw, []byte("0123456789abcdef"), 64, SHA256)
		a := newTestAuth(t, ks, nil)
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		c := refClient{hashName: "SHA-256", user: "user", password: normPassword(pw), gs2Flag: "n", cnonce: "abc"}
		if err := runRef(t, s, &c); err != nil {
			t.Fatalf("SCRAM with %q: %v", pw, err)
		}
		p, _ := a.NewServer(Plain, tlsConn())
		if _, _, err := p.Step(context.Background(), []byte("\x00user\x00"+pw)); err != nil {
			t.Fatalf("PLAIN with %q: %v", pw, err)
		}
	}
}

func TestAnonymous(t *testing.T) {
	a := newTestAuth(t, nil, func(o *Options) { o.Keys, o.Hashes, o.Anonymous = nil, nil, true })
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   []byte
		want Condition
	}{
		{"empty", []byte{}, 0},
		{"email", []byte("sirhc@example.org"), 0},
		{"token", []byte("trace-token ünicode"), 0},
		{"255 characters", []byte(strings.Repeat("é", 255)), 0},
		{"256 characters", []byte(strings.Repeat("a", 256)), MalformedRequest},
		{"control character", []byte("a\nb"), MalformedRequest},
		{"NUL", []byte("a\x00b"), MalformedRequest},
		{"not UTF-8", []byte("a\xffb"), MalformedRequest},
	} {
		s, err := a.NewServer(Anonymous, &Conn{})
		if err != nil {
			t.Fatal(err)
		}
		_, done, err := s.Step(ctx, tc.in)
		if !done || condOf(err) != tc.want || (tc.want == 0 && err != nil) {
			t.Fatalf("%s: done=%v err=%v", tc.name, done, err)
		}
		if s.Username() != "" || s.Mechanism() != Anonymous {
			t.Fatalf("%s: Username %q Mechanism %v", tc.name, s.Username(), s.Mechanism())
		}
	}
	s, _ := a.NewServer(Anonymous, &Conn{})
	if out, done, err := s.Step(ctx, nil); err != nil || done || len(out) != 0 {
		t.Fatalf("no initial response: %q %v %v", out, done, err)
	}
	if _, done, err := s.Step(ctx, []byte{}); !done || err != nil {
		t.Fatalf("response after empty challenge: %v %v", done, err)
	}
	if _, _, err := s.Step(ctx, []byte{}); condOf(err) != MalformedRequest {
		t.Fatalf("step after done: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	s, _ = a.NewServer(Anonymous, &Conn{})
	if _, _, err := s.Step(cctx, []byte{}); condOf(err) != TemporaryAuthFailure {
		t.Fatalf("cancelled: %v", err)
	}
}
