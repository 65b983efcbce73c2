// Package authmethods implements the authentication methods a host can be configured
// with ([auth] methods): internal (SCRAM keys in Hermod's own store), mysql (an existing
// users table), http (a web service in the manner of MongooseIM's http method), jwt (a
// signed token as the password), external (ejabberd's extauth program protocol) and
// anonymous (SASL ANONYMOUS with throw-away localparts).
//
// # What it does
//
// Each method checks a plaintext password (sasl.PasswordChecker) and, where its
// protocol can tell, whether a user exists. A Chain tries the configured methods in
// order and the first that accepts the password wins, as in MongooseIM. New builds a
// host's Set from its [auth] configuration: the Chain, the KeyStore that makes SCRAM
// possible (only when internal is listed) and the Anonymous namer.
//
// # Failure behaviour
//
// A method that cannot answer (timeout, connection refused, a 5xx, a program that died
// or answered garbage) returns an error, never a panic or a hang: each call is bounded
// by the method's timeout. The chain goes on to the next method; if none accepts and
// any failed, the login fails with temporary-auth-failure, because the password might
// have been right.
//
// # What it must not do
//
// It knows nothing of streams, XML or the engine; it never logs passwords or tokens.
// Its methods are called on engine worker goroutines and may block, never on an event
// loop.
package authmethods
