// Package roster is mod_roster: the roster of RFC 6121 section 2 (get, set, remove,
// pushes to every interested resource, groups, names, roster versioning of XEP-0237)
// and the presence subscriptions of section 3 (the state machine of Appendix A,
// pending requests stored and delivered again at login, pre-approvals), for contacts on
// this server: both sides of a subscription are applied and stored.
//
// # The shared roster service
//
// Service keeps one compact, immutable roster Snapshot per online account, shared by
// all of the account's sessions, loaded on a worker when the first session opens and
// dropped when the last one closes; contact JIDs are interned (package unique), so a
// contact shared by many rosters is stored once. mod_presence (modules/presence) reads
// the same Service through Shared, which makes whichever of the two modules starts
// first create it for the host.
//
// # Goroutines
//
// Storage is reached only on workers: IQ handlers, session hooks, and the per-account
// queue that processes subscription stanzas in the order a user sent them. Event loops
// only read snapshots (an atomic pointer) and per-session flags under a mutex that is
// never held across I/O or a send. See docs/design for the locking rules.
//
// # What this package must not do
//
// It must not block an event loop, keep copies of a roster per session, or reach
// another server: a contact on a domain this server does not serve is left to the
// engine, which answers remote-server-not-found until server-to-server exists.
package roster
