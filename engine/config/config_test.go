package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

const examplePath = "../../hermod.example.toml"

// exported returns a copy of c without the unexported bookkeeping, for comparisons.
func exported(c *Config) Config {
	cp := *c
	cp.file, cp.raw, cp.idx = "", nil, nil
	return cp
}

func TestDefaultValidates(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

// The example's uncommented lines must be exactly the defaults, so that the file
// documents them truthfully.
func TestExampleEqualsDefault(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	want := Default()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := exported(c); !reflect.DeepEqual(got, exported(want)) {
		t.Errorf("example differs from Default():\n got %+v\nwant %+v", got, exported(want))
	}
}

// Every "#:" line of the example is a valid optional setting.
func TestExampleOptionalSettings(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimPrefix(line, "#: ")
		if line == `hosts = ["localhost"]` {
			line = `hosts = ["localhost", "example.com"]`
		}
		b.WriteString(line + "\n")
	}
	c, err := Parse([]byte(b.String()), "example-all.toml")
	if err != nil {
		t.Fatalf("uncommented example: %v", err)
	}
	if len(c.Listen.HTTP) != 1 || c.Listen.HTTP[0] != DefaultHTTP() {
		t.Errorf("listen.http = %+v, want [%+v]", c.Listen.HTTP, DefaultHTTP())
	}
	if got := len(c.CertificateEntries()); got != 3 {
		t.Errorf("CertificateEntries: %d entries, want 3", got)
	}
	if a := c.AuthFor("example.com"); a.ScramIterations != 10000 || len(a.SASLMechanisms) != 2 || a.MaxFailedAttempts != 3 {
		t.Errorf("AuthFor(example.com) = %+v", a)
	}
	if !c.HasModule("example") {
		t.Errorf("modules.example missing: %v", c.ModuleNames())
	}
}

func TestEntryDefaults(t *testing.T) {
	doc := `
[tls]
certfile = "c.pem"
keyfile = "k.pem"

[[listen.c2s]]
port = 15222
idle_timeout = "0s"

[[listen.c2s]]
tls = "direct"

[[listen.http]]
tls = "direct"
bosh_path = ""
`
	c, err := Parse([]byte(doc), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	want0 := DefaultC2S()
	want0.Port = 15222
	want0.IdleTimeout = Dur(0)
	want1 := DefaultC2S()
	want1.TLS, want1.Port = TLSDirect, DefaultC2SDirectPort
	if !reflect.DeepEqual(c.Listen.C2S, []C2S{want0, want1}) {
		t.Errorf("c2s = %+v\nwant %+v", c.Listen.C2S, []C2S{want0, want1})
	}
	wantH := DefaultHTTP()
	wantH.TLS, wantH.Port, wantH.BOSHPath = TLSDirect, DefaultHTTPSPort, ""
	if len(c.Listen.HTTP) != 1 || c.Listen.HTTP[0] != wantH {
		t.Errorf("http = %+v, want %+v", c.Listen.HTTP, wantH)
	}
}

func TestNoC2SListener(t *testing.T) {
	c, err := Parse([]byte("[listen]\nc2s = []\n"), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Listen.C2S) != 0 {
		t.Errorf("c2s = %+v, want none", c.Listen.C2S)
	}
}

func TestHostsNormalised(t *testing.T) {
	c, err := Parse([]byte(`[general]
hosts = ["Example.COM", "bücher.example", "xn--caf-dma.example."]
`), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com", "bücher.example", "café.example"}
	if !reflect.DeepEqual(c.General.Hosts, want) {
		t.Errorf("hosts = %q, want %q", c.General.Hosts, want)
	}
}

func TestAuthFor(t *testing.T) {
	c, err := Parse([]byte(`[general]
hosts = ["a.example", "b.example"]
[auth]
max_failed_attempts = 5
[auth.host."b.example"]
methods = ["internal"]
scram_iterations = 8192
`), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	a := c.AuthFor("a.example")
	if a.ScramIterations != 4096 || a.MaxFailedAttempts != 5 || a.Host != nil {
		t.Errorf("AuthFor(a) = %+v", a)
	}
	b := c.AuthFor("b.example")
	if b.ScramIterations != 8192 || b.MaxFailedAttempts != 5 || !reflect.DeepEqual(b.SASLMechanisms, DefaultSASLMechanisms()) {
		t.Errorf("AuthFor(b) = %+v", b)
	}
}

func TestCertificateEntriesOrder(t *testing.T) {
	c, err := Parse([]byte(`[general]
hosts = ["a.example"]
[tls]
certfile = "d.pem"
keyfile = "d.key"
[tls.host."a.example"]
certfile = "a.pem"
keyfile = "a.key"
[[tls.certificates]]
domains = ["*.Other.Example", "other.example"]
certfile = "o.pem"
keyfile = "o.key"
`), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Certificate{
		{Domains: []string{"a.example"}, CertFile: "a.pem", KeyFile: "a.key"},
		{Domains: []string{"*.other.example", "other.example"}, CertFile: "o.pem", KeyFile: "o.key"},
		{CertFile: "d.pem", KeyFile: "d.key"},
	}
	if got := c.CertificateEntries(); !reflect.DeepEqual(got, want) {
		t.Errorf("CertificateEntries() = %+v\nwant %+v", got, want)
	}
}

func TestMisc(t *testing.T) {
	c := Default()
	if c.General.SlogLevel().String() != "INFO" {
		t.Errorf("SlogLevel = %v", c.General.SlogLevel())
	}
	if c.Workers.EffectiveSize() < 4 {
		t.Errorf("EffectiveSize = %d", c.Workers.EffectiveSize())
	}
	if (Workers{Size: 3}).EffectiveSize() != 3 {
		t.Error("EffectiveSize ignores size")
	}
	if c.TLS.MinTLSVersion() != 0x0303 || (TLS{MinVersion: "1.3"}).MinTLSVersion() != 0x0304 {
		t.Error("MinTLSVersion")
	}
	if c.File() != "" {
		t.Errorf("File() = %q", c.File())
	}
	if got := c.General.ShutdownTimeout.String(); got != (15 * time.Second).String() {
		t.Errorf("shutdown = %s", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/hermod.toml")
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "/nonexistent/hermod.toml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	cert := dir + "/c.pem"
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "[tls]\ncertfile = \"" + cert + "\"\nkeyfile = \"" + dir + "/missing.key\"\n"
	c, err := Parse([]byte(doc), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckFiles()
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || e.Key != "tls.keyfile" {
		t.Fatalf("CheckFiles() = %v, want an error at line 3 on tls.keyfile", err)
	}
}

// A file without [[listen.c2s]] keeps both default listeners as they are.
func TestDefaultListenersSurviveAFile(t *testing.T) {
	c, err := Parse([]byte("[general]\nloglevel = \"debug\"\n"), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Listen.C2S) != 2 || c.Listen.C2S[1].TLS != TLSDirect || c.Listen.C2S[1].Port != DefaultC2SDirectPort {
		t.Fatalf("listeners = %+v", c.Listen.C2S)
	}
}

func TestModulesDefaultAndReplaced(t *testing.T) {
	c, err := Parse([]byte("[general]\nloglevel = \"info\"\n"), "a.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasModule("mod_roster") || c.HasModule("mod_register") {
		t.Fatalf("default modules: %v", c.ModuleNames())
	}
	c, err = Parse([]byte("[modules.mod_register]\n"), "b.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ModuleNames(); len(got) != 1 || got[0] != "mod_register" {
		t.Fatalf("a file naming modules enables exactly those: %v", got)
	}
}

// Modules enabled by default have no table in the file; decoding their options must
// give the module its defaults, not an error.
func TestDecodeDefaultModuleFromAFile(t *testing.T) {
	c, err := Parse([]byte("[general]\nloglevel = \"info\"\n"), "a.toml")
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		Versioning bool `toml:"versioning"`
	}
	opts.Versioning = true
	if err := c.DecodeModule("mod_roster", &opts); err != nil || !opts.Versioning {
		t.Fatalf("DecodeModule of a default module: %v (%+v)", err, opts)
	}
}
