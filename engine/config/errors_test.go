package config

import (
	"errors"
	"strings"
	"testing"
)

// Every error points at the right line and key and says something useful.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int
		key  string
		msg  string
	}{
		{"syntax", "[general\nhosts = []\n", 1, "", "expected ']'"},
		{"unknown top-level table", "\n[genral]\nhosts = [\"a\"]\n", 2, "genral", "unknown key"},
		{"unknown key", "[general]\nhosts = [\"a\"]\nlog_level = \"info\"\n", 3, "general.log_level", "unknown key"},
		{"unknown key in listener", "[[listen.c2s]]\nport = 5222\n\nprot = 1\n", 4, "listen.c2s[0].prot", "unknown key"},
		{"unknown key in second listener", "[[listen.c2s]]\n[[listen.c2s]]\nprot = 1\n", 3, "listen.c2s[1].prot", "unknown key"},
		{"wrong type in second listener", "[[listen.c2s]]\n[[listen.c2s]]\nport = \"x\"\n", 3, "listen.c2s[1].port", "cannot decode"},
		{"wrong type inline", "[tls]\ncertificates = [{certfile = \"a\"}, {certfile = 1}]\n", 2, "tls.certificates[1]", "cannot decode"},
		{"wrong type", "[general]\nhosts = \"example.com\"\n", 2, "general.hosts", "cannot decode TOML string"},
		{"duration integer", "[general]\nshutdown_timeout = 30\n", 2, "general.shutdown_timeout", "quoted string with a unit"},
		{"duration no unit", "[[listen.c2s]]\nidle_timeout = \"30\"\n", 2, "listen.c2s[0].idle_timeout", "invalid duration \"30\""},
		{"duration negative", "[[listen.c2s]]\nauth_timeout = \"-1s\"\n", 2, "listen.c2s[0].auth_timeout", "must not be negative"},
		{"duration in second entry", "[[listen.c2s]]\n[[listen.c2s]]\nport = 5\nhandshake_timeout = 5\n", 4, "listen.c2s[1].handshake_timeout", "quoted string"},
		{"bad tls mode", "[[listen.c2s]]\nport = 5222\ntls = \"startls\"\n", 3, "listen.c2s[0].tls", `use one of "starttls", "starttls_required", "direct", "none"`},
		{"port range", "[[listen.c2s]]\nport = 70000\n", 2, "listen.c2s[0].port", "from 1 to 65535"},
		{"stanza size too small", "[[listen.c2s]]\nmax_stanza_size = 100\n", 2, "listen.c2s[0].max_stanza_size", "from 10000"},
		{"zero handshake timeout", "[[listen.c2s]]\nhandshake_timeout = \"0s\"\n", 2, "listen.c2s[0].handshake_timeout", "greater than 0"},
		{"address not IP", "[[listen.c2s]]\naddress = \"example.com\"\n", 2, "listen.c2s[0].address", "not an IP address"},
		{"duplicate listener", "[[listen.c2s]]\n[[listen.c2s]]\naddress = \"127.0.0.1\"\n", 2, "listen.c2s[1]", "collides with listen.c2s[0]"},
		{"admin collides", "[[listen.c2s]]\nport = 8088\n[admin]\naddress = \"127.0.0.1:8088\"\n", 4, "admin.address", "collides"},
		{"admin not hostport", "[admin]\naddress = \"localhost\"\n", 2, "admin.address", "not host:port"},
		{"bad host", "[general]\nhosts = [\"ok.example\",\n  \"bad host\"]\n", 3, "general.hosts[1]", "not a valid domain"},
		{"host with local", "[general]\nhosts = [\"a@b.example\"]\n", 2, "general.hosts[0]", "not a bare domain"},
		{"duplicate host", "[general]\nhosts = [\"a.example\", \"A.example\"]\n", 2, "general.hosts[1]", "listed twice"},
		{"no hosts", "[general]\nhosts = []\n", 2, "general.hosts", "at least one host"},
		{"loglevel", "[general]\nloglevel = \"verbose\"\n", 2, "general.loglevel", `"verbose" is not allowed`},
		{"log format", "[general]\n\nlog_format = \"xml\"\n", 3, "general.log_format", `"text", "json"`},
		{"mechanism case", "[auth]\nsasl_mechanisms = [\"scram-sha-1\"]\n", 2, "auth.sasl_mechanisms[0]", `upper case: "SCRAM-SHA-1"`},
		{"mechanism duplicate", "[auth]\nsasl_mechanisms = [\"PLAIN\",\n\"PLAIN\"]\n", 3, "auth.sasl_mechanisms[1]", "listed twice"},
		{"iterations too low", "[auth]\nscram_iterations = 1000\n", 2, "auth.scram_iterations", "from 4096"},
		{"unknown method", "[auth]\nmethods = [\"ldap\"]\n", 2, "auth.methods[0]", `"ldap" is not allowed`},
		{"auth host not served", "[auth.host.\"other.example\"]\nscram_iterations = 5000\n", 1, `auth.host."other.example"`, "not one of general.hosts"},
		{"auth host bad value", "[general]\nhosts = [\"a.example\"]\n[auth.host.\"a.example\"]\nmax_failed_attempts = -1\n", 4, `auth.host."a.example".max_failed_attempts`, "out of range"},
		{"cert missing key", "[tls]\ncertfile = \"c.pem\"\n", 1, "tls.keyfile", "keyfile is not"},
		{"certificates entry", "[[tls.certificates]]\ndomains = [\"a.example\"]\ncertfile = \"c.pem\"\n", 1, "tls.certificates[0]", "needs both"},
		{"certificates bad domain", "[[tls.certificates]]\ndomains = [\"a b\"]\ncertfile = \"c\"\nkeyfile = \"k\"\n", 2, "tls.certificates[0].domains[0]", "not a valid domain"},
		{"inline certificates", "[tls]\ncertificates = [\n  {domains = [\"a.example\"], certfile = \"c\"},\n]\n", 3, "tls.certificates[0]", "needs both"},
		{"min version", "[tls]\nmin_version = \"1.1\"\n", 2, "tls.min_version", `"1.2", "1.3"`},
		{"limits", "[limits]\nmax_depth = 1\n", 2, "limits.max_depth", "from 4 to 1024"},
		{"conflict", "[session]\nconflict = \"kick\"\n", 2, "session.conflict", `"replace", "refuse"`},
		{"workers queue", "[workers]\nqueue = 0\n", 2, "workers.queue", "from 1"},
		{"module name", "[modules.Roster]\n", 1, "modules.Roster", "lowercase"},
		{"backend without dsn", "[backends]\naccounts = \"mysql\"\n", 2, "backends.accounts", "backends.mysql.dsn is not set"},
		{"backend default without dsn", "[backends]\n\ndefault = \"mysql\"\n", 3, "backends.default", "backends.mysql.dsn is not set"},
		{"backend unknown", "[backends]\naccounts = \"postgres\"\n", 2, "backends.accounts", `use one of "embedded", "mysql", "memory"`},
		{"backend redis for data", "[backends]\nrosters = \"redis\"\n", 2, "backends.rosters", "redis keeps only sessions"},
		{"sessions engine", "[backends]\nsessions = \"embedded\"\n", 2, "backends.sessions", `"memory", "redis"`},
		{"mysql dsn", "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"root@127.0.0.1:3306\"\n", 4, "backends.mysql.dsn", "not a valid MySQL data source name"},
		{"mysql dsn no database", "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"root@tcp(127.0.0.1:3306)/\"\n", 4, "backends.mysql.dsn", "names no database"},
		{"mysql idle over open", "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"root@tcp(127.0.0.1)/h\"\nmax_open_conns = 4\nmax_idle_conns = 5\n", 6, "backends.mysql.max_idle_conns", "from 0 to 4"},
		{"mysql query timeout", "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"root@tcp(127.0.0.1)/h\"\nquery_timeout = \"0s\"\n", 5, "backends.mysql.query_timeout", "greater than 0"},
		{"mysql pipeline delay", "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"root@tcp(127.0.0.1)/h\"\n[backends.mysql.pipeline]\nmax_delay = \"2s\"\n", 6, "backends.mysql.pipeline.max_delay", "at most 1s"},
		{"redis timeout", "[backends]\nsessions = \"redis\"\n[backends.redis]\ntimeout = \"0s\"\n", 4, "backends.redis.timeout", "greater than 0"},
		{"redis ttl", "[backends]\nsessions = \"redis\"\n[backends.redis]\nttl = \"10ms\"\n", 4, "backends.redis.ttl", "at least 1s"},
		{"redis address", "[backends]\nsessions = \"redis\"\n[backends.redis]\naddress = \"\"\n", 4, "backends.redis.address", "set host:port"},
		{"http paths", "[[listen.http]]\nwebsocket_path = \"ws\"\n", 2, "listen.http[0].websocket_path", "start with '/'"},
		{"http nothing", "[[listen.http]]\nwebsocket_path = \"\"\nbosh_path = \"\"\n", 1, "listen.http[0]", "serves nothing"},
		{"http tls", "[[listen.http]]\ntls = \"starttls\"\n", 2, "listen.http[0].tls", `"none", "direct"`},
		{"integer overflow", "[[listen.c2s]]\nport = 99999999999999999999\n", 2, "", "integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "hermod.toml")
			if err == nil {
				t.Fatalf("Parse succeeded, want an error at line %d", tt.line)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not an ErrorList", err, err)
			}
			e := list[0]
			if e.File != "hermod.toml" || e.Line != tt.line || (tt.key != "" && e.Key != tt.key) || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got  %s (line %d, key %q)\nwant line %d, key %q, message containing %q", e, e.Line, e.Key, tt.line, tt.key, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "hermod.toml:") {
				t.Errorf("Error() = %q does not start with the file name", err.Error())
			}
		})
	}
}

// All problems are reported at once, in file order.
func TestParseErrorsAllAtOnce(t *testing.T) {
	doc := `[general]
loglevel = "loud"
[auth]
scram_iterations = 1
[session]
conflict = "x"
`
	_, err := Parse([]byte(doc), "h.toml")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v", err)
	}
	var lines []int
	for _, e := range list {
		lines = append(lines, e.Line)
	}
	if len(lines) != 3 || lines[0] != 2 || lines[1] != 4 || lines[2] != 6 {
		t.Errorf("lines = %v, want [2 4 6]\n%v", lines, err)
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 2 {
		t.Errorf("errors.As(*Error) = %v", one)
	}
}

func TestUnknownKeysAllReported(t *testing.T) {
	_, err := Parse([]byte("[general]\nfoo = 1\n[admin]\nbar = 2\n"), "h.toml")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 || list[0].Line != 2 || list[1].Line != 4 {
		t.Fatalf("err = %v", err)
	}
	if list[0].Context == "" {
		t.Error("no context excerpt for an unknown key")
	}
}

// Validate of a Config built in code has keys but no positions.
func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Listen.C2S[0].TLS = "bogus"
	err := c.Validate()
	var e *Error
	if !errors.As(err, &e) || e.Line != 0 || e.File != "" || e.Key != "listen.c2s[0].tls" {
		t.Fatalf("Validate() = %v", err)
	}
	if got := e.Error(); !strings.HasPrefix(got, "listen.c2s[0].tls: ") {
		t.Errorf("Error() = %q", got)
	}
}

// A value changed in code after Parse (a command-line override) is reported under
// its key with the position of the file's entry, which is where the user looks.
func TestValidateAfterOverride(t *testing.T) {
	c, err := Parse([]byte("[admin]\naddress = \"127.0.0.1:9000\"\n"), "h.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.Admin.Address = "nonsense"
	var e *Error
	if err := c.Validate(); !errors.As(err, &e) || e.Key != "admin.address" {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "f.toml", Line: 3, Column: 7, Key: "a.b", Msg: "bad"}, "f.toml:3:7: a.b: bad"},
		{Error{File: "f.toml", Line: 3, Key: "a.b", Msg: "bad"}, "f.toml:3: a.b: bad"},
		{Error{File: "f.toml", Msg: "bad"}, "f.toml: bad"},
		{Error{Key: "a", Msg: "bad"}, "a: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	l := ErrorList{{Msg: "x"}, {Msg: "y"}}
	if l.Error() != "x\ny" {
		t.Errorf("ErrorList.Error() = %q", l.Error())
	}
}

func TestPathString(t *testing.T) {
	p := path{}.key("auth").key("host").key("example.com").key("methods").index(2)
	if got := p.String(); got != `auth.host."example.com".methods[2]` {
		t.Errorf("String() = %s", got)
	}
	q := p.key("x")
	r := p.key("y")
	if q.String() == r.String() {
		t.Error("paths share a backing array")
	}
}
