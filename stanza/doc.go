// Package stanza gives the router what it needs from XMPP stanzas without building
// trees: views over a stanza's raw bytes, byte-level rewriting of its addresses,
// replies and errors built by appending to a buffer, and, only for the modules that
// must inspect a payload, an element tree.
//
// # Views and rewriting
//
// ParseHeader reads a stanza's start tag into a Header: its name, Kind, and the raw
// values and positions of to, from, type, id and xml:lang. AppendRewrite copies the
// stanza with from (and to) replaced or inserted, everything else byte for byte; this
// is how the server stamps the sender's full JID. Neither allocates.
//
// # Errors
//
// StreamError and StanzaError hold every condition of RFC 6120 sections 4.9.3 and
// 8.3.3 and serialise them with the right namespaces. AppendErrorReply answers a
// stanza with an error (RFC 6120 section 8.3.1); ParseStanzaError and
// ParseStreamError read the errors peers send. This is the one place in Hermod where
// protocol conditions and XML meet.
//
// # Writing XML
//
// Builder writes the stanzas the server generates, and EscapeText and EscapeAttr
// escape strings for the two XML contexts. Whatever a user controls reaches the wire
// only through them.
//
// # Element trees
//
// Parse builds an Element tree from a stanza for the modules that must look inside
// it; the tree owns a copy of the bytes and Release returns it to a pool, so parsing
// does not allocate at steady state. NewElement and its companions build trees the
// server composes; AppendXML writes any tree or subtree with the namespace
// declarations it needs.
//
// # What this package must not do
//
// It must not import engine or backends, must not keep package-level mutable state
// beyond the two sync.Pools behind element trees, and must not hold on to the
// caller's bytes: Header views alias the caller's buffer and live only as long as it
// does, while trees copy.
//
// # Goroutines
//
// Nothing here is tied to a goroutine: every function may be called from any
// goroutine, and a value (Header, Builder, Element) belongs to whoever holds it and
// must not be used from two goroutines at once.
package stanza
