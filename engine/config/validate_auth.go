package config

import (
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// validateAuthMethods checks the method tables ([auth.mysql] ...) as each host sees
// them (AuthFor): the tables of methods a host lists must be complete, and every value
// set must be in range. A problem in a value a host inherits is reported once, at
// [auth.X]; one in a per-host table at [auth.host."h".X].
func (c *Config) validateAuthMethods(ec *errs, p path, hosts map[string]bool) {
	c.eachAuthMethod(ec, p, hosts, func(a *Auth, m string, bad problem) {
		switch m {
		case "mysql":
			validateAuthMySQL(a.MySQL, bad)
		case "http":
			validateAuthHTTP(a.HTTP, bad)
		case "jwt":
			validateAuthJWT(a.JWT, bad)
		case "external":
			validateAuthExternal(a.External, bad)
		case "anonymous":
			validateAuthAnonymous(a.Anonymous, bad)
		}
	})
	for _, h := range sortedKeys(hosts) {
		seen := map[string]bool{}
		for i, m := range c.AuthFor(h).Methods {
			if seen[m] {
				ec.at(c.methodsPath(p, h).index(i), "method %q is listed twice", m)
				break
			}
			seen[m] = true
		}
	}
}

// checkAuthFiles checks, for the methods in use, that the key files of jwt can be
// read and that the program of external is an executable file.
func (c *Config) checkAuthFiles(ec *errs) {
	hosts := map[string]bool{}
	for _, h := range c.General.Hosts {
		hosts[h] = true
	}
	c.eachAuthMethod(ec, path{}.key("auth"), hosts, func(a *Auth, m string, bad problem) {
		switch m {
		case "jwt":
			for key, name := range map[string]string{"secret_file": a.JWT.SecretFile, "public_key_file": a.JWT.PublicKeyFile} {
				if name == "" {
					continue
				}
				if f, err := os.Open(name); err != nil {
					bad(key, "cannot read %q: %v", name, err)
				} else {
					_ = f.Close()
				}
			}
		case "external":
			prog := a.External.Program
			if prog == "" {
				return
			}
			if fi, err := os.Stat(prog); err != nil {
				if _, lerr := exec.LookPath(prog); lerr != nil {
					bad("program", "cannot run %q: %v", prog, err)
				}
			} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
				bad("program", "%q is not an executable file", prog)
			}
		}
	})
}

// methodsPath is the path of the methods list host h uses.
func (c *Config) methodsPath(p path, h string) path {
	if o, ok := c.Auth.Host[h]; ok && o.Methods != nil {
		return p.key("host").key(h).key("methods")
	}
	return p.key("methods")
}

// eachAuthMethod calls fn for every method every host lists, with the host's
// settings and a reporter that blames a key of the method's table where the file set
// it: the per-host table, else the global one (or, for a Config built in code, the
// global key), else (a required key nobody set) the entry listing the method. A
// problem the hosts share is reported once.
func (c *Config) eachAuthMethod(ec *errs, p path, hosts map[string]bool, fn func(a *Auth, m string, bad problem)) {
	seen := map[string]bool{}
	names := sortedKeys(hosts)
	if len(names) == 0 {
		names = []string{""}
	}
	for _, h := range names {
		a := c.AuthFor(h)
		methodsAt := c.methodsPath(p, h)
		for i, m := range a.Methods {
			fn(&a, m, func(key, format string, args ...any) {
				at := methodsAt.index(i)
				if hp := p.key("host").key(h).key(m).key(key); c.idx.has(hp) {
					at = hp
				} else if gp := p.key(m).key(key); c.idx == nil || c.idx.has(gp) {
					at = gp
				}
				if k := at.String(); !seen[k] {
					seen[k] = true
					ec.at(at, format, args...)
				}
			})
		}
	}
}

// problem reports an invalid value at a method table's key.
type problem func(key, format string, args ...any)

func durationRange(bad problem, key string, d Duration, lo, hi time.Duration) {
	if d.D < lo || d.D > hi {
		bad(key, "%s is out of range: must be from %s to %s", d.D, lo, hi)
	}
}

func intIn(bad problem, key string, v, lo, hi int) {
	if v < lo || v > hi {
		bad(key, "%d is out of range: must be from %d to %d", v, lo, hi)
	}
}

func validateAuthMySQL(m AuthMySQL, bad problem) {
	if m.DSN == "" {
		bad("dsn", "the mysql method needs a dsn (\"user:pass@tcp(127.0.0.1:3306)/db\")")
	}
	if strings.TrimSpace(m.PasswordQuery) == "" {
		bad("password_query", "the mysql method needs a password_query")
	} else if n := strings.Count(m.PasswordQuery, "?"); n != len(m.QueryArgs) {
		bad("query_args", "password_query has %d '?' placeholders but query_args names %d values", n, len(m.QueryArgs))
	}
	for _, a := range m.QueryArgs {
		if !slices.Contains(mysqlArgs, a) {
			bad("query_args", "%q is not a query argument; use user, server or jid", a)
		}
	}
	if !slices.Contains(passwordFmts, m.PasswordFormat) {
		bad("password_format", "%q is not a password format; use one of %s", m.PasswordFormat, strings.Join(passwordFmts, ", "))
	}
	intIn(bad, "max_open_conns", m.MaxOpenConns, 1, 10_000)
	intIn(bad, "max_idle_conns", m.MaxIdleConns, 0, 10_000)
	durationRange(bad, "timeout", m.Timeout, time.Millisecond, 5*time.Minute)
}

func validateAuthHTTP(h AuthHTTP, bad problem) {
	u, err := url.Parse(h.BaseURL)
	switch {
	case h.BaseURL == "":
		bad("base_url", "the http method needs a base_url (\"http://127.0.0.1:8000/auth\")")
	case err != nil:
		bad("base_url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		bad("base_url", "%q is not an http:// or https:// URL with a host", h.BaseURL)
	}
	if !slices.Contains(httpMethods, h.Method) {
		bad("method", "%q is not allowed here; use \"GET\" or \"POST\"", h.Method)
	}
	if h.BasicAuth != "" && !strings.Contains(h.BasicAuth, ":") {
		bad("basic_auth", "basic_auth is \"user:password\"")
	}
	durationRange(bad, "timeout", h.Timeout, time.Millisecond, 5*time.Minute)
	intIn(bad, "pool_size", h.PoolSize, 1, 10_000)
}

func validateAuthJWT(j AuthJWT, bad problem) {
	if !slices.Contains(jwtAlgorithms, j.Algorithm) {
		bad("algorithm", "%q is not a JWT algorithm; use one of %s", j.Algorithm, strings.Join(jwtAlgorithms, ", "))
	}
	hmac := strings.HasPrefix(j.Algorithm, "HS")
	switch {
	case hmac && j.Secret == "" && j.SecretFile == "":
		bad("secret", "%s needs secret or secret_file", j.Algorithm)
	case hmac && j.Secret != "" && j.SecretFile != "":
		bad("secret_file", "set secret or secret_file, not both")
	case hmac && j.Secret != "" && len(j.Secret) < 32:
		bad("secret", "an HMAC secret must be at least 32 bytes")
	case hmac && j.PublicKeyFile != "":
		bad("public_key_file", "%s uses secret or secret_file, not a public key", j.Algorithm)
	case !hmac && j.PublicKeyFile == "":
		bad("public_key_file", "%s needs public_key_file (PEM)", j.Algorithm)
	case !hmac && (j.Secret != "" || j.SecretFile != ""):
		bad("secret", "%s uses public_key_file, not a secret", j.Algorithm)
	}
	if j.UserClaim == "" {
		bad("user_claim", "user_claim names the claim carrying the user (\"sub\")")
	}
	durationRange(bad, "leeway", j.Leeway, 0, 10*time.Minute)
}

func validateAuthExternal(e AuthExternal, bad problem) {
	if e.Program == "" {
		bad("program", "the external method needs a program")
	}
	intIn(bad, "instances", e.Instances, 1, 1000)
	durationRange(bad, "timeout", e.Timeout, time.Millisecond, 5*time.Minute)
}

func validateAuthAnonymous(a AuthAnonymous, bad problem) {
	if len(a.Prefix) > 64 {
		bad("prefix", "a prefix of at most 64 bytes")
	}
	for _, r := range a.Prefix {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			bad("prefix", "%q: use lowercase letters, digits, '-' and '_'", a.Prefix)
			break
		}
	}
}
