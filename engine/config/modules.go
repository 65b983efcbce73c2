package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// ModuleNames returns the names of the [modules.<name>] tables present, sorted. A
// module is enabled by the presence of its table, even an empty one.
func (c *Config) ModuleNames() []string { return sortedKeys(c.Modules) }

// HasModule reports whether [modules.<name>] is present.
func (c *Config) HasModule(name string) bool {
	_, ok := c.Modules[name]
	return ok
}

// DecodeModule decodes the table [modules.<name>] into v, a non-nil pointer to a
// struct with toml tags (its current field values act as defaults), as strictly as
// the rest of the file: an unknown key or a value of the wrong type is an ErrorList
// naming the file and the line. A missing table leaves v unchanged and is not an
// error. Module start-up code calls it once, from the goroutine that builds the
// server; it does not modify c.
func (c *Config) DecodeModule(name string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: DecodeModule(%q): need a non-nil pointer, got %T", name, v)
	}
	if !c.HasModule(name) {
		return nil
	}
	if c.raw == nil || c.idx == nil || !c.idx.has(path{}.key("modules").key(name)) {
		// Built in code, or enabled by default without a table in the file.
		return c.decodeModuleFromMap(name, v)
	}
	// Decode the original document again into a struct shaped like it, in which
	// only this module's table has a real type and everything else is `any`. The
	// decoder then positions errors against the file itself, with no line mapping.
	target := rv.Elem()
	var top []reflect.StructField
	var modIndex, fieldIndex int = -1, -1
	for _, k := range c.topLevelKeys() {
		f := reflect.StructField{
			Name: "F" + strconv.Itoa(len(top)),
			Type: reflect.TypeFor[any](),
			Tag:  reflect.StructTag("toml:" + strconv.Quote(k)),
		}
		if k == "modules" {
			var mods []reflect.StructField
			for _, m := range c.ModuleNames() {
				mf := reflect.StructField{
					Name: "M" + strconv.Itoa(len(mods)),
					Type: reflect.TypeFor[any](),
					Tag:  reflect.StructTag("toml:" + strconv.Quote(m)),
				}
				if m == name {
					mf.Type = target.Type()
					fieldIndex = len(mods)
				}
				mods = append(mods, mf)
			}
			f.Type = reflect.StructOf(mods)
			modIndex = len(top)
		}
		top = append(top, f)
	}
	if modIndex < 0 || fieldIndex < 0 {
		return fmt.Errorf("config: DecodeModule(%q): module table not found in %s", name, c.file)
	}
	wt := reflect.StructOf(top)
	if err := checkKinds(c.idx, c.file, wt); err != nil {
		return err
	}
	w := reflect.New(wt)
	slot := w.Elem().Field(modIndex).Field(fieldIndex)
	slot.Set(target)
	dec := toml.NewDecoder(bytes.NewReader(c.raw)).DisallowUnknownFields()
	if err := dec.Decode(w.Interface()); err != nil {
		return fromDecodeError(c.file, c.idx, err)
	}
	target.Set(slot)
	return nil
}

// decodeModuleFromMap serves Configs built in code: it round-trips the opaque table
// through TOML, so the same strictness applies, without positions.
func (c *Config) decodeModuleFromMap(name string, v any) error {
	data, err := toml.Marshal(c.Modules[name])
	if err != nil {
		return fmt.Errorf("config: module %s: %w", name, err)
	}
	if err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(v); err != nil {
		var list ErrorList
		if e := fromDecodeError("", nil, err); errors.As(e, &list) {
			for _, x := range list {
				x.Line, x.Column, x.Context = 0, 0, ""
				x.Key = path{}.key("modules").key(name).String() + "." + x.Key
			}
			return list
		}
		return fmt.Errorf("config: module %s: %w", name, err)
	}
	return nil
}

// topLevelKeys lists the top-level keys of the parsed document.
func (c *Config) topLevelKeys() []string {
	var out []string
	for _, k := range c.idx.order {
		if e := c.idx.entries[k]; len(e.path) == 1 {
			out = append(out, e.path[0].name)
		}
	}
	return out
}

// ModuleError reports a problem a module found in its own table, positioned like
// every other configuration error. key is the module's key, dotted for nested
// tables ("rooms.default_history"); "" points at the table itself.
func (c *Config) ModuleError(module, key, format string, args ...any) error {
	p := path{}.key("modules").key(module)
	if key != "" {
		for _, part := range strings.Split(key, ".") {
			p = p.key(part)
		}
	}
	ec := &errs{file: c.file, idx: c.idx}
	ec.at(p, format, args...)
	return ec.err()
}
