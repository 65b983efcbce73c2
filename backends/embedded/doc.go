// Package embedded is Hermod's zero-set-up storage engine: a backends.Store in a single
// bbolt file (go.etcd.io/bbolt) inside the server's data directory.
//
// It is for single-node deployments and for trying Hermod out. It must not be shared
// between processes (bbolt takes an exclusive file lock) and it knows nothing of JIDs,
// streams or features: it stores what package backends declares, keyed by the strings it
// is given.
//
// # Layout
//
// One top-level bucket per kind of data, nested per domain, so that a virtual host's data
// is contiguous and can be dropped with one bucket deletion:
//
//	meta/schema               uint32 big-endian: the layout version (1)
//	accounts/<domain>/<user>  the account record
//	account_counts/<domain>   uint64 big-endian: the domain's number of accounts
//
// The schema version lets a later build migrate a file in place when it opens it; a file
// written by a newer build is refused rather than misread.
//
// # Encoding
//
// Records are a compact hand-written binary format (record.go), not JSON. The account
// record is read on every login, so its decoding is on the hot path: the binary form
// decodes with two allocations and no reflection, is about half the size of JSON (which
// would base64 every key), and has an explicit format byte for later evolution. The price
// is a parser of our own, hence its fuzz target.
//
// # Durability and group commit
//
// A write returns only after its transaction is committed and fsynced (bbolt's default;
// NoSync is never set). Writes from all goroutines go through one committer goroutine that
// puts every write waiting at that moment into the same transaction, so that N concurrent
// writers pay for about one fsync rather than N. Unlike bbolt's DB.Batch it adds no delay
// to a write that arrives alone; see commit.go and the benchmarks.
//
// Reads are bbolt read transactions: they run concurrently with each other and with the
// writer, and never wait for a commit.
package embedded
