// Package redis is the session registry (backends.Sessions) on a Redis server, through
// github.com/redis/go-redis/v9: what every node of a cluster writes so that the others
// know where a user's resources are. It must not hold anything durable: a restarted
// Redis without persistence loses it all, and the nodes write it again (see Epochs in
// backends.Sessions).
//
// # Keys
//
// Every key starts with Options.Prefix ("hermod:" by default), so several registries
// (and test runs) share one server:
//
//	PREFIX s:u:LEN:DOMAINUSER   hash: resource -> "NODE|AVAILABLE|PRIORITY|SINCE_MS"
//	PREFIX s:n:NODE             string: the node's epoch, expiring TTL after its last Refresh
//	PREFIX s:i:NODE             set: the entries NODE holds, "LEN:DOMAIN" "LEN:USER" RESOURCE
//	PREFIX s:nodes              set: the nodes that refreshed and were not purged
//
// LEN is the byte length of the part that follows, so that no two (domain, user) pairs
// share a key whatever bytes they hold. Node names cannot hold '|' (backends.ValidateNode).
//
// # How a dead node's entries vanish
//
// Redis 7.0 cannot expire one field of a hash (HEXPIRE came in 7.4), so entries do not
// expire themselves. Instead the node's heartbeat key expires, and every read checks it:
// UserSessions runs one script that returns only the entries whose node key exists. A
// node that stops refreshing thus disappears from all its users at once, without a scan;
// the storage it leaves is freed by PurgeNode, which any surviving node may run (the
// s:nodes set says which nodes are dead).
//
// # Writes
//
// Calls of Register and Unregister are queued to a few writer goroutines, sharded by
// user so that one user's writes keep their order. Each writer sends everything queued,
// up to Options.MaxBatch, as one call of a Lua script that applies the writes in order:
// one round trip and one command per batch. (The server spends about 10 µs per write
// in the script, measured on Redis 7.0, against about 2 µs for a bare HSET: the price
// of keeping the index exact on moves, and the limit of a single Redis at some 60,000
// registrations per second per core.) The script keeps the hashes and indexes
// in agreement: a registration removes the entry from the index of a node it moves away
// from, a removal checks that the caller's node still holds the entry. A write the
// server refuses fails alone; the others of its batch are applied. The queues are
// bounded: a caller blocks while its shard's queue is full, no longer than its context
// allows.
//
// # Failures
//
// Any error that is not an answer from Redis itself (refused connection, timeout, a
// server loading its data) is reported wrapping backends.ErrUnavailable. After one, the
// registry fails calls at once, without touching the network, for a back-off that grows
// from 50 ms to 2 s, then lets the next call try again; go-redis reconnects by itself.
package redis
