package embedded

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

func keysOf(size int, salt string, iterations int) *backends.ScramKeys {
	k := &backends.ScramKeys{Salt: []byte(salt), Iterations: iterations,
		StoredKey: make([]byte, size), ServerKey: make([]byte, size)}
	for i := range size {
		k.StoredKey[i], k.ServerKey[i] = byte(i), byte(255-i)
	}
	return k
}

func sameRecord(a, b *backends.Account) bool {
	same := func(x, y *backends.ScramKeys) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		return x.Iterations == y.Iterations && bytes.Equal(x.Salt, y.Salt) &&
			bytes.Equal(x.StoredKey, y.StoredKey) && bytes.Equal(x.ServerKey, y.ServerKey)
	}
	return a.Created.Equal(b.Created) && same(a.Credentials.SHA1, b.Credentials.SHA1) &&
		same(a.Credentials.SHA256, b.Credentials.SHA256) && same(a.Credentials.SHA512, b.Credentials.SHA512)
}

func recordCases() map[string]backends.Account {
	return map[string]backends.Account{
		"all three": {Created: time.Unix(1_700_000_000, 123_456_789),
			Credentials: backends.Credentials{SHA1: keysOf(sha1.Size, "s1", 4096),
				SHA256: keysOf(sha256.Size, "salt-256", 8192), SHA512: keysOf(sha512.Size, "s512", 100_000)}},
		"none":        {Created: time.Unix(0, 0)},
		"sha256 only": {Created: time.Unix(1, 1), Credentials: backends.Credentials{SHA256: keysOf(sha256.Size, "x", 1)}},
		"sha1+sha512": {Created: time.Unix(4_000_000_000, 999_999_999),
			Credentials: backends.Credentials{SHA1: keysOf(sha1.Size, "a", 1), SHA512: keysOf(sha512.Size, "b", 2)}},
		"before 1970": {Created: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
			Credentials: backends.Credentials{SHA256: keysOf(sha256.Size, string(make([]byte, backends.MaxSaltLen)), backends.MaxIterations)}},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for name, a := range recordCases() {
		rec := appendRecord(nil, &a)
		var got backends.Account
		if err := decodeRecord(rec, &got); err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !sameRecord(&got, &a) {
			t.Errorf("%s: round trip changed the record: %+v", name, got)
		}
		if got.Created.Location() != time.UTC {
			t.Errorf("%s: Created in %v, want UTC", name, got.Created.Location())
		}
		// Every proper prefix is a truncated record and must be refused.
		for n := range len(rec) {
			if err := decodeRecord(rec[:n], &got); !errors.Is(err, errCorrupt) {
				t.Fatalf("%s: decoding %d of %d bytes: %v, want errCorrupt", name, n, len(rec), err)
			}
		}
		if err := decodeRecord(append(rec, 0), &got); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: trailing byte accepted: %v", name, err)
		}
	}
}

func TestRecordSize(t *testing.T) {
	a := recordCases()["all three"]
	if n := len(appendRecord(nil, &a)); n > 2*(20+32+64)+40 {
		t.Errorf("record of %d bytes", n)
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	head := func(mask byte) []byte {
		b := []byte{recordFormat}
		b = binary.AppendVarint(b, 1_700_000_000)
		b = binary.AppendUvarint(b, 0)
		return append(b, mask)
	}
	set := func(b []byte, iterations, saltLen uint64, size int) []byte {
		b = binary.AppendUvarint(b, iterations)
		b = binary.AppendUvarint(b, saltLen)
		b = append(b, make([]byte, int(saltLen)+2*size)...)
		return b
	}
	cases := map[string][]byte{
		"empty":            nil,
		"format 0":         {0},
		"format 2":         append([]byte{2}, head(0)[1:]...),
		"unknown mask bit": head(0b1000),
		"0 iterations":     set(head(0b10), 0, 4, 32),
		"huge iterations":  set(head(0b10), backends.MaxIterations+1, 4, 32),
		"empty salt":       set(head(0b10), 4096, 0, 32),
		"long salt":        set(head(0b10), 4096, backends.MaxSaltLen+1, 32),
		"nanos overflow":   append(binary.AppendUvarint(binary.AppendVarint([]byte{recordFormat}, 0), 1e9), 0),
		"varint overflow":  append([]byte{recordFormat}, bytes.Repeat([]byte{0xff}, 11)...),
		"missing set":      head(0b111),
	}
	for name, rec := range cases {
		var a backends.Account
		if err := decodeRecord(rec, &a); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want errCorrupt", name, err)
		}
	}
	var a backends.Account
	if err := decodeRecord(set(head(0b10), 4096, 4, 32), &a); err != nil {
		t.Errorf("control case: %v", err)
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the decoder, which reads what is on disk: it
// must never panic, must accept only records whose credentials are valid, and what it
// accepts must survive a re-encoding unchanged.
func FuzzDecodeRecord(f *testing.F) {
	for _, a := range recordCases() {
		f.Add(appendRecord(nil, &a))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		a := backends.Account{Domain: "example.org", User: "fuzz"}
		if err := decodeRecord(rec, &a); err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error not wrapping errCorrupt: %v", err)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("decoder accepted invalid credentials: %v", err)
		}
		again := appendRecord(nil, &a)
		var b backends.Account
		if err := decodeRecord(again, &b); err != nil {
			t.Fatalf("re-encoded record refused: %v", err)
		}
		if !sameRecord(&a, &b) {
			t.Fatalf("re-encoding changed the record")
		}
		if len(again) > len(rec) {
			t.Fatalf("re-encoding grew the record from %d to %d bytes", len(rec), len(again))
		}
	})
}
