package embedded

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Account record, format 1. All integers are varints (encoding/binary):
//
//	byte     format (1)
//	varint   Created, seconds since the Unix epoch
//	uvarint  Created, nanoseconds within the second (< 1e9)
//	byte     credential mask: bit 0 SHA-1, bit 1 SHA-256, bit 2 SHA-512
//	then, for each set bit in that order:
//	  uvarint  iterations (1 to backends.MaxIterations)
//	  uvarint  salt length (1 to backends.MaxSaltLen), then the salt
//	  StoredKey, then ServerKey, each exactly the hash's output size
//
// Domain and user are not repeated: they are the bucket and the key. A record with all
// three sets is about 300 bytes; the same in JSON with base64 keys is about 600.
const recordFormat = 1

var errCorrupt = errors.New("corrupt account record")

// hashSizes are the key sizes of the credential sets in mask-bit order.
var hashSizes = [3]int{sha1.Size, sha256.Size, sha512.Size}

func credentialSets(c *backends.Credentials) [3]*backends.ScramKeys {
	return [3]*backends.ScramKeys{c.SHA1, c.SHA256, c.SHA512}
}

// appendRecord appends the record of a, which must be valid (backends.Account.Validate),
// to dst.
func appendRecord(dst []byte, a *backends.Account) []byte {
	dst = append(dst, recordFormat)
	dst = binary.AppendVarint(dst, a.Created.Unix())
	dst = binary.AppendUvarint(dst, uint64(a.Created.Nanosecond()))
	sets := credentialSets(&a.Credentials)
	var mask byte
	for i, k := range sets {
		if k != nil {
			mask |= 1 << i
		}
	}
	dst = append(dst, mask)
	for _, k := range sets {
		if k == nil {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(k.Iterations))
		dst = binary.AppendUvarint(dst, uint64(len(k.Salt)))
		dst = append(dst, k.Salt...)
		dst = append(dst, k.StoredKey...)
		dst = append(dst, k.ServerKey...)
	}
	return dst
}

// recordReader walks a record, remembering the first error.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errCorrupt, what)
	}
}

func (r *recordReader) uvarint(what string, max uint64) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.fail(what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) bytes(what string, n int) []byte {
	if len(r.b) < n {
		r.fail(what)
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// decodeRecord fills a's Credentials and Created from rec. It copies everything it keeps,
// so rec may be bbolt memory that is only valid inside the transaction. It makes two
// allocations: one array for the key sets, one buffer for all their bytes.
func decodeRecord(rec []byte, a *backends.Account) error {
	if len(rec) < 1 || rec[0] != recordFormat {
		return fmt.Errorf("%w: unknown format", errCorrupt)
	}
	r := recordReader{b: rec[1:]}
	secs, n := binary.Varint(r.b)
	if n <= 0 {
		return fmt.Errorf("%w: bad creation time", errCorrupt)
	}
	r.b = r.b[n:]
	nanos := r.uvarint("creation time", 999_999_999)
	mask := r.bytes("credential mask", 1)
	if r.err != nil {
		return r.err
	}
	if mask[0]&^0b111 != 0 {
		return fmt.Errorf("%w: bad credential mask %#x", errCorrupt, mask[0])
	}

	// First pass: validate and size, so that the second pass can copy into one buffer.
	type span struct {
		iterations       int
		salt, stored, sk []byte
	}
	var spans [3]span
	total := 0
	for i, size := range hashSizes {
		if mask[0]&(1<<i) == 0 {
			continue
		}
		s := &spans[i]
		s.iterations = int(r.uvarint("iteration count", backends.MaxIterations))
		s.salt = r.bytes("salt", int(r.uvarint("salt length", backends.MaxSaltLen)))
		s.stored = r.bytes("StoredKey", size)
		s.sk = r.bytes("ServerKey", size)
		if r.err == nil && (s.iterations < 1 || len(s.salt) < 1) {
			r.fail("iteration count or salt")
		}
		total += len(s.salt) + 2*size
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(r.b))
	}

	a.Created = time.Unix(secs, int64(nanos)).UTC()
	a.Credentials = backends.Credentials{}
	if mask[0] == 0 {
		return nil
	}
	keys := new([3]backends.ScramKeys)
	buf := make([]byte, 0, total)
	take := func(b []byte) []byte {
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	out := [3]**backends.ScramKeys{&a.Credentials.SHA1, &a.Credentials.SHA256, &a.Credentials.SHA512}
	for i := range hashSizes {
		if mask[0]&(1<<i) == 0 {
			continue
		}
		s := &spans[i]
		keys[i] = backends.ScramKeys{Salt: take(s.salt), Iterations: s.iterations,
			StoredKey: take(s.stored), ServerKey: take(s.sk)}
		*out[i] = &keys[i]
	}
	return nil
}
