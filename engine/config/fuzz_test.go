package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse: Parse never panics, and every failure is either an ErrorList whose
// entries carry the file name and a line inside the document, or a wrapped error
// naming the file.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	f.Add([]byte(modulesDoc))
	f.Add([]byte("[[listen.c2s]]\ntls = \"direct\"\n[tls]\ncertfile=\"a\"\nkeyfile=\"b\"\n"))
	f.Add([]byte("[tls]\ncertificates = [{domains = [\"*.a.example\"], certfile = \"c\", keyfile = \"k\"}]\n"))
	f.Add([]byte("[auth.host.\"localhost\"]\nscram_iterations = 5000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.toml")
		if err == nil {
			if c == nil {
				t.Fatal("nil Config without error")
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("a parsed Config fails Validate again: %v", err)
			}
			for _, m := range c.ModuleNames() {
				var v struct{}
				_ = c.DecodeModule(m, &v)
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) {
			return
		}
		lines := 1
		for _, b := range data {
			if b == '\n' {
				lines++
			}
		}
		for _, e := range list {
			if e.File != "fuzz.toml" || e.Line < 0 || e.Line > lines {
				t.Fatalf("bad position in %q (document has %d lines)", e, lines)
			}
		}
	})
}
