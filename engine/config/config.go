package config

import (
	"crypto/tls"
	"log/slog"
	"reflect"
	"runtime"
	"time"
)

// Config is a whole Hermod configuration. Field comments name the TOML key; the
// defaults are those of Default and of hermod.example.toml.
type Config struct {
	General  General                   `toml:"general"`
	Listen   Listen                    `toml:"listen"`
	Admin    Admin                     `toml:"admin"`
	TLS      TLS                       `toml:"tls"`
	Auth     Auth                      `toml:"auth"`
	Limits   Limits                    `toml:"limits"`
	Session  Session                   `toml:"session"`
	Workers  Workers                   `toml:"workers"`
	Modules  map[string]map[string]any `toml:"modules"`
	Backends Backends                  `toml:"backends"`

	// file and idx remember where the configuration came from, so that validation
	// and modules can point at lines. Both are zero for a Config built in code.
	file string
	raw  []byte
	idx  *index
}

// General is the [general] table.
type General struct {
	// Hosts are the XMPP domains served (hosts). Validate normalises them (IDNA,
	// lowercase) in place.
	Hosts []string `toml:"hosts"`
	// DataDir is where the embedded store keeps its files (data_dir), relative to
	// the working directory unless absolute.
	DataDir string `toml:"data_dir"`
	// LogLevel is debug, info, warn or error (loglevel).
	LogLevel string `toml:"loglevel"`
	// LogFormat is text or json (log_format).
	LogFormat string `toml:"log_format"`
	// ShutdownTimeout bounds a graceful stop (shutdown_timeout).
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
}

// Listen is the [listen] table: arrays of listeners by protocol.
type Listen struct {
	C2S  []C2S  `toml:"c2s"`
	HTTP []HTTP `toml:"http"`
}

// TLS modes of a listener.
const (
	TLSStartTLS         = "starttls"          // STARTTLS offered, plaintext allowed
	TLSStartTLSRequired = "starttls_required" // STARTTLS offered and required before auth
	TLSDirect           = "direct"            // TLS from the first byte (XEP-0368)
	TLSNone             = "none"              // no TLS on this listener
)

// C2S is one [[listen.c2s]] client-to-server listener.
type C2S struct {
	Address          string   `toml:"address"`           // IP to bind; 0.0.0.0 = all IPv4, :: = all
	Port             int      `toml:"port"`              // 5222, or 5223 when tls = "direct"
	TLS              string   `toml:"tls"`               // starttls | starttls_required | direct | none
	MaxStanzaSize    int      `toml:"max_stanza_size"`   // bytes of one stanza (and of the stream header)
	HandshakeTimeout Duration `toml:"handshake_timeout"` // accept until stream open (and TLS done)
	AuthTimeout      Duration `toml:"auth_timeout"`      // accept until SASL success
	IdleTimeout      Duration `toml:"idle_timeout"`      // silence before close; 0 disables
	MaxConnections   int      `toml:"max_connections"`   // 0 = bounded only by the process's files
}

// HTTP is one [[listen.http]] listener, reserved for WebSocket (RFC 7395) and BOSH
// (XEP-0124/0206). Only the keys below are defined so far.
type HTTP struct {
	Address       string `toml:"address"`
	Port          int    `toml:"port"`            // 5280, or 5443 when tls = "direct"
	TLS           string `toml:"tls"`             // none | direct
	WebSocketPath string `toml:"websocket_path"`  // "" disables WebSocket
	BOSHPath      string `toml:"bosh_path"`       // "" disables BOSH
	MaxStanzaSize int    `toml:"max_stanza_size"` // bytes of one stanza
}

// Admin is the [admin] table: the HTTP listener for /metrics, /debug/pprof/,
// /healthz and the user API.
type Admin struct {
	// Address is host:port to bind; "" disables the admin listener. It is the only
	// protection of the user API: keep it on loopback or a private network.
	Address string `toml:"address"`
}

// TLS is the [tls] table.
type TLS struct {
	// CertFile and KeyFile are the PEM certificate chain and key used for every host
	// that no more specific entry covers.
	CertFile string `toml:"certfile"`
	KeyFile  string `toml:"keyfile"`
	// Host holds per-host certificates ([tls.host."example.com"]).
	Host map[string]CertPair `toml:"host"`
	// Certificates are [[tls.certificates]] entries, each for a list of domains.
	Certificates []Certificate `toml:"certificates"`
	// MinVersion is "1.2" or "1.3".
	MinVersion string `toml:"min_version"`
}

// CertPair is a certificate chain and its key, PEM files.
type CertPair struct {
	CertFile string `toml:"certfile"`
	KeyFile  string `toml:"keyfile"`
}

// Certificate is one [[tls.certificates]] entry.
type Certificate struct {
	// Domains the certificate serves; "*.example.com" matches one label.
	Domains  []string `toml:"domains"`
	CertFile string   `toml:"certfile"`
	KeyFile  string   `toml:"keyfile"`
}

// Auth is the [auth] table.
type Auth struct {
	// Methods are the authentication methods tried in order, the first that accepts
	// the password wins: internal (accounts in the configured store), mysql, http,
	// jwt, external, anonymous.
	Methods []string `toml:"methods"`
	// SASLMechanisms are offered in this order of preference, filtered per
	// connection (no -PLUS without TLS channel binding).
	SASLMechanisms []string `toml:"sasl_mechanisms"`
	// ScramIterations is the PBKDF2 count for keys derived from new passwords.
	ScramIterations int `toml:"scram_iterations"`
	// MaxFailedAttempts is the number of failed SASL attempts before the stream is
	// closed.
	MaxFailedAttempts int `toml:"max_failed_attempts"`
	// MySQL, HTTP, JWT, External and Anonymous configure the methods of those names
	// ([auth.mysql] ...); a table is read only when its method is listed.
	MySQL     AuthMySQL     `toml:"mysql"`
	HTTP      AuthHTTP      `toml:"http"`
	JWT       AuthJWT       `toml:"jwt"`
	External  AuthExternal  `toml:"external"`
	Anonymous AuthAnonymous `toml:"anonymous"`
	// Host overrides any of the above per host ([auth.host."example.com"]).
	Host map[string]AuthHost `toml:"host"`
}

// Password formats of [auth.mysql] password_format.
const (
	PasswordPlain  = "plain"  // the column holds the password itself
	PasswordSHA256 = "sha256" // lowercase or uppercase hex of SHA-256(password)
	PasswordBcrypt = "bcrypt" // a bcrypt hash ($2a$, $2b$, $2y$)
	PasswordSCRAM  = "scram"  // RFC 5803 SCRAM-SHA-256$<iter>:<salt>$<stored>:<server>
)

// AuthMySQL is [auth.mysql]: passwords checked against an existing users table.
type AuthMySQL struct {
	// DSN is the go-sql-driver/mysql data source name
	// ("user:pass@tcp(127.0.0.1:3306)/app").
	DSN string `toml:"dsn"`
	// PasswordQuery selects one row whose first column is the stored password; its '?'
	// placeholders are bound, in order, to QueryArgs.
	PasswordQuery string `toml:"password_query"`
	// QueryArgs name the placeholder values: "user" (the localpart), "server" (the
	// host), "jid" (user@server).
	QueryArgs []string `toml:"query_args"`
	// PasswordFormat is one of plain, sha256, bcrypt, scram.
	PasswordFormat string `toml:"password_format"`
	// MaxOpenConns and MaxIdleConns size the connection pool.
	MaxOpenConns int `toml:"max_open_conns"`
	MaxIdleConns int `toml:"max_idle_conns"`
	// Timeout bounds one query; past it the login fails with temporary-auth-failure.
	Timeout Duration `toml:"timeout"`
}

// AuthHTTP is [auth.http]: a web service in the manner of MongooseIM's http method.
type AuthHTTP struct {
	// BaseURL is where /check_password and /user_exists are found.
	BaseURL string `toml:"base_url"`
	// Method is "GET" (query parameters) or "POST" (a form body).
	Method string `toml:"method"`
	// BasicAuth, "user:password", is sent as HTTP basic authentication when set.
	BasicAuth string `toml:"basic_auth"`
	// Timeout bounds one request, connection included.
	Timeout Duration `toml:"timeout"`
	// PoolSize is the most connections kept open to the service.
	PoolSize int `toml:"pool_size"`
}

// AuthJWT is [auth.jwt]: the password is a signed JSON Web Token.
type AuthJWT struct {
	// Algorithm is the only signing algorithm accepted: HS256, HS384, HS512, RS256,
	// RS384, RS512, ES256, ES384, ES512, PS256, PS384 or PS512.
	Algorithm string `toml:"algorithm"`
	// Secret or SecretFile holds the HMAC key (HS*); PublicKeyFile the PEM public key
	// (RS*, PS*, ES*).
	Secret        string `toml:"secret"`
	SecretFile    string `toml:"secret_file"`
	PublicKeyFile string `toml:"public_key_file"`
	// UserClaim is the claim that carries the user: its localpart or user@host.
	UserClaim string `toml:"user_claim"`
	// Leeway is the clock skew allowed when checking exp and nbf.
	Leeway Duration `toml:"leeway"`
	// Issuer and Audience, when set, must be the token's iss and one of its aud.
	Issuer   string `toml:"issuer"`
	Audience string `toml:"audience"`
}

// AuthExternal is [auth.external]: ejabberd's external authentication protocol.
type AuthExternal struct {
	// Program is the executable; Args are its arguments.
	Program string   `toml:"program"`
	Args    []string `toml:"args"`
	// Instances is how many copies of the program run, each answering one request at
	// a time.
	Instances int `toml:"instances"`
	// Timeout bounds one request; a program that does not answer in time is restarted.
	Timeout Duration `toml:"timeout"`
}

// AuthAnonymous is [auth.anonymous]: SASL ANONYMOUS with throw-away accounts.
type AuthAnonymous struct {
	// Prefix starts every anonymous localpart (lowercase letters, digits, '-', '_').
	Prefix string `toml:"prefix"`
}

// AuthHost is an [auth.host."domain"] override; zero fields inherit from [auth].
type AuthHost struct {
	Methods           []string `toml:"methods"`
	SASLMechanisms    []string `toml:"sasl_mechanisms"`
	ScramIterations   int      `toml:"scram_iterations"`
	MaxFailedAttempts int      `toml:"max_failed_attempts"`
	// Method tables: keys set here replace those of [auth.mysql] etc. for this host;
	// the others are inherited.
	MySQL     *AuthMySQL     `toml:"mysql"`
	HTTP      *AuthHTTP      `toml:"http"`
	JWT       *AuthJWT       `toml:"jwt"`
	External  *AuthExternal  `toml:"external"`
	Anonymous *AuthAnonymous `toml:"anonymous"`
}

// Limits is the [limits] table: bounds on the XML of every stream.
type Limits struct {
	MaxDepth   int `toml:"max_depth"`    // element nesting, the stream header included
	MaxAttrs   int `toml:"max_attrs"`    // attributes per element, xmlns included
	MaxNameLen int `toml:"max_name_len"` // bytes of one qualified name
}

// Session conflict policies (RFC 6120 section 7.7.2.2).
const (
	ConflictReplace = "replace" // the new session wins; the old one gets <conflict/>
	ConflictRefuse  = "refuse"  // the new bind fails with <conflict/>
)

// Session is the [session] table.
type Session struct {
	Conflict string `toml:"conflict"` // replace | refuse
}

// Workers is the [workers] table: the pool that runs blocking work (password
// hashing, storage) off the event loops.
type Workers struct {
	Size  int `toml:"size"`  // goroutines; 0 = 16 per CPU (see EffectiveSize)
	Queue int `toml:"queue"` // jobs waiting beyond which new ones are refused
}

// Default values not otherwise visible in Default.
const (
	DefaultC2SPort       = 5222
	DefaultC2SDirectPort = 5223
	DefaultHTTPPort      = 5280
	DefaultHTTPSPort     = 5443
	DefaultMaxStanzaSize = 262144
)

// DefaultSASLMechanisms is the default [auth] sasl_mechanisms, strongest first.
func DefaultSASLMechanisms() []string {
	return []string{
		"SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS",
		"SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN",
	}
}

// Default returns the configuration used for every key a file leaves out. Each call
// returns a fresh value that the caller owns.
func Default() *Config {
	return &Config{
		General: General{
			Hosts:           []string{"localhost"},
			DataDir:         "./hermod-data",
			LogLevel:        "info",
			LogFormat:       "text",
			ShutdownTimeout: Dur(15 * time.Second),
		},
		Listen: Listen{C2S: []C2S{DefaultC2S(), DefaultC2SDirect()}},
		Admin:  Admin{Address: "127.0.0.1:8088"},
		TLS:    TLS{MinVersion: "1.2"},
		Auth: Auth{
			Methods:           []string{"internal"},
			SASLMechanisms:    DefaultSASLMechanisms(),
			ScramIterations:   4096,
			MaxFailedAttempts: 3,
			MySQL: AuthMySQL{
				PasswordQuery:  "SELECT password FROM users WHERE username = ?",
				QueryArgs:      []string{"user"},
				PasswordFormat: PasswordPlain,
				MaxOpenConns:   10,
				MaxIdleConns:   10,
				Timeout:        Dur(5 * time.Second),
			},
			HTTP:      AuthHTTP{Method: "GET", Timeout: Dur(5 * time.Second), PoolSize: 20},
			JWT:       AuthJWT{Algorithm: "HS256", UserClaim: "sub", Leeway: Dur(30 * time.Second)},
			External:  AuthExternal{Instances: 2, Timeout: Dur(5 * time.Second)},
			Anonymous: AuthAnonymous{Prefix: "anon-"},
		},
		Limits:   Limits{MaxDepth: 32, MaxAttrs: 64, MaxNameLen: 256},
		Session:  Session{Conflict: ConflictReplace},
		Workers:  Workers{Size: 0, Queue: 4096},
		Backends: DefaultBackends(),
		Modules:  DefaultModules(),
	}
}

// DefaultModules is the set of modules a configuration without any [modules] table
// enables: what an IM client expects of a server. In-band registration is not in it.
func DefaultModules() map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, name := range []string{
		"mod_roster", "mod_presence", "mod_offline", "mod_disco", "mod_vcard", "mod_private",
		"mod_privacy", "mod_carbons", "mod_last", "mod_time", "mod_version",
	} {
		m[name] = map[string]any{}
	}
	return m
}

// DefaultC2S is the listener Default has, and the values every [[listen.c2s]] entry
// starts from.
func DefaultC2S() C2S {
	return C2S{
		Address:          "0.0.0.0",
		Port:             DefaultC2SPort,
		TLS:              TLSStartTLS,
		MaxStanzaSize:    DefaultMaxStanzaSize,
		HandshakeTimeout: Dur(10 * time.Second),
		AuthTimeout:      Dur(30 * time.Second),
		IdleTimeout:      Dur(10 * time.Minute),
		MaxConnections:   0,
	}
}

// DefaultC2SDirect is Default's second listener: direct TLS (XEP-0368) on 5223.
func DefaultC2SDirect() C2S {
	l := DefaultC2S()
	l.Port = DefaultC2SDirectPort
	l.TLS = TLSDirect
	return l
}

// DefaultHTTP is the values every [[listen.http]] entry starts from.
func DefaultHTTP() HTTP {
	return HTTP{
		Address:       "0.0.0.0",
		Port:          DefaultHTTPPort,
		TLS:           TLSNone,
		WebSocketPath: "/ws",
		BOSHPath:      "/http-bind",
		MaxStanzaSize: DefaultMaxStanzaSize,
	}
}

// File returns the name the configuration was parsed from, "" when built in code.
func (c *Config) File() string { return c.file }

// SlogLevel maps general.loglevel to a slog.Level (info for an unknown value, which
// Validate rejects anyway).
func (g General) SlogLevel() slog.Level {
	switch g.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// EffectiveSize resolves workers.size: 0 means 16 goroutines per CPU. The pool's jobs
// mostly wait on storage (an fsync, a round trip to MySQL), and a group commit batches
// only the writes waiting at the same moment: provisioning 8,000 mutual roster items
// (hermod-bench presence, 400 users, roster 20) took 17.8 s with 4 per CPU, 6.3 s
// with 16 and 5.9 s with 32. Password hashing is CPU-bound whatever the count.
func (w Workers) EffectiveSize() int {
	if w.Size > 0 {
		return w.Size
	}
	return 16 * runtime.GOMAXPROCS(0)
}

// MinTLSVersion maps tls.min_version to a crypto/tls constant.
func (t TLS) MinTLSVersion() uint16 {
	if t.MinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// HasCertificates reports whether any certificate is configured.
func (t TLS) HasCertificates() bool {
	return t.CertFile != "" || len(t.Host) > 0 || len(t.Certificates) > 0
}

// AuthFor returns the [auth] settings for domain with its [auth.host] override
// applied. The returned slices are shared with c: do not modify them.
func (c *Config) AuthFor(domain string) Auth {
	a := c.Auth
	a.Host = nil
	o, ok := c.Auth.Host[domain]
	if !ok {
		return a
	}
	if o.Methods != nil {
		a.Methods = o.Methods
	}
	if o.SASLMechanisms != nil {
		a.SASLMechanisms = o.SASLMechanisms
	}
	if o.ScramIterations != 0 {
		a.ScramIterations = o.ScramIterations
	}
	if o.MaxFailedAttempts != 0 {
		a.MaxFailedAttempts = o.MaxFailedAttempts
	}
	overlay(&a.MySQL, o.MySQL)
	overlay(&a.HTTP, o.HTTP)
	overlay(&a.JWT, o.JWT)
	overlay(&a.External, o.External)
	overlay(&a.Anonymous, o.Anonymous)
	return a
}

// overlay copies the non-zero fields of *o (a per-host method table) over dst; a nil
// o changes nothing.
func overlay[T any](dst *T, o *T) {
	if o == nil {
		return
	}
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(o).Elem()
	for i := range s.NumField() {
		if !s.Field(i).IsZero() {
			d.Field(i).Set(s.Field(i))
		}
	}
}

// CertificateEntries lists every configured certificate, most specific first:
// [tls.host] entries, then [[tls.certificates]], then the [tls] default (with no
// domains, meaning "any other name"). The engine builds its SNI lookup from it.
func (c *Config) CertificateEntries() []Certificate {
	var out []Certificate
	for _, h := range sortedKeys(c.TLS.Host) {
		p := c.TLS.Host[h]
		out = append(out, Certificate{Domains: []string{h}, CertFile: p.CertFile, KeyFile: p.KeyFile})
	}
	out = append(out, c.TLS.Certificates...)
	if c.TLS.CertFile != "" {
		out = append(out, Certificate{CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile})
	}
	return out
}
