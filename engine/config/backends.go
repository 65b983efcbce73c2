package config

import (
	"time"

	"github.com/go-sql-driver/mysql"
)

// Storage engines a kind of data may be kept in.
const (
	// BackendEmbedded is the bbolt file in general.data_dir: zero set-up, one process.
	BackendEmbedded = "embedded"
	// BackendMySQL is a MySQL or MariaDB server ([backends.mysql]).
	BackendMySQL = "mysql"
	// BackendMemory keeps data in the process only: it is lost at every stop. For
	// tests and throw-away servers.
	BackendMemory = "memory"
	// BackendRedis is a Redis server ([backends.redis]); only sessions may use it.
	BackendRedis = "redis"
)

// Kinds of persistent data, the keys of [backends] that override default. They are
// the interfaces of package backends: accounts (Accounts), rosters (Rosters), offline
// (Offline), vcard (VCards), private (PrivateXML), privacy (Privacy), last
// (LastActivity).
const (
	KindAccounts = "accounts"
	KindRosters  = "rosters"
	KindOffline  = "offline"
	KindVCard    = "vcard"
	KindPrivate  = "private"
	KindPrivacy  = "privacy"
	KindLast     = "last"
)

// Kinds lists the kinds of persistent data in a fixed order (the order of the keys
// in hermod.example.toml). Each call returns a fresh slice.
func Kinds() []string {
	return []string{KindAccounts, KindRosters, KindOffline, KindVCard, KindPrivate, KindPrivacy, KindLast}
}

// Known names of [backends]. Tables, not state: they are never modified.
var (
	persistentBackends = []string{BackendEmbedded, BackendMySQL, BackendMemory}
	sessionBackends    = []string{BackendMemory, BackendRedis}
)

// Backends is the [backends] table: which storage engine keeps each kind of data.
// A per-kind key left empty takes Default.
type Backends struct {
	// Default keeps every kind not named below: embedded, mysql or memory (default).
	Default string `toml:"default"`
	// Per-kind overrides; "" = Default.
	Accounts string `toml:"accounts"`
	Rosters  string `toml:"rosters"`
	Offline  string `toml:"offline"`
	VCard    string `toml:"vcard"`
	Private  string `toml:"private"`
	Privacy  string `toml:"privacy"`
	Last     string `toml:"last"`
	// Sessions is where the session registry (backends.Sessions, which mod_sessions
	// feeds) lives: memory (this process) or redis (sessions).
	Sessions string `toml:"sessions"`

	MySQL MySQL `toml:"mysql"`
	Redis Redis `toml:"redis"`
}

// MySQL is the [backends.mysql] table, used when any kind is kept in mysql.
type MySQL struct {
	// DSN is the go-sql-driver/mysql data source name, e.g.
	// "hermod:secret@tcp(127.0.0.1:3306)/hermod" (dsn). Hermod adds parseTime and
	// the other parameters it needs.
	DSN string `toml:"dsn"`
	// MaxOpenConns caps the connections of the pool (max_open_conns).
	MaxOpenConns int `toml:"max_open_conns"`
	// MaxIdleConns is how many idle connections the pool keeps (max_idle_conns); at
	// most MaxOpenConns.
	MaxIdleConns int `toml:"max_idle_conns"`
	// ConnMaxLifetime recycles connections older than this (conn_max_lifetime);
	// 0 keeps them forever.
	ConnMaxLifetime Duration `toml:"conn_max_lifetime"`
	// QueryTimeout bounds one statement (query_timeout).
	QueryTimeout Duration `toml:"query_timeout"`
	// MigrateOnStart applies pending schema migrations when the server starts
	// (migrate_on_start); otherwise `hermod db migrate` does, and a server finding an
	// outdated schema refuses to start.
	MigrateOnStart bool `toml:"migrate_on_start"`
	// Pipeline groups high-volume writes ([backends.mysql.pipeline]).
	Pipeline Pipeline `toml:"pipeline"`
}

// Pipeline is [backends.mysql.pipeline]: the asynchronous writer that groups
// offline, archive and last-activity writes into multi-row statements.
type Pipeline struct {
	// Enabled turns the pipeline on (enabled); off, every write is its own statement.
	Enabled bool `toml:"enabled"`
	// MaxBatch is the most rows one transaction takes (max_batch); statements are
	// split at 1000 rows, MariaDB's placeholder limit.
	MaxBatch int `toml:"max_batch"`
	// MaxDelay is how long a write may wait for others to join its batch (max_delay);
	// 0 waits for nothing: writes arriving while a batch commits form the next one.
	MaxDelay Duration `toml:"max_delay"`
	// Queue is how many writes may wait; beyond it writers block (back-pressure)
	// until the context ends (queue).
	Queue int `toml:"queue"`
}

// Redis is the [backends.redis] table, used when sessions = "redis": the session
// registry that nodes of a cluster share (backends/redis).
type Redis struct {
	// Address is host:port of the server (address).
	Address string `toml:"address"`
	// DB is the database number (db).
	DB int `toml:"db"`
	// Username and Password authenticate to the server (AUTH); "" for none
	// (username, password).
	Username string `toml:"username"`
	Password string `toml:"password"`
	// KeyPrefix starts every key Hermod writes, so that clusters can share a Redis
	// (key_prefix).
	KeyPrefix string `toml:"key_prefix"`
	// TTL is how long a node's sessions outlive its last heartbeat: a node that dies
	// has its entries vanish after it (ttl).
	TTL Duration `toml:"ttl"`
	// Timeout bounds one round trip, connecting included (timeout).
	Timeout Duration `toml:"timeout"`
	// PoolSize is the most connections; 0 = one per writer plus two (pool_size).
	PoolSize int `toml:"pool_size"`
}

// DefaultBackends is Default's [backends]: everything in the embedded store,
// sessions in memory, and the settings a mysql or redis engine starts from.
func DefaultBackends() Backends {
	return Backends{
		Default:  BackendEmbedded,
		Sessions: BackendMemory,
		MySQL: MySQL{
			MaxOpenConns:    32,
			MaxIdleConns:    16,
			ConnMaxLifetime: Dur(30 * time.Minute),
			QueryTimeout:    Dur(5 * time.Second),
			Pipeline: Pipeline{
				Enabled:  true,
				MaxBatch: 512,
				MaxDelay: Dur(0),
				Queue:    4096,
			},
		},
		Redis: Redis{
			Address:   "127.0.0.1:6379",
			KeyPrefix: "hermod:",
			TTL:       Dur(30 * time.Second),
			Timeout:   Dur(2 * time.Second),
		},
	}
}

// For returns the engine that keeps kind (one of Kinds): its override, else Default.
// It returns "" for an unknown kind.
func (b *Backends) For(kind string) string {
	p := b.override(kind)
	if p == nil {
		return ""
	}
	if *p != "" {
		return *p
	}
	return b.Default
}

// Uses reports whether any kind of persistent data is kept in engine.
func (b *Backends) Uses(engine string) bool {
	for _, k := range Kinds() {
		if b.For(k) == engine {
			return true
		}
	}
	return false
}

// override returns the field of kind, nil for an unknown kind.
func (b *Backends) override(kind string) *string {
	switch kind {
	case KindAccounts:
		return &b.Accounts
	case KindRosters:
		return &b.Rosters
	case KindOffline:
		return &b.Offline
	case KindVCard:
		return &b.VCard
	case KindPrivate:
		return &b.Private
	case KindPrivacy:
		return &b.Privacy
	case KindLast:
		return &b.Last
	}
	return nil
}

// validateBackends checks [backends] and its sub-tables. The engine tables are
// checked only when an engine uses them, so that the defaults of an unused engine
// never fail a configuration.
func (c *Config) validateBackends(ec *errs, p path) {
	b := &c.Backends
	oneOfKind := func(kp path, v string) {
		if v == BackendRedis {
			ec.at(kp, "redis keeps only sessions; persistent data needs %q, %q or %q", BackendEmbedded, BackendMySQL, BackendMemory)
			return
		}
		oneOf(ec, kp, v, persistentBackends)
	}
	oneOfKind(p.key("default"), b.Default)
	for _, k := range Kinds() {
		if v := *b.override(k); v != "" {
			oneOfKind(p.key(k), v)
		}
	}
	oneOf(ec, p.key("sessions"), b.Sessions, sessionBackends)
	if b.Uses(BackendMySQL) {
		validateBackendMySQL(ec, p.key("mysql"), &b.MySQL, b.chooser(p, BackendMySQL))
	}
	if b.Sessions == BackendRedis {
		validateBackendRedis(ec, p.key("redis"), &b.Redis)
	}
}

// chooser returns the key that puts a kind of data in engine: the first override
// naming it, else default. A missing engine table is reported there, where the file
// has a line to point at.
func (b *Backends) chooser(p path, engine string) path {
	for _, k := range Kinds() {
		if *b.override(k) == engine {
			return p.key(k)
		}
	}
	return p.key("default")
}

// validateBackendMySQL checks [backends.mysql]; chosenAt is the key that selected mysql.
func validateBackendMySQL(ec *errs, p path, m *MySQL, chosenAt path) {
	dp := p.key("dsn")
	if m.DSN == "" {
		ec.at(chosenAt, "data is kept in mysql, but %s is not set (e.g. \"hermod:secret@tcp(127.0.0.1:3306)/hermod\")", dp)
	} else if cfg, err := mysql.ParseDSN(m.DSN); err != nil {
		// The driver's messages quote parameter values, never the password.
		ec.at(dp, "not a valid MySQL data source name (user:password@tcp(host:port)/database): %v", err)
	} else if cfg.DBName == "" {
		ec.at(dp, "names no database: end it with /DATABASE")
	}
	intRange(ec, p.key("max_open_conns"), m.MaxOpenConns, 1, 100_000)
	intRange(ec, p.key("max_idle_conns"), m.MaxIdleConns, 0, m.MaxOpenConns)
	if m.QueryTimeout.D <= 0 {
		ec.at(p.key("query_timeout"), "must be greater than 0 (a statement without a bound can hang a login)")
	}
	pp := p.key("pipeline")
	intRange(ec, pp.key("max_batch"), m.Pipeline.MaxBatch, 1, 1000)
	intRange(ec, pp.key("queue"), m.Pipeline.Queue, 1, 10_000_000)
	if m.Pipeline.MaxDelay.D > time.Second {
		ec.at(pp.key("max_delay"), "%v is too long: a write waits that long before it is acknowledged (at most 1s)", m.Pipeline.MaxDelay)
	}
}

func validateBackendRedis(ec *errs, p path, r *Redis) {
	if r.Address == "" {
		ec.at(p.key("address"), "sessions are kept in redis: set host:port")
	}
	intRange(ec, p.key("db"), r.DB, 0, 1<<20)
	intRange(ec, p.key("pool_size"), r.PoolSize, 0, 100_000)
	if r.TTL.D < time.Second {
		ec.at(p.key("ttl"), "%v is too short: nodes refresh every ttl/3, and a node that misses that loses its sessions (at least 1s)", r.TTL.D)
	}
	if r.Timeout.D <= 0 {
		ec.at(p.key("timeout"), "must be greater than 0 (a command without a bound can hang the server)")
	}
}
