// Package backends declares what Hermod stores and the interfaces every storage engine
// implements: the types of stored data, the sentinel errors, and the validation rules that
// every implementation applies identically.
//
// # What lives here
//
// Only contracts. Engines live in sub-packages: backends/embedded (bbolt, zero set-up),
// backends/memory (tests and throw-away servers), backends/mysql (MariaDB) and
// backends/redis (the session registry); backends/compose serves each kind of data from
// the engine the configuration names, and backends/transfer moves everything between
// two stores. The conformance suites in backends/backendtest run against each of them,
// so the behaviour written in the doc comments below is tested, not hoped for.
//
// # What must not live here
//
// This package must never import engine or modules: storage knows nothing of sockets,
// streams or features. It does not normalise JIDs either: callers pass user and domain
// already normalised (stanza/jid), and stores treat them as opaque byte strings.
//
// # Calling rules
//
// Every method of every store may block on I/O (disk, network). They are never to be
// called on an event loop: the engine calls them from its bounded worker pools and hands
// the result back through the connection's mailbox. All methods are safe for concurrent
// use by any number of goroutines.
//
// # Keys and ordering
//
// Accounts are keyed by (domain, user). Both must be non-empty and at most MaxPartLen
// bytes (RFC 7622's limit for a localpart or domainpart). Listing is in byte-wise
// lexicographic order of the user, the order of bbolt cursors, Redis ZRANGEBYLEX and a
// binary-collated SQL column; a store whose natural order differs must sort.
//
// # Credentials
//
// A store never sees a clear-text password. It keeps SCRAM keys (RFC 5802, RFC 7677):
// salt, iteration count, StoredKey and ServerKey per hash function. Deriving them from a
// password is the caller's job, done once at registration or import.
package backends
