package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type mamConfig struct {
	MaxPage   int      `toml:"max_page"`
	Retention Duration `toml:"retention"`
	Backend   string   `toml:"backend"`
	Rooms     struct {
		Enabled bool `toml:"enabled"`
	} `toml:"rooms"`
}

const modulesDoc = `[general]
hosts = ["a.example"]

[modules.roster]

[modules.mam]
max_page = 250
retention = "720h"

[modules.mam.rooms]
enabled = true

[modules.other]
anything = [1, 2, 3]
`

func TestDecodeModule(t *testing.T) {
	c, err := Parse([]byte(modulesDoc), "m.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.ModuleNames(), ","); got != "mam,other,roster" {
		t.Errorf("ModuleNames() = %s", got)
	}
	m := mamConfig{MaxPage: 50, Backend: "embedded"}
	if err := c.DecodeModule("mam", &m); err != nil {
		t.Fatal(err)
	}
	if m.MaxPage != 250 || m.Retention.D != 720*time.Hour || m.Backend != "embedded" || !m.Rooms.Enabled {
		t.Errorf("decoded %+v", m)
	}
	var empty struct{}
	if err := c.DecodeModule("roster", &empty); err != nil {
		t.Errorf("empty table: %v", err)
	}
	untouched := mamConfig{MaxPage: 7}
	if err := c.DecodeModule("absent", &untouched); err != nil || untouched.MaxPage != 7 {
		t.Errorf("absent module: %v, %+v", err, untouched)
	}
	if err := c.DecodeModule("mam", m); err == nil {
		t.Error("DecodeModule accepted a non-pointer")
	}
}

func TestDecodeModuleErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"unknown key", "[modules.mam]\nmax_page = 1\nmax_pages = 2\n", 3, "unknown key"},
		{"wrong type", "[modules.mam]\n\nmax_page = \"many\"\n", 3, "cannot decode TOML string"},
		{"duration integer", "[modules.mam]\nretention = 3600\n", 2, "quoted string with a unit"},
		{"bad duration", "[modules.mam]\nretention = \"1 day\"\n", 2, "invalid duration"},
		{"nested unknown", "[modules.mam]\n[modules.mam.rooms]\nenable = true\n", 3, "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "m.toml")
			if err != nil {
				t.Fatal(err)
			}
			var m mamConfig
			err = c.DecodeModule("mam", &m)
			var e *Error
			if !errors.As(err, &e) || e.Line != tt.line || e.File != "m.toml" || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("DecodeModule() = %v; want line %d containing %q", err, tt.line, tt.msg)
			}
		})
	}
}

func TestDecodeModuleFromMap(t *testing.T) {
	c := Default()
	c.Modules = map[string]map[string]any{"mam": {"max_page": int64(9), "retention": "1h"}}
	var m mamConfig
	if err := c.DecodeModule("mam", &m); err != nil {
		t.Fatal(err)
	}
	if m.MaxPage != 9 || m.Retention.D != time.Hour {
		t.Errorf("decoded %+v", m)
	}
	c.Modules["mam"]["bogus"] = true
	var e *Error
	if err := c.DecodeModule("mam", &m); !errors.As(err, &e) || e.Key != "modules.mam.bogus" {
		t.Errorf("DecodeModule() = %v", err)
	}
}

func TestModuleError(t *testing.T) {
	c, err := Parse([]byte(modulesDoc), "m.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		module, key string
		line        int
		wantKey     string
	}{
		{"mam", "max_page", 7, "modules.mam.max_page"},
		{"mam", "rooms.enabled", 11, "modules.mam.rooms.enabled"},
		{"mam", "", 6, "modules.mam"},
		{"mam", "absent_key", 6, "modules.mam.absent_key"},
		{"roster", "", 4, "modules.roster"},
	}
	for _, tt := range tests {
		err := c.ModuleError(tt.module, tt.key, "too %s", "big")
		var e *Error
		if !errors.As(err, &e) || e.Line != tt.line || e.Key != tt.wantKey || e.Msg != "too big" {
			t.Errorf("ModuleError(%s, %s) = %v (line %d), want line %d key %s", tt.module, tt.key, err, e.Line, tt.line, tt.wantKey)
		}
	}
}
