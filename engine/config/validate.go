package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/hermod-im/hermod/stanza/jid"
)

// Known names. Tables, not state: they are never modified.
var (
	logLevels      = []string{"debug", "info", "warn", "error"}
	logFormats     = []string{"text", "json"}
	c2sTLSModes    = []string{TLSStartTLS, TLSStartTLSRequired, TLSDirect, TLSNone}
	httpTLSModes   = []string{TLSNone, TLSDirect}
	tlsVersions    = []string{"1.2", "1.3"}
	authMethods    = []string{"internal", "mysql", "http", "jwt", "external", "anonymous"}
	passwordFmts   = []string{PasswordPlain, PasswordSHA256, PasswordBcrypt, PasswordSCRAM}
	mysqlArgs      = []string{"user", "server", "jid"}
	httpMethods    = []string{"GET", "POST"}
	jwtAlgorithms  = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
	conflicts      = []string{ConflictReplace, ConflictRefuse}
	saslMechanisms = []string{
		"PLAIN", "ANONYMOUS",
		"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512",
		"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS",
	}
)

// Bounds on numeric settings.
const (
	// RFC 6120 section 13.12: a server must accept stanzas of at least 10000 bytes.
	minStanzaSize = 10000
	maxStanzaSize = 64 << 20
	// RFC 7677 section 4: the iteration count SHOULD be at least 4096; Hermod makes
	// that a floor, and caps the count where one login would cost seconds.
	minScramIterations = 4096
	maxScramIterations = 10_000_000
)

// Validate checks every setting, normalises the host names in place (IDNA2008,
// lowercase: the form the rest of the server compares against), and returns an
// ErrorList with the file position of each problem when the Config came from a file.
// Call it again after changing a Config in code (command-line overrides). It touches
// no file system; CheckFiles does that.
func (c *Config) Validate() error {
	ec := &errs{file: c.file, idx: c.idx}
	root := path{}
	hosts := c.validateGeneral(ec, root.key("general"))
	c.validateListen(ec, root.key("listen"))
	c.validateTLS(ec, root.key("tls"), hosts)
	c.validateAuth(ec, root.key("auth"), hosts)

	lp := root.key("limits")
	intRange(ec, lp.key("max_depth"), c.Limits.MaxDepth, 4, 1024)
	intRange(ec, lp.key("max_attrs"), c.Limits.MaxAttrs, 1, 1024)
	intRange(ec, lp.key("max_name_len"), c.Limits.MaxNameLen, 16, 4096)
	oneOf(ec, root.key("session").key("conflict"), c.Session.Conflict, conflicts)
	wp := root.key("workers")
	intRange(ec, wp.key("size"), c.Workers.Size, 0, 100_000)
	intRange(ec, wp.key("queue"), c.Workers.Queue, 1, 10_000_000)

	for _, name := range sortedKeys(c.Modules) {
		if !isModuleName(name) {
			ec.at(root.key("modules").key(name), "module names are lowercase letters, digits and '_', starting with a letter")
		}
	}
	c.validateBackends(ec, root.key("backends"))
	return ec.err()
}

// validateGeneral checks [general] and returns the set of normalised hosts.
func (c *Config) validateGeneral(ec *errs, p path) map[string]bool {
	g := &c.General
	hosts := map[string]bool{}
	if len(g.Hosts) == 0 {
		ec.at(p.key("hosts"), "at least one host (XMPP domain) is needed")
	}
	for i, h := range g.Hosts {
		hp := p.key("hosts").index(i)
		norm, err := normaliseDomain(h)
		if err != nil {
			ec.at(hp, "%v", err)
			continue
		}
		if hosts[norm] {
			ec.at(hp, "host %q is listed twice", norm)
			continue
		}
		hosts[norm] = true
		g.Hosts[i] = norm
	}
	if g.DataDir == "" {
		ec.at(p.key("data_dir"), "must not be empty")
	}
	oneOf(ec, p.key("loglevel"), g.LogLevel, logLevels)
	oneOf(ec, p.key("log_format"), g.LogFormat, logFormats)
	return hosts
}

// normaliseDomain checks that s is a bare domain and returns its normal form.
func normaliseDomain(s string) (string, error) {
	if strings.HasPrefix(s, "*.") {
		return "", fmt.Errorf("%q: a wildcard is not a host", s)
	}
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain: %w", s, err)
	}
	if !j.IsDomain() {
		return "", fmt.Errorf("%q is not a bare domain (no '@' or '/' here)", s)
	}
	return j.Domainpart(), nil
}

type endpoint struct {
	p          path
	host, port string
}

// overlaps reports whether two bound addresses would collide: the same port on the
// same address, or on any address when either is a wildcard.
func (e endpoint) overlaps(o endpoint) bool {
	if e.port != o.port || e.port == "0" {
		return false
	}
	return e.host == o.host || isWildcard(e.host) || isWildcard(o.host)
}

func isWildcard(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

func isModuleName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (c *Config) validateListen(ec *errs, p path) {
	var bound []endpoint
	for i := range c.Listen.C2S {
		l := &c.Listen.C2S[i]
		lp := p.key("c2s").index(i)
		validIP(ec, lp.key("address"), l.Address)
		intRange(ec, lp.key("port"), l.Port, 1, 65535)
		oneOf(ec, lp.key("tls"), l.TLS, c2sTLSModes)
		intRange(ec, lp.key("max_stanza_size"), l.MaxStanzaSize, minStanzaSize, maxStanzaSize)
		if l.HandshakeTimeout.D <= 0 {
			ec.at(lp.key("handshake_timeout"), "must be greater than 0 (an unbounded handshake lets idle sockets pile up)")
		}
		if l.AuthTimeout.D <= 0 {
			ec.at(lp.key("auth_timeout"), "must be greater than 0")
		}
		intRange(ec, lp.key("max_connections"), l.MaxConnections, 0, 100_000_000)
		bound = append(bound, endpoint{lp, l.Address, strconv.Itoa(l.Port)})
	}
	for i := range c.Listen.HTTP {
		l := &c.Listen.HTTP[i]
		lp := p.key("http").index(i)
		validIP(ec, lp.key("address"), l.Address)
		intRange(ec, lp.key("port"), l.Port, 1, 65535)
		oneOf(ec, lp.key("tls"), l.TLS, httpTLSModes)
		for _, k := range []struct{ key, v string }{{"websocket_path", l.WebSocketPath}, {"bosh_path", l.BOSHPath}} {
			if k.v != "" && !strings.HasPrefix(k.v, "/") {
				ec.at(lp.key(k.key), "a path must start with '/' (or be \"\" to disable)")
			}
		}
		if l.WebSocketPath == "" && l.BOSHPath == "" {
			ec.at(lp, "serves nothing: set websocket_path or bosh_path")
		} else if l.WebSocketPath == l.BOSHPath {
			ec.at(lp.key("bosh_path"), "must differ from websocket_path")
		}
		intRange(ec, lp.key("max_stanza_size"), l.MaxStanzaSize, minStanzaSize, maxStanzaSize)
		bound = append(bound, endpoint{lp, l.Address, strconv.Itoa(l.Port)})
	}
	if a := c.Admin.Address; a != "" {
		ap := path{}.key("admin").key("address")
		if host, port, err := net.SplitHostPort(a); err != nil {
			ec.at(ap, "%q is not host:port: %v", a, err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			ec.at(ap, "%q: port must be a number from 0 to 65535", a)
		} else {
			bound = append(bound, endpoint{ap, host, port})
		}
	}
	for i, e := range bound {
		for _, prev := range bound[:i] {
			if e.overlaps(prev) {
				ec.at(e.p, "port %s on %q collides with %s", e.port, e.host, prev.p)
				break
			}
		}
	}
}

// validIP accepts an IP literal (IPv6 without brackets); listeners bind to addresses,
// not names, so that a DNS change cannot move them.
func validIP(ec *errs, p path, s string) {
	if net.ParseIP(s) == nil {
		ec.at(p, "%q is not an IP address (use 0.0.0.0 for every IPv4 address, :: for every address)", s)
	}
}

func (c *Config) validateTLS(ec *errs, p path, hosts map[string]bool) {
	t := &c.TLS
	pair(ec, p, t.CertFile, t.KeyFile)
	for _, h := range sortedKeys(t.Host) {
		hp := p.key("host").key(h)
		norm, err := normaliseDomain(h)
		switch {
		case err != nil:
			ec.at(hp, "%v", err)
		case !hosts[norm] || norm != h:
			ec.at(hp, "%q is not one of general.hosts (write it exactly as listed there)", h)
		}
		pp := t.Host[h]
		if pp.CertFile == "" || pp.KeyFile == "" {
			ec.at(hp, "needs both certfile and keyfile")
		}
	}
	for i, cert := range t.Certificates {
		cp := p.key("certificates").index(i)
		if len(cert.Domains) == 0 {
			ec.at(cp.key("domains"), "list the domains this certificate serves")
		}
		for j, d := range cert.Domains {
			base := strings.TrimPrefix(d, "*.")
			norm, err := normaliseDomain(base)
			if err != nil {
				ec.at(cp.key("domains").index(j), "%v", err)
				continue
			}
			if d != base {
				norm = "*." + norm
			}
			t.Certificates[i].Domains[j] = norm
		}
		if cert.CertFile == "" || cert.KeyFile == "" {
			ec.at(cp, "needs both certfile and keyfile")
		}
	}
	oneOf(ec, p.key("min_version"), t.MinVersion, tlsVersions)
}

// pair checks that a default certfile and keyfile are set together.
func pair(ec *errs, p path, cert, key string) {
	switch {
	case cert != "" && key == "":
		ec.at(p.key("keyfile"), "certfile is set but keyfile is not")
	case cert == "" && key != "":
		ec.at(p.key("certfile"), "keyfile is set but certfile is not")
	}
}

func (c *Config) validateAuth(ec *errs, p path, hosts map[string]bool) {
	a := &c.Auth
	validateAuthFields(ec, p, a.Methods, a.SASLMechanisms, a.ScramIterations, a.MaxFailedAttempts, false)
	for _, h := range sortedKeys(a.Host) {
		hp := p.key("host").key(h)
		if norm, err := normaliseDomain(h); err != nil {
			ec.at(hp, "%v", err)
		} else if !hosts[norm] || norm != h {
			ec.at(hp, "%q is not one of general.hosts (write it exactly as listed there)", h)
		}
		o := a.Host[h]
		validateAuthFields(ec, hp, o.Methods, o.SASLMechanisms, o.ScramIterations, o.MaxFailedAttempts, true)
	}
	c.validateAuthMethods(ec, p, hosts)
}

// validateAuthFields checks [auth] or an override; in an override, zero values and
// nil lists mean "inherit" and are accepted.
func validateAuthFields(ec *errs, p path, methods, mechs []string, iters, maxFailed int, override bool) {
	if !override || methods != nil {
		if len(methods) == 0 {
			ec.at(p.key("methods"), "at least one method is needed (%s)", strings.Join(authMethods, ", "))
		}
		for i, m := range methods {
			oneOf(ec, p.key("methods").index(i), m, authMethods)
		}
	}
	if !override || mechs != nil {
		if len(mechs) == 0 {
			ec.at(p.key("sasl_mechanisms"), "at least one mechanism is needed")
		}
		seen := map[string]bool{}
		for i, m := range mechs {
			mp := p.key("sasl_mechanisms").index(i)
			if seen[m] {
				ec.at(mp, "%q is listed twice", m)
			}
			seen[m] = true
			if !contains(saslMechanisms, m) {
				hint := ""
				if contains(saslMechanisms, strings.ToUpper(m)) {
					hint = fmt.Sprintf(" (mechanism names are upper case: %q)", strings.ToUpper(m))
				}
				ec.at(mp, "unknown SASL mechanism %q%s; known: %s", m, hint, strings.Join(saslMechanisms, ", "))
			}
		}
	}
	if !override || iters != 0 {
		intRange(ec, p.key("scram_iterations"), iters, minScramIterations, maxScramIterations)
	}
	if !override || maxFailed != 0 {
		intRange(ec, p.key("max_failed_attempts"), maxFailed, 1, 1000)
	}
}

func oneOf(ec *errs, p path, v string, allowed []string) {
	if contains(allowed, v) {
		return
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	ec.at(p, "%q is not allowed here; use one of %s", v, strings.Join(quoted, ", "))
}

func intRange(ec *errs, p path, v, lo, hi int) {
	if v < lo || v > hi {
		ec.at(p, "%d is out of range: must be from %d to %d", v, lo, hi)
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// CheckFiles checks that every certificate and key file named in the configuration
// exists and is readable, with the same positioned errors as Validate. It is separate
// from Validate so that a configuration can be checked on another machine; the
// check-config command and start-up call both.
func (c *Config) CheckFiles() error {
	ec := &errs{file: c.file, idx: c.idx}
	tp := path{}.key("tls")
	check := func(p path, name string) {
		if name == "" {
			return
		}
		f, err := os.Open(name)
		if err != nil {
			ec.at(p, "cannot read %q: %v", name, err)
			return
		}
		_ = f.Close()
	}
	check(tp.key("certfile"), c.TLS.CertFile)
	check(tp.key("keyfile"), c.TLS.KeyFile)
	for _, h := range sortedKeys(c.TLS.Host) {
		check(tp.key("host").key(h).key("certfile"), c.TLS.Host[h].CertFile)
		check(tp.key("host").key(h).key("keyfile"), c.TLS.Host[h].KeyFile)
	}
	for i, cert := range c.TLS.Certificates {
		check(tp.key("certificates").index(i).key("certfile"), cert.CertFile)
		check(tp.key("certificates").index(i).key("keyfile"), cert.KeyFile)
	}
	c.checkAuthFiles(ec)
	return ec.err()
}
