// Package client is the XMPP client side of the load harness: it opens c2s streams to
// any server (Hermod, ejabberd, Prosody) over plaintext or STARTTLS, WebSocket
// (RFC 7395) or BOSH (XEP-0206), authenticates with SASL PLAIN or SCRAM-SHA-256,
// binds a resource, sends presence, and then reads whole top-level stanzas and writes
// raw bytes.
//
// It is built to hold tens of thousands of connections in one process cheaply: a
// connection is a socket, a small growable read buffer and an xmlscan.Scanner; it owns
// no goroutine (a BOSH session has one, and up to two HTTP requests). Login runs
// synchronously in the caller's goroutine with one deadline for the whole exchange. Stanzas are inspected as raw bytes (helpers Attr and Text
// cover what a load test needs); no element tree is built.
//
// It must not import the server (engine, modules): the harness measures servers over
// the wire only. It is not a general-purpose client: no stream management, no
// channel binding, no SASLprep of non-ASCII names, and certificates are not verified
// unless the caller passes a tls.Config that does.
package client
