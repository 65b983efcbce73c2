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
//
// # Choices the next reader may question
//
//   - A Conn carries a list of channel bindings, not one: a TLS connection usually has both
//     tls-exporter and tls-server-end-point, and the client picks with p=<type>.
//     tls-unique is not offered (it is unsafe with TLS 1.2 without EMS and undefined for
//     TLS 1.3). tls-server-end-point is computed from the served certificate
//     (EndPointBinding), because a server's tls.ConnectionState does not hold its own
//     certificate; compute it once per certificate.
//   - SCRAM channel-binding errors use RFC 5802's server-error values as Failure.Text:
//     a p= type the connection lacks or a downgrade ('y' while -PLUS was offered) is
//     not-authorized, a flag that contradicts the mechanism is malformed-request.
//   - An authzid is accepted only when it names the authenticating user (as a username or
//     as user@domain for this stream); there is no proxy authorisation.
//   - Hi (PBKDF2) is a short loop of its own rather than crypto/pbkdf2 so that it can stop
//     when ctx ends; a test pins it to crypto/pbkdf2 and the benchmarks compare the two.
//   - PLAIN against stored SCRAM keys derives SaltedPassword with the stored salt and
//     count (milliseconds per login, see the benchmarks); a PasswordChecker, when present,
//     is preferred.
package sasl
