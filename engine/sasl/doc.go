// Package sasl is Hermod's server side of SASL (RFC 6120 section 6, RFC 4422): the
// PLAIN, SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512 mechanisms, their -PLUS variants
// with tls-exporter and tls-server-end-point channel binding, and ANONYMOUS.
//
// # What it does
//
// An Authenticator holds the policy and the credential sources (a PasswordChecker, a
// KeyStore, or both) for a whole server. For each stream the engine describes what it
// knows in a Conn (TLS or not, channel-binding data, domain) and asks the Authenticator
// which mechanisms to advertise (Mechanisms, BindingTypes, AppendFeatures). When the
// client picks one, NewServer returns a Server for that single exchange, and the engine
// feeds it the decoded payloads of <auth/> and <response/> with Step until it reports
// done. Every failure is a *Failure carrying one of RFC 6120's conditions.
//
// # What it must not do
//
// It does no I/O, starts no goroutines and imports nothing of Hermod. It does not decode
// the base64 of the XMPP framing (the engine does, and reports incorrect-encoding), and
// it knows nothing of XML beyond the two stream features it can append. Steps may block
// on backends and on PBKDF2, so they run on the engine's worker pool, never on an event
// loop; they honour their context.
//
// # Security properties
//
// SCRAM never reveals whether an account exists: an unknown user gets a salt derived
// from Options.Secret and the username, the exchange runs to the end and fails with
// not-authorized exactly like a wrong password. PLAIN against stored SCRAM keys spends
// the same PBKDF2 work for unknown users. A client sending the GS2 flag 'y' on a
// connection where -PLUS was advertised is failed (downgrade protection). Usernames are
// prepared with PRECIS UsernameCaseMapped and passwords with OpaqueString.
package sasl
