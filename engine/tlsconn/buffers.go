package tlsconn

import "sync"

// bufferClasses are the capacities the pool recycles. The smallest fits a
// ClientHello or a handful of stanza records; the middle one a full TLS record
// (16 KiB of plaintext plus overhead); the largest one gnet's default 64 KiB
// read chunk with room to spare, and it is also the cap on buffered input
// (see maxBuffered).
var bufferClasses = [...]int{2 << 10, 20 << 10, 128 << 10}

// maxBuffered is the most ciphertext a Conn holds that crypto/tls has not yet
// consumed. During the handshake a legitimate client sends far less (the
// largest handshake message crypto/tls accepts from a client is 64 KiB);
// after it, the loop drains the buffer on every Feed.
const maxBuffered = 128 << 10

// bufferPool recycles ciphertext buffers by size class. It is safe for
// concurrent use. The pools hold *[]byte so that Put does not allocate.
type bufferPool struct {
	classes [len(bufferClasses)]sync.Pool
}

// get returns a buffer of length 0 whose capacity is at least n (n must not
// exceed the largest class).
func (p *bufferPool) get(n int) *[]byte {
	for i, size := range bufferClasses {
		if n <= size {
			if v := p.classes[i].Get(); v != nil {
				return v.(*[]byte)
			}
			b := make([]byte, 0, size)
			return &b
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// put returns a buffer obtained from get. Buffers whose capacity is not one
// of the classes are dropped.
func (p *bufferPool) put(b *[]byte) {
	c := cap(*b)
	for i, size := range bufferClasses {
		if c == size {
			*b = (*b)[:0]
			p.classes[i].Put(b)
			return
		}
	}
}
