// Package transfer moves all of a store's data into a file and from a file into another
// store, through the interfaces of package backends only: the operator's way from the
// embedded store to MySQL (`hermod db export`, `hermod db import`), or back.
//
// # The file
//
// An export is a gzip stream of JSON lines. The first line is the header:
//
//	{"format":"hermod-export","version":1,"domains":["example.com"]}
//
// then, for each domain in the header's order and each account in byte-wise order of
// its user, the account's records, each one line with "t" naming its kind: "account"
// (credentials with SCRAM keys, creation time), "roster" (items, pending inbound
// subscription requests and the roster's version), "offline" (messages oldest first,
// at most OfflineChunk per line), "vcard", "private" (one line per namespace),
// "privacy" (lists and the default) and "last" (last logout). Kinds an account has no
// data of have no line. The last line is the trailer, {"t":"end",...}, with the counts
// of what came before: a file without it was cut short and is refused.
//
// Byte strings (SCRAM keys, stanzas, vCards, private XML) are base64, so that bytes that
// are not valid UTF-8 survive; times are integers (Unix seconds, or milliseconds for
// offline stamps). Nothing in the file depends on when it was written: two exports of
// stores holding the same data, with the same store-assigned roster versions, are the
// same bytes.
//
// # What is not carried over
//
// The interfaces define what is reachable. Data is found by walking the accounts of
// each configured domain, so a roster, vCard or message kept for a user without an
// account is not exported. Private XML has no listing method in backends: a source
// store that implements PrivateNamespaceLister (the embedded and MySQL stores, and a
// composite whose private XML is in one of them) has every namespace exported, any other only the namespaces
// ExportOptions.PrivateNamespaces names (by default the ones clients are known to use,
// see DefaultPrivateNamespaces). Offline messages get new sequence numbers from
// the destination (their order and stamps are kept). A roster's version is exported,
// but no interface of backends sets one: the destination gives the imported roster its
// own. When the destination implements RosterVersionRaiser (the embedded and MySQL
// stores do), Import first moves its versions above the exported one, so the new version is one no client can have cached;
// otherwise Import counts the rosters whose new version is below the exported one (a
// client that cached such an old version could, by coincidence, be told its stale
// roster is current). Privacy lists' active list is per session and never stored.
//
// # What this package must not do
//
// It must not import engine or a concrete store: callers open the stores. It writes to
// the destination only through the interfaces' ordinary methods, so each store keeps
// validating what it is given.
package transfer
