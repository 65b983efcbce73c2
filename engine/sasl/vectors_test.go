package sasl

import (
	"context"
	"crypto/pbkdf2"
	"encoding/base64"
	"testing"
)

// rfcVectors are the example exchanges of RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677
// section 3 (SCRAM-SHA-256): user "user", password "pencil", fixed nonces.
var rfcVectors = []struct {
	name                     string
	mech                     Mechanism
	hash                     Hash
	salt                     string
	snonce                   string
	clientFirst, serverFirst string
	clientFinal, serverFinal string
}{
	{
		name:        "RFC5802/SCRAM-SHA-1",
		mech:        ScramSHA1,
		hash:        SHA1,
		salt:        "QSXCR+Q6sek8bf92",
		snonce:      "3rfcNHYJY1ZVvWVs7j",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{
		name:        "RFC7677/SCRAM-SHA-256",
		mech:        ScramSHA256,
		hash:        SHA256,
		salt:        "W22ZaJ0SNY7soEsUEjb6gQ==",
		snonce:      "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

func TestRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			salt, err := base64.StdEncoding.DecodeString(v.salt)
			if err != nil {
				t.Fatal(err)
			}
			ks := newMemKeys()
			ks.set("user", "pencil", salt, 4096, v.hash)
			a := newTestAuth(t, ks, func(o *Options) { o.Nonce = fixedNonce(v.snonce) })
			s, err := a.NewServer(v.mech, &Conn{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			out, done, err := s.Step(ctx, []byte(v.clientFirst))
			if err != nil || done {
				t.Fatalf("client-first: done=%v err=%v", done, err)
			}
			if string(out) != v.serverFirst {
				t.Fatalf("server-first\n got %s\nwant %s", out, v.serverFirst)
			}
			out, done, err = s.Step(ctx, []byte(v.clientFinal))
			if err != nil || !done {
				t.Fatalf("client-final: done=%v err=%v", done, err)
			}
			if string(out) != v.serverFinal {
				t.Fatalf("server-final\n got %s\nwant %s", out, v.serverFinal)
			}
			if s.Username() != "user" {
				t.Fatalf("Username() = %q", s.Username())
			}
		})
	}
}

// TestRFCVectorsWrongPassword runs the vectors against keys for another password: the
// recorded proof must then be refused.
func TestRFCVectorsWrongPassword(t *testing.T) {
	for _, v := range rfcVectors {
		salt, _ := base64.StdEncoding.DecodeString(v.salt)
		ks := newMemKeys()
		ks.set("user", "pencil2", salt, 4096, v.hash)
		a := newTestAuth(t, ks, func(o *Options) { o.Nonce = fixedNonce(v.snonce) })
		s, _ := a.NewServer(v.mech, &Conn{})
		if _, _, err := s.Step(context.Background(), []byte(v.clientFirst)); err != nil {
			t.Fatal(err)
		}
		_, done, err := s.Step(context.Background(), []byte(v.clientFinal))
		if !done || condOf(err) != NotAuthorized {
			t.Fatalf("%s: done=%v err=%v, want not-authorized", v.name, done, err)
		}
		if s.Username() != "" {
			t.Fatalf("Username() = %q after failure", s.Username())
		}
	}
}

// TestSaltedPasswordMatchesPBKDF2 pins the hand-written Hi loop to crypto/pbkdf2 for every
// hash and a range of counts, including the ctx-check boundary.
func TestSaltedPasswordMatchesPBKDF2(t *testing.T) {
	salt := []byte("some salt value!")
	for _, h := range allHashes {
		for _, iter := range []int{1, 2, 3, 1023, 1024, 1025, 4096} {
			got, err := saltedPassword(context.Background(), h, "pencil", salt, iter)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pbkdf2.Key(h.New(), "pencil", salt, iter, h.Size())
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%v i=%d: got %x want %x", h, iter, got, want)
			}
		}
	}
}

func TestSaltedPasswordHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := saltedPassword(ctx, SHA256, "p", []byte("s"), 1<<30); err == nil {
		t.Fatal("cancelled derivation of 2^30 iterations returned no error")
	}
}

// TestDeriveKeysVector checks DeriveKeys against RFC 7677's values: StoredKey and
// ServerKey computed independently from the salted password of its example.
func TestDeriveKeysVector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	k := DeriveKeys(SHA256, "pencil", salt, 4096)
	// Computed independently with Python's hashlib.pbkdf2_hmac and hmac from the vector.
	const (
		stored = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
		server = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	)
	if got := base64.StdEncoding.EncodeToString(k.StoredKey); got != stored {
		t.Errorf("StoredKey = %s, want %s", got, stored)
	}
	if got := base64.StdEncoding.EncodeToString(k.ServerKey); got != server {
		t.Errorf("ServerKey = %s, want %s", got, server)
	}
	if k.Iterations != 4096 || string(k.Salt) != string(salt) {
		t.Errorf("Salt/Iterations not kept: %+v", k)
	}
}
