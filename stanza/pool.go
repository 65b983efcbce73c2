package stanza

import (
	"sync"

	"github.com/hermod-im/hermod/xmlscan"
)

// Element trees are the one place this package keeps memory between calls: a tree's
// nodes, attributes, text and bytes live in a document taken from a sync.Pool, and
// Release puts the whole document back. The pools are the package's only shared
// state; sync.Pool makes them safe from any goroutine.

// span locates bytes in a document's buffer. Offsets, not slices, because the buffer
// may grow (and move) while a tree is built.
type span struct{ start, end int32 }

func (s span) len() int { return int(s.end - s.start) }

// chunkLen is how many elements one slab chunk holds. Chunks never move once
// allocated, so *Element pointers stay valid while a tree grows.
const chunkLen = 32

// Pool retention bounds: a document that grew beyond them (one huge stanza) is left
// to the garbage collector instead of pinning its memory in the pool.
const (
	maxPooledBuf    = 64 << 10
	maxPooledChunks = 64
	maxPooledSlab   = 4096
)

// document owns everything of one tree.
type document struct {
	buf    []byte // the parsed bytes, then namespace names and built values
	chunks []*[chunkLen]Element
	used   int        // elements handed out from chunks
	attrs  []attr     // slab of attributes; each element has a capped sub-slice
	kids   []*Element // slab of child lists; each element has a capped sub-slice
	segs   []textSeg  // slab of text segments; each element has a capped sub-slice
	spaces []span     // distinct namespace names already in buf
	nGen   int        // prefixes generated for namespaced attributes
	err    error      // first misuse of the building methods

	// Scratch space of the parser, empty between parses.
	stack    []*Element
	pend     []*Element
	pendSegs []textSeg
}

var documentPool = sync.Pool{New: func() any { return new(document) }}

func getDocument() *document {
	return documentPool.Get().(*document)
}

// release empties d and returns it to the pool, unless it grew too large to keep.
func (d *document) release() {
	if cap(d.buf) > maxPooledBuf || len(d.chunks) > maxPooledChunks ||
		cap(d.attrs) > maxPooledSlab || cap(d.kids) > maxPooledSlab || cap(d.segs) > maxPooledSlab {
		return
	}
	for _, c := range d.chunks[:(d.used+chunkLen-1)/chunkLen] {
		clear(c[:]) // drop references into old slab arrays and other documents
	}
	clear(d.kids)
	clear(d.stack)
	clear(d.pend)
	*d = document{
		buf:      d.buf[:0],
		chunks:   d.chunks,
		attrs:    d.attrs[:0],
		kids:     d.kids[:0],
		segs:     d.segs[:0],
		spaces:   d.spaces[:0],
		stack:    d.stack[:0],
		pend:     d.pend[:0],
		pendSegs: d.pendSegs[:0],
	}
	documentPool.Put(d)
}

// newElement hands out a zeroed element owned by d.
func (d *document) newElement() *Element {
	ci, i := d.used/chunkLen, d.used%chunkLen
	if ci == len(d.chunks) {
		d.chunks = append(d.chunks, new([chunkLen]Element))
	}
	e := &d.chunks[ci][i]
	*e = Element{doc: d}
	d.used++
	return e
}

// bytes returns the bytes at s, capped so that appending to them cannot overwrite
// what follows.
func (d *document) bytes(s span) []byte {
	return d.buf[s.start:s.end:s.end]
}

// add appends b to the buffer and returns its span.
func (d *document) add(b []byte) span {
	start := len(d.buf)
	d.buf = append(d.buf, b...)
	return span{int32(start), int32(len(d.buf))}
}

// addString is add for a string.
func (d *document) addString(s string) span {
	start := len(d.buf)
	d.buf = append(d.buf, s...)
	return span{int32(start), int32(len(d.buf))}
}

// intern returns the span of the namespace name ns, adding it to the buffer only the
// first time the document sees it.
func (d *document) intern(ns []byte) span {
	if len(ns) == 0 {
		return span{}
	}
	for _, s := range d.spaces {
		if string(d.buf[s.start:s.end]) == string(ns) {
			return s
		}
	}
	s := d.add(ns)
	d.spaces = append(d.spaces, s)
	return s
}

// internString is intern for a string.
func (d *document) internString(ns string) span {
	if ns == "" {
		return span{}
	}
	for _, s := range d.spaces {
		if string(d.buf[s.start:s.end]) == ns {
			return s
		}
	}
	s := d.addString(ns)
	d.spaces = append(d.spaces, s)
	return s
}

// fail records the first misuse of the building methods.
func (d *document) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// parseLimits are generous: what reaches Parse already passed the engine's scanner
// and its limits; these only keep the tree builder's recursion bounded.
func parseLimits() xmlscan.Limits {
	return xmlscan.Limits{
		Framed:         true,
		MaxDepth:       256,
		MaxAttrs:       1024,
		MaxNameLen:     1024,
		MaxStanzaBytes: 1 << 30,
	}
}

var scannerPool = sync.Pool{New: func() any { return xmlscan.New(parseLimits()) }}

func getScanner() *xmlscan.Scanner {
	s := scannerPool.Get().(*xmlscan.Scanner)
	s.Recycle()
	return s
}

func putScanner(s *xmlscan.Scanner) { scannerPool.Put(s) }
