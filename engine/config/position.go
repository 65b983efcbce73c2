package config

import (
	"reflect"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// seg is one step of a key path: a key name, or an index into an array when isIndex.
type seg struct {
	name    string
	i       int
	isIndex bool
}

// path is a key path such as listen.c2s[0].tls. Paths are values: key and index
// return new paths and never share a backing array with their receiver, so a path may
// be extended in a loop without aliasing.
type path []seg

func (p path) key(name string) path {
	out := make(path, len(p), len(p)+1)
	copy(out, p)
	return append(out, seg{name: name})
}

func (p path) index(i int) path {
	out := make(path, len(p), len(p)+1)
	copy(out, p)
	return append(out, seg{i: i, isIndex: true})
}

// String renders the path the way a user would write it in TOML, with array
// indices in brackets and non-bare keys quoted: auth.host."example.com".methods.
func (p path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.isIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.i))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if isBareKey(s.name) {
			b.WriteString(s.name)
		} else {
			b.WriteString(strconv.Quote(s.name))
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

type position struct{ line, col int }

type indexEntry struct {
	path path
	pos  position
	kind unstable.Kind // of the value: Table, ArrayTable, Array, String, Integer, ...
}

// index maps every key path that appears in a document to where it appears and what
// kind of value it holds. go-toml positions syntax and type errors itself; the index
// positions what only Hermod can judge (bad values, missing companions, duplicates)
// and tells which keys the file set, so defaults fill only the others.
type index struct {
	entries map[string]indexEntry
	arrays  map[string]int // entries so far of each [[array.of.tables]]
	order   []string       // paths in document order, for deterministic walks
}

// lookup returns the position of p, or of its nearest ancestor present in the file.
// A nil index (a Config built in code) knows no positions.
func (x *index) lookup(p path) (position, bool) {
	if x == nil {
		return position{}, false
	}
	for n := len(p); n > 0; n-- {
		if e, ok := x.entries[p[:n].String()]; ok {
			return e.pos, true
		}
	}
	return position{}, false
}

// keyAt names the key go-toml reported at line:col, with the array indices go-toml
// leaves out ("listen.c2s[1].prot" rather than "listen.c2s.prot") when the index
// holds a key of the same name there.
func (x *index) keyAt(line, col int, k toml.Key) string {
	plain := keyString(k)
	if x == nil {
		return plain
	}
	best, fallback, bestCol := "", "", -1
	for _, name := range x.order {
		e := x.entries[name]
		if e.pos.line != line || stripIndices(e.path) != plain {
			continue
		}
		if fallback == "" {
			fallback = name
		}
		// Type errors point at the value, after the key: take the last key of that
		// name that starts at or before the reported column.
		if e.pos.col <= col && e.pos.col > bestCol {
			best, bestCol = name, e.pos.col
		}
	}
	switch {
	case best != "":
		return best
	case fallback != "":
		return fallback
	}
	return plain
}

func stripIndices(p path) string {
	var q path
	for _, s := range p {
		if !s.isIndex {
			q = append(q, s)
		}
	}
	return q.String()
}

// has reports whether the file set p itself.
func (x *index) has(p path) bool {
	if x == nil {
		return false
	}
	_, ok := x.entries[p.String()]
	return ok
}

func (x *index) add(p path, pos position, kind unstable.Kind) {
	k := p.String()
	if _, ok := x.entries[k]; ok {
		return
	}
	x.entries[k] = indexEntry{path: p, pos: pos, kind: kind}
	x.order = append(x.order, k)
}

// buildIndex parses data with go-toml's low-level parser and records every key. It
// returns the parser's error for a syntactically invalid document; the caller then
// lets the decoder report that error with its own context.
func buildIndex(data []byte) (*index, error) {
	x := &index{entries: map[string]indexEntry{}, arrays: map[string]int{}}
	var p unstable.Parser
	p.Reset(data)
	var cur path
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			parts, pos := keyParts(&p, e)
			cur = x.resolve(parts, true)
			x.addPrefixes(cur, pos)
		case unstable.ArrayTable:
			parts, pos := keyParts(&p, e)
			base := x.resolve(parts, false)
			x.addPrefixes(base[:len(base)-1], pos)
			x.add(base, pos, unstable.ArrayTable)
			n := x.arrays[base.String()]
			x.arrays[base.String()] = n + 1
			cur = base.index(n)
			x.add(cur, pos, unstable.Table)
		case unstable.KeyValue:
			x.keyValue(&p, cur, e)
		}
	}
	return x, p.Error()
}

// resolve turns a header's key parts into a path, stepping into the last entry of
// any array of tables named along the way (TOML's rule for [a.b] after [[a]]).
func (x *index) resolve(parts []string, last bool) path {
	var p path
	for i, name := range parts {
		p = p.key(name)
		if i == len(parts)-1 && !last {
			break
		}
		if n := x.arrays[p.String()]; n > 0 {
			p = p.index(n - 1)
		}
	}
	return p
}

func (x *index) addPrefixes(p path, pos position) {
	for n := 1; n <= len(p); n++ {
		x.add(p[:n], pos, unstable.Table)
	}
}

func keyParts(p *unstable.Parser, e *unstable.Node) ([]string, position) {
	var parts []string
	var pos position
	it := e.Key()
	for it.Next() {
		n := it.Node()
		if len(parts) == 0 {
			pos = shapeOf(p, n.Raw, position{line: 1, col: 1})
		}
		parts = append(parts, string(n.Data))
	}
	return parts, pos
}

func shapeOf(p *unstable.Parser, r unstable.Range, fallback position) position {
	if r.Length == 0 && r.Offset == 0 {
		return fallback
	}
	s := p.Shape(r)
	return position{line: s.Start.Line, col: s.Start.Column}
}

// keyValue records a key = value expression under cur, then the elements of arrays
// and the keys of inline tables in its value.
func (x *index) keyValue(p *unstable.Parser, cur path, e *unstable.Node) {
	parts, pos := keyParts(p, e)
	full := cur
	for i, name := range parts {
		full = full.key(name)
		if i < len(parts)-1 {
			x.add(full, pos, unstable.Table)
		}
	}
	x.value(p, full, e.Value(), pos)
}

func (x *index) value(p *unstable.Parser, at path, v *unstable.Node, pos position) {
	x.add(at, pos, v.Kind)
	switch v.Kind {
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			x.value(p, at.index(i), c, shapeOf(p, c.Raw, pos))
			i++
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				x.keyValue(p, at, c)
			}
		}
	}
}

// typeAt resolves the Go type that the TOML key path p decodes into, following struct
// fields by their toml tags, map values and slice elements.
func typeAt(t reflect.Type, p path) (reflect.Type, bool) {
	for _, s := range p {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case s.isIndex:
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil, false
			}
			t = t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldByTag(t, s.name)
			if !ok {
				return nil, false
			}
			t = f.Type
		default:
			return nil, false
		}
	}
	return t, true
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
