// Package jid parses, normalises and compares XMPP addresses (JIDs) as defined
// by RFC 7622, with the PRECIS profiles of RFC 8265 for the localpart and the
// resourcepart and IDNA2008 (RFC 5890-5895, UTS #46 mapping) for the
// domainpart.
//
// # The value
//
// A [JID] holds its normalised string form and two small offsets, so it is
// cheap to copy, comparable with ==, usable as a map key, and its parts
// ([JID.Localpart], [JID.Domainpart], [JID.Resourcepart], [JID.Bare],
// [JID.DomainJID]) are substrings that cost no allocation. Two JIDs that name
// the same address after normalisation are == to each other.
//
// # Fast path and slow path
//
// Almost every address a server sees is already in normal form and ASCII:
// "juliet@example.com/balcony". [Parse] recognises such input in two short passes over
// the bytes and returns a JID whose string is the input string itself, with no
// allocation ([ParseBytes] allocates the string once). ASCII input that is
// normal but for upper case in the localpart or domainpart is lower-cased in
// one allocation, which is all PRECIS and IDNA would do to it. Anything else
// (non-ASCII, A-labels, a trailing dot, IPv6 literals, invalid input) goes
// through the slow path: PRECIS UsernameCaseMapped for the localpart,
// IDNA2008 to U-labels for the domainpart, PRECIS OpaqueString for the
// resourcepart. Each part is only sent to the slow path if it needs it, and
// tests and a fuzz target hold the fast path to give exactly what the slow
// path gives.
//
// Only the resourcepart is case-sensitive: "Juliet@Example.COM/Balcony" parses
// to "juliet@example.com/Balcony".
//
// # Errors
//
// Every error returned by the parsing functions is an [*Error] naming the part
// that failed ([Part]) and wrapping one of the sentinel causes ([ErrEmpty],
// [ErrTooLong], [ErrForbidden], [ErrDisallowed], [ErrEmptyLabel],
// [ErrIPLiteral]). A server maps all of them to the jid-malformed stanza or
// stream error; the detail is for logs and tests.
//
// # Concurrency
//
// A JID is an immutable value: any goroutine may use it, copy it, or compare
// it. Every function in this package is safe to call from any goroutine,
// including event loops: none blocks, and the fast path does not allocate.
//
// # What this package must not do
//
// It imports nothing of Hermod and knows nothing of streams, stanzas or
// routing. It does not unescape XEP-0106 (JID Escaping) localparts: "\20" is
// three ordinary characters here, as RFC 7622 says.
package jid
