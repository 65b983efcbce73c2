// Package mysql is the MariaDB storage engine of Hermod: a backends.Store that
// implements every storage interface of package backends (accounts, rosters, offline
// messages, vCards, private XML, last activity, privacy lists) over
// github.com/go-sql-driver/mysql, for deployments that keep persistent data in a
// database server shared by several Hermod nodes.
//
// # Schema
//
// The schema lives in versioned migration files (migrations/NNNN_name.sql) built into
// the binary. Migrate applies the missing ones and records them in schema_migrations,
// under a GET_LOCK lock so that nodes starting together apply each once; Open applies
// them when Options.Migrate is set and refuses a schema that is not current otherwise.
// Keys (users, domains, contacts, list names) are VARBINARY, compared and ordered
// byte-wise as package backends requires; roster versions come from a SEQUENCE, which
// makes the schema MariaDB's (10.3 or later), not MySQL's.
//
// # Reads and writes
//
// The reads of the login path (account, roster, privacy settings, offline count) are
// server-side prepared statements. Other statements interpolate their parameters on
// the client (one round trip instead of prepare, execute and close). The high-volume
// writes (AppendOffline, SetLastLogout) go through a write pipeline that commits the
// writes of concurrent callers together in one transaction of multi-row statements,
// with a bounded queue; see PipelineOptions and docs/design/08-mysql-pipeline.md.
// Every call returns nil only after its transaction committed.
//
// # Failures
//
// Every call is bounded by Options.QueryTimeout. A read ends when its caller's context
// does; a write, once sent to the server, is not cut short by its caller's context
// (so that an error never hides a write that happened) but still by QueryTimeout. While the server cannot be reached,
// calls fail promptly with an error wrapping backends.ErrUnavailable; the connection
// pool reconnects by itself when the server is back.
//
// # What this package must not do
//
// It must not import engine or modules, keep package-level mutable state, or hold a
// connection while calling back into the caller.
package mysql
