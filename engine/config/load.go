package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"sort"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Load reads and parses the file at path; see Parse. Errors name the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data (named name in errors) over Default, fills per-entry defaults
// in arrays of tables, and validates the result. Every problem it can find in one
// pass comes back together as an ErrorList.
func Parse(data []byte, name string) (*Config, error) {
	c, err := decode(data, name)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decode is Parse without Validate.
func decode(data []byte, name string) (*Config, error) {
	idx, perr := buildIndex(data)
	c := Default()
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if perr != nil {
		// A syntax error: let the decoder report it with its context excerpt.
		if err := dec.Decode(c); err != nil {
			return nil, fromDecodeError(name, nil, err)
		}
		return nil, fmt.Errorf("%s: %w", name, perr)
	}
	// Types that go-toml cannot position (a bare integer where a duration string
	// belongs) are checked first, against the index.
	if err := checkKinds(idx, name, reflect.TypeFor[Config]()); err != nil {
		return nil, err
	}
	if idx.has(path{}.key("modules")) {
		// A file that names modules enables exactly those.
		c.Modules = nil
	}
	if err := dec.Decode(c); err != nil {
		return nil, fromDecodeError(name, idx, err)
	}
	c.file, c.raw, c.idx = name, data, idx
	c.fillEntryDefaults()
	return c, nil
}

var durationType = reflect.TypeFor[Duration]()

// checkKinds rejects non-string values for Duration keys of root (the type the
// document decodes into) with a positioned error: go-toml hands a bare integer to
// Duration.UnmarshalText without a position.
func checkKinds(idx *index, file string, root reflect.Type) error {
	ec := &errs{file: file, idx: idx}
	for _, k := range idx.order {
		e := idx.entries[k]
		p := e.path
		t, ok := typeAt(root, p)
		if !ok || t != durationType || e.kind == unstable.String {
			continue
		}
		ec.at(p, "a duration must be a quoted string with a unit, such as \"30s\" or \"5m\" (got a TOML %s)", kindName(e.kind))
	}
	return ec.err()
}

func kindName(k unstable.Kind) string {
	switch k {
	case unstable.Integer:
		return "integer"
	case unstable.Float:
		return "float"
	case unstable.Bool:
		return "boolean"
	case unstable.Array:
		return "array"
	case unstable.InlineTable, unstable.Table:
		return "table"
	}
	return k.String()
}

// fillEntryDefaults gives each entry of an array of tables the default values of
// the keys the file left out: go-toml builds new entries from zero values, and a
// zero can be a meaningful setting (idle_timeout = "0s"), so presence in the index,
// not zeroness, decides.
func (c *Config) fillEntryDefaults() {
	// Entries only the defaults supplied (the file has no [[listen.c2s]]) are complete
	// already; filling them from DefaultC2S would turn the direct-TLS one into STARTTLS.
	fileC2S := c.idx.has(path{}.key("listen").key("c2s"))
	for i := range c.Listen.C2S {
		if !fileC2S {
			break
		}
		p := path{}.key("listen").key("c2s").index(i)
		def := DefaultC2S()
		if !c.idx.has(p.key("port")) && c.Listen.C2S[i].TLS == TLSDirect {
			def.Port = DefaultC2SDirectPort
		}
		fillAbsent(reflect.ValueOf(&c.Listen.C2S[i]).Elem(), reflect.ValueOf(def), c.idx, p)
	}
	for i := range c.Listen.HTTP {
		p := path{}.key("listen").key("http").index(i)
		def := DefaultHTTP()
		if !c.idx.has(p.key("port")) && c.Listen.HTTP[i].TLS == TLSDirect {
			def.Port = DefaultHTTPSPort
		}
		fillAbsent(reflect.ValueOf(&c.Listen.HTTP[i]).Elem(), reflect.ValueOf(def), c.idx, p)
	}
}

// fillAbsent copies each field of def into dst whose key under p the file did not set.
func fillAbsent(dst, def reflect.Value, idx *index, p path) {
	t := dst.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		if !idx.has(p.key(tag)) {
			dst.Field(i).Set(def.Field(i))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
