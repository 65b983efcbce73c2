// Package sessions is mod_sessions: it feeds the session registry (backends.Sessions)
// from the server's session hooks, so that every node of a cluster records which full
// JIDs it holds and any node can ask where a user's resources are, with their presence
// priority and availability. It is what clustering builds on; by itself it routes
// nothing.
//
// # What it records
//
// A session is registered when it is bound (session-opened hook), written again when
// its own broadcast presence changes its availability or priority, and unregistered
// when it ends (session-closed hook). The node name (option node, by default the
// machine's host name) is the node every entry names. At start the module purges the
// entries an earlier run of the same node left behind; at stop it purges its node.
//
// # Never on the login path
//
// Hooks only note what changed, in memory: the session-opened hook, which the client's
// next stanza waits for, never waits for the registry. One goroutine of the module
// writes the changes, many calls at a time so that a Redis registry batches them into
// few round trips, and keeps the node's heartbeat (Refresh every heartbeat, TTL/3 by
// default). The goroutine is the module's own rather than the engine's worker pool,
// which is for bounded jobs: this one lives as long as the module.
//
// # When the registry is down
//
// A write that fails stays noted and is tried again; the outage is logged once when it
// starts and once when it ends, and Stats counts the failures. Meanwhile the heartbeat
// is tried every second. When the registry answers again, or when its epoch changed
// (the heartbeat expired, a Redis without persistence restarted empty), every live
// session is registered again, so the registry converges to what the node really holds.
//
// # Which registry
//
// With option redis_addr the module opens its own Redis registry (redis_db, key_prefix,
// redis_password, ttl, timeout). Otherwise the server's store must implement
// backends.Sessions; if it does not, the module fails to start. With purge_dead (on by
// default) the module also purges the entries of nodes whose heartbeat has expired.
//
// The module must not be used to decide anything on the login path: the registry is
// eventually consistent with the node by design.
package sessions
