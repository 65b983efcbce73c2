package sasl

import (
	"context"
	"crypto/pbkdf2"
	"testing"
)

func BenchmarkDeriveKeys4096(b *testing.B) {
	salt := []byte("0123456789abcdef")
	for _, h := range allHashes {
		b.Run(h.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DeriveKeys(h, "r0m30myr0m30", salt, 4096)
			}
		})
	}
}

// BenchmarkHiVsPBKDF2 compares the ctx-aware Hi loop with crypto/pbkdf2, to keep the
// price of honouring ctx visible.
func BenchmarkHiVsPBKDF2(b *testing.B) {
	salt := []byte("0123456789abcdef")
	ctx := context.Background()
	for _, h := range allHashes {
		b.Run("Hi/"+h.String(), func(b *testing.B) {
			for b.Loop() {
				saltedPassword(ctx, h, "r0m30myr0m30", salt, 4096)
			}
		})
		b.Run("pbkdf2/"+h.String(), func(b *testing.B) {
			for b.Loop() {
				pbkdf2.Key(h.New(), "r0m30myr0m30", salt, 4096, h.Size())
			}
		})
	}
}

// BenchmarkSCRAMExchange measures the server's side of a whole SCRAM exchange with stored
// keys (NewServer and both steps). The client messages are computed once: with fixed
// nonces every run has the same AuthMessage.
func BenchmarkSCRAMExchange(b *testing.B) {
	for _, h := range allHashes {
		b.Run(h.String(), func(b *testing.B) {
			ks := newMemKeys()
			ks.set("juliet", "r0m30myr0m30", []byte("0123456789abcdef"), 4096, h)
			a := newTestAuth(b, ks, func(o *Options) { o.Nonce = fixedNonce("SERVERNONCE") })
			c := refClient{hashName: h.String(), user: "juliet", password: "r0m30myr0m30", gs2Flag: "n", cnonce: "clientnonce"}
			first := c.first()
			s, _ := a.NewServer(scram(h, false), &Conn{})
			serverFirst, _, _ := s.Step(context.Background(), first)
			final, err := c.final(serverFirst)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				s, _ := a.NewServer(scram(h, false), &Conn{})
				s.Step(ctx, first)
				if _, _, err := s.Step(ctx, final); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlainStoredKeys measures PLAIN verified against stored SCRAM keys at 4096
// iterations: a full SaltedPassword derivation per login.
func BenchmarkPlainStoredKeys(b *testing.B) {
	for _, h := range allHashes {
		b.Run(h.String(), func(b *testing.B) {
			ks := newMemKeys()
			ks.set("juliet", "r0m30myr0m30", []byte("0123456789abcdef"), 4096, h)
			a := newTestAuth(b, ks, func(o *Options) { o.Hashes = []Hash{h} })
			msg := []byte("\x00juliet\x00r0m30myr0m30")
			ctx := context.Background()
			conn := tlsConn()
			b.ReportAllocs()
			for b.Loop() {
				s, _ := a.NewServer(Plain, conn)
				if _, _, err := s.Step(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlainPasswordChecker is PLAIN's own overhead (parsing, PRECIS) around a
// PasswordChecker that costs nothing.
func BenchmarkPlainPasswordChecker(b *testing.B) {
	a, _ := NewAuthenticator(Options{Passwords: &memPasswords{users: map[string]string{"juliet": "r0m30myr0m30"}}, Secret: testSecret})
	msg := []byte("\x00juliet\x00r0m30myr0m30")
	ctx := context.Background()
	conn := tlsConn()
	b.ReportAllocs()
	for b.Loop() {
		s, _ := a.NewServer(Plain, conn)
		if _, _, err := s.Step(ctx, msg); err != nil {
			b.Fatal(err)
		}
		s.(*plainServer).a.passwords.(*memPasswords).got = nil
	}
}

func BenchmarkParseClientFirst(b *testing.B) {
	in := []byte("p=tls-exporter,,n=juliet,r=fyko+d2lbbFgONRv9qkxdawL")
	b.ReportAllocs()
	for b.Loop() {
		parseClientFirst(in)
	}
}

func BenchmarkParseClientFinal(b *testing.B) {
	in := []byte("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
	b.ReportAllocs()
	for b.Loop() {
		parseClientFinal(in)
	}
}

func BenchmarkAppendFeatures(b *testing.B) {
	a := newTestAuth(b, newMemKeys(), nil)
	conn := tlsConn(exporterCB, endPointCB)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = a.AppendFeatures(buf[:0], conn)
	}
}
