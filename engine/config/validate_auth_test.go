package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Problems in the method tables point at the key, in the global table or in the
// per-host override that set it, and are checked only for methods in use.
func TestAuthMethodErrors(t *testing.T) {
	const hosts = "[general]\nhosts = [\"a.example\", \"b.example\"]\n"
	tests := []struct {
		name string
		doc  string
		line int
		key  string
		msg  string
	}{
		{"http without url", hosts + "[auth]\nmethods = [\"http\"]\n", 4, "auth.methods[0]", "needs a base_url"},
		{"http bad url", hosts + "[auth]\nmethods = [\"http\"]\n[auth.http]\nbase_url = \"ftp://x\"\n", 6, "auth.http.base_url", "not an http"},
		{"http method", hosts + "[auth]\nmethods = [\"http\"]\n[auth.http]\nbase_url = \"http://127.0.0.1:1\"\nmethod = \"PUT\"\n", 7, "auth.http.method", `"GET" or "POST"`},
		{"http timeout", hosts + "[auth]\nmethods = [\"http\"]\n[auth.http]\nbase_url = \"http://127.0.0.1:1\"\ntimeout = \"0s\"\n", 7, "auth.http.timeout", "out of range"},
		{"mysql without dsn", hosts + "[auth]\nmethods = [\"internal\", \"mysql\"]\n", 4, "auth.methods[1]", "needs a dsn"},
		{"mysql args", hosts + "[auth]\nmethods = [\"mysql\"]\n[auth.mysql]\ndsn = \"u@tcp(127.0.0.1:3306)/d\"\nquery_args = [\"user\", \"server\"]\n", 7, "auth.mysql.query_args", "1 '?' placeholders"},
		{"mysql format", hosts + "[auth]\nmethods = [\"mysql\"]\n[auth.mysql]\ndsn = \"u@tcp(127.0.0.1:3306)/d\"\npassword_format = \"md5\"\n", 7, "auth.mysql.password_format", "not a password format"},
		{"jwt short secret", hosts + "[auth]\nmethods = [\"jwt\"]\n[auth.jwt]\nsecret = \"short\"\n", 6, "auth.jwt.secret", "at least 32 bytes"},
		{"jwt rsa without key", hosts + "[auth]\nmethods = [\"jwt\"]\n[auth.jwt]\nalgorithm = \"RS256\"\n", 4, "auth.methods[0]", "needs public_key_file"},
		{"jwt alg none", hosts + "[auth]\nmethods = [\"jwt\"]\n[auth.jwt]\nalgorithm = \"none\"\n", 6, "auth.jwt.algorithm", "not a JWT algorithm"},
		{"external without program", hosts + "[auth]\nmethods = [\"external\"]\n", 4, "auth.methods[0]", "needs a program"},
		{"external instances", hosts + "[auth]\nmethods = [\"external\"]\n[auth.external]\nprogram = \"/bin/true\"\ninstances = 0\n", 7, "auth.external.instances", "out of range"},
		{"anonymous prefix", hosts + "[auth]\nmethods = [\"anonymous\"]\n[auth.anonymous]\nprefix = \"Anon \"\n", 6, "auth.anonymous.prefix", "lowercase"},
		{"method twice", hosts + "[auth]\nmethods = [\"internal\",\n  \"internal\"]\n", 5, "auth.methods[1]", "listed twice"},
		{"host override method", hosts + "[auth.host.\"b.example\"]\nmethods = [\"http\"]\n", 4, `auth.host."b.example".methods[0]`, "needs a base_url"},
		{"host override value", hosts + "[auth]\nmethods = [\"http\"]\n[auth.http]\nbase_url = \"http://127.0.0.1:1\"\n[auth.host.\"b.example\".http]\npool_size = -2\n", 8, `auth.host."b.example".http.pool_size`, "out of range"},
		{"host override unknown key", hosts + "[auth.host.\"b.example\".http]\nbase = \"x\"\n", 4, `auth.host."b.example".http.base`, "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "t.toml")
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse = %v, want an ErrorList", err)
			}
			for _, e := range list {
				if e.Key == tc.key && e.Line == tc.line && strings.Contains(e.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("no error at line %d key %s with %q; got:\n%v", tc.line, tc.key, tc.msg, err)
		})
	}
}

// Unused method tables are not checked; used ones with defaults are complete.
func TestAuthMethodTablesValid(t *testing.T) {
	c, err := Parse([]byte(`[general]
hosts = ["a.example", "b.example"]
[auth]
methods = ["internal", "anonymous"]
[auth.http]
method = "POST"
[auth.host."b.example"]
methods = ["http", "jwt"]
[auth.host."b.example".http]
base_url = "http://127.0.0.1:8000/auth"
timeout = "2s"
[auth.host."b.example".jwt]
secret = "0123456789abcdef0123456789abcdef"
`), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.AuthFor("a.example"), c.AuthFor("b.example")
	if a.HTTP.BaseURL != "" || a.HTTP.Method != "POST" || a.Anonymous.Prefix != "anon-" {
		t.Errorf("AuthFor(a) = %+v", a)
	}
	if b.HTTP.BaseURL != "http://127.0.0.1:8000/auth" || b.HTTP.Method != "POST" || b.HTTP.Timeout.D != 2*time.Second || b.HTTP.PoolSize != 20 {
		t.Errorf("AuthFor(b).HTTP = %+v: the override's keys over the global table", b.HTTP)
	}
	if b.JWT.Secret == "" || b.JWT.Algorithm != "HS256" || b.JWT.UserClaim != "sub" {
		t.Errorf("AuthFor(b).JWT = %+v", b.JWT)
	}
	if c.Auth.HTTP.BaseURL != "" {
		t.Error("AuthFor changed the global table")
	}
}

// CheckFiles checks the key files and programs of the methods in use, with positions.
func TestAuthCheckFiles(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "auth.py")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(`[general]
hosts = ["a.example", "b.example"]
[auth]
methods = ["jwt"]
[auth.jwt]
algorithm = "RS256"
public_key_file = "`+filepath.Join(dir, "absent.pem")+`"
[auth.external]
program = "/nonexistent/unused"
[auth.host."b.example"]
methods = ["external"]
[auth.host."b.example".external]
program = "`+notExec+`"
`), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckFiles()
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("CheckFiles = %v, want two errors", err)
	}
	if e := list[0]; e.Line != 7 || e.Key != "auth.jwt.public_key_file" || !strings.Contains(e.Msg, "cannot read") {
		t.Errorf("first error %+v", e)
	}
	if e := list[1]; e.Line != 13 || e.Key != `auth.host."b.example".external.program` || !strings.Contains(e.Msg, "not an executable") {
		t.Errorf("second error %+v", e)
	}
	if err := os.Chmod(notExec, 0o700); err != nil {
		t.Fatal(err)
	}
	c.Auth.JWT.PublicKeyFile = notExec
	if err := c.CheckFiles(); err != nil {
		t.Errorf("CheckFiles with readable, executable files: %v", err)
	}
}
