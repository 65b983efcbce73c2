package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/engine/config"
)

func TestServeConfigOverrides(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"c.pem", "k.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "hermod.toml")
	doc := `[general]
hosts = ["file.example"]
[tls]
certfile = "` + dir + `/c.pem"
keyfile = "` + dir + `/k.pem"
[[listen.c2s]]
port = 5222
idle_timeout = "1m"
[[listen.c2s]]
tls = "direct"
[[listen.c2s]]
port = 6222
tls = "none"
`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := serveConfig([]string{"--config", file, "--domain", "A.example,b.example", "--domain", "c.example",
		"--c2s", "127.0.0.1:15222", "--c2s-tls", ":15223", "--http", "[::1]:15280", "--admin", "none", "--data", dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.General.Hosts, ","); got != "a.example,b.example,c.example" {
		t.Errorf("hosts = %s", got)
	}
	if cfg.General.DataDir != dir || cfg.Admin.Address != "" {
		t.Errorf("data %q admin %q", cfg.General.DataDir, cfg.Admin.Address)
	}
	// The two non-direct listeners become one at the flag's address with the first one's
	// settings; the direct one moves.
	var got []string
	for _, l := range cfg.Listen.C2S {
		got = append(got, l.Address+"/"+strconv.Itoa(l.Port)+"/"+l.TLS+"/"+l.IdleTimeout.String())
	}
	want := []string{"127.0.0.1/15222/starttls/1m0s", "0.0.0.0/15223/direct/10m0s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("c2s = %v, want %v", got, want)
	}
	if len(cfg.Listen.HTTP) != 1 || cfg.Listen.HTTP[0].Address != "::1" || cfg.Listen.HTTP[0].Port != 15280 || cfg.Listen.HTTP[0].BOSHPath != "/http-bind" {
		t.Errorf("http = %+v", cfg.Listen.HTTP)
	}

	cfg, err = serveConfig([]string{"--config", file, "--c2s-tls", "none", "--c2s", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listen.C2S) != 0 {
		t.Errorf("c2s = %+v, want none", cfg.Listen.C2S)
	}
}

func TestServeConfigDefaults(t *testing.T) {
	cfg, err := serveConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Listen, want.Listen) || !reflect.DeepEqual(cfg.General, want.General) {
		t.Errorf("serve without flags differs from the defaults")
	}
}

// An override that makes the file invalid is a configuration error naming the key.
func TestServeConfigInvalidOverride(t *testing.T) {
	_, err := serveConfig([]string{"--c2s", "127.0.0.1:8088"})
	if err == nil || !strings.Contains(err.Error(), "collides") {
		t.Errorf("err = %v", err)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		a    string
	}{
		{[]string{"x", "-a", "1", "y"}, []string{"x", "y"}, "1"},
		{[]string{"-a=2", "x"}, []string{"x"}, "2"},
		{[]string{"x", "--", "-a", "y"}, []string{"x", "-a", "y"}, ""},
		{[]string{"-", "x"}, []string{"-", "x"}, ""},
		{nil, nil, ""},
	}
	for _, tt := range tests {
		fs := newFlagSet("t")
		a := fs.String("a", "", "")
		pos, err := parseFlags(fs, tt.args)
		if err != nil || !reflect.DeepEqual(pos, tt.pos) || *a != tt.a {
			t.Errorf("parseFlags(%q) = %q, a=%q, %v", tt.args, pos, *a, err)
		}
	}
}

func TestLogger(t *testing.T) {
	var b bytes.Buffer
	newLogger(&b, config.General{LogLevel: "warn", LogFormat: "json"}).Info("hidden")
	newLogger(&b, config.General{LogLevel: "warn", LogFormat: "json"}).Warn("shown", "k", 1)
	if s := b.String(); strings.Contains(s, "hidden") || !strings.Contains(s, `"msg":"shown"`) {
		t.Errorf("json logger wrote %q", s)
	}
	b.Reset()
	newLogger(&b, config.General{LogLevel: "debug", LogFormat: "text"}).Debug("dbg")
	if !strings.Contains(b.String(), "level=DEBUG msg=dbg") {
		t.Errorf("text logger wrote %q", b.String())
	}
}
