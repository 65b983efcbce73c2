package sasl

import (
	"context"
	"errors"
	"fmt"
)

// Condition is a SASL failure condition of RFC 6120 section 6.5. The zero value is not a
// condition; every constant below maps to exactly one element name, and this file is the
// only place that mapping lives.
type Condition uint8

// The SASL failure conditions of RFC 6120 section 6.5, in the order of that section.
const (
	// Aborted: the client sent <abort/>. The engine reports it; no mechanism here does.
	Aborted Condition = iota + 1
	// AccountDisabled: the account exists but is disabled. Only a backend reports it, by
	// returning a *Failure with this condition from a PasswordChecker or KeyStore.
	AccountDisabled
	// CredentialsExpired: the credentials are valid but expired. Backend-reported.
	CredentialsExpired
	// EncryptionRequired: the mechanism may only be used over TLS (PLAIN, unless the
	// configuration allows it in the clear).
	EncryptionRequired
	// IncorrectEncoding: the base64 of an <auth/> or <response/> payload is invalid. The
	// engine decodes those payloads and reports it; mechanisms here never see base64
	// errors of the XMPP framing.
	IncorrectEncoding
	// InvalidAuthzid: the authorization identity is neither empty nor the authenticating
	// user.
	InvalidAuthzid
	// InvalidMechanism: the mechanism is unknown, disabled, or not offered on this stream
	// for a reason other than the two below.
	InvalidMechanism
	// MalformedRequest: a client message violates the mechanism's syntax.
	MalformedRequest
	// MechanismTooWeak: policy requires channel binding on this stream and the client
	// asked for a mechanism without it.
	MechanismTooWeak
	// NotAuthorized: the credentials are wrong, the user does not exist, or a SCRAM
	// verification (nonce, channel binding, proof) failed.
	NotAuthorized
	// TemporaryAuthFailure: a backend failed, the context ended, or the server could not
	// produce a nonce. The client may retry.
	TemporaryAuthFailure
)

// conditionNames holds the element names, indexed by Condition.
var conditionNames = [...]string{
	Aborted:              "aborted",
	AccountDisabled:      "account-disabled",
	CredentialsExpired:   "credentials-expired",
	EncryptionRequired:   "encryption-required",
	IncorrectEncoding:    "incorrect-encoding",
	InvalidAuthzid:       "invalid-authzid",
	InvalidMechanism:     "invalid-mechanism",
	MalformedRequest:     "malformed-request",
	MechanismTooWeak:     "mechanism-too-weak",
	NotAuthorized:        "not-authorized",
	TemporaryAuthFailure: "temporary-auth-failure",
}

// String returns the condition's element name as it appears in
// <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>, or "" for a value that is not a
// condition.
func (c Condition) String() string {
	if int(c) >= len(conditionNames) {
		return ""
	}
	return conditionNames[c]
}

// ParseCondition maps an element name back to its Condition. It does not allocate.
func ParseCondition(name []byte) (Condition, bool) {
	for c := Aborted; c <= TemporaryAuthFailure; c++ {
		if conditionNames[c] == string(name) {
			return c, true
		}
	}
	return 0, false
}

// Failure is the error every Server step returns when authentication fails. Condition and
// Text are meant for the client: Text never carries backend details and may be empty.
// Err is the internal cause (a backend or context error) for logs; it is never sent.
type Failure struct {
	Condition Condition
	Text      string
	Err       error
}

// Error returns "sasl: <condition>[: text][: cause]".
func (f *Failure) Error() string {
	s := "sasl: " + f.Condition.String()
	if f.Text != "" {
		s += ": " + f.Text
	}
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause, so errors.Is(err, context.Canceled) works.
func (f *Failure) Unwrap() error { return f.Err }

// fail builds a Failure without an internal cause.
func fail(c Condition, text string) *Failure {
	return &Failure{Condition: c, Text: text}
}

// AsFailure returns err as a *Failure: a *Failure anywhere in err's chain is returned as
// is, any other non-nil error becomes temporary-auth-failure wrapping err, and nil stays
// nil. This is the rule applied to every backend error, so a backend reports
// account-disabled or credentials-expired by returning a *Failure with that condition.
func AsFailure(err error) *Failure {
	if err == nil {
		return nil
	}
	if f, ok := errors.AsType[*Failure](err); ok {
		return f
	}
	return &Failure{Condition: TemporaryAuthFailure, Err: err}
}

// backendFailure wraps a backend error with what was being done, keeping a backend's own
// *Failure intact.
func backendFailure(op string, err error) *Failure {
	if f, ok := errors.AsType[*Failure](err); ok {
		return f
	}
	return &Failure{Condition: TemporaryAuthFailure, Err: fmt.Errorf("%s: %w", op, err)}
}

// ctxFailure turns an ended context into temporary-auth-failure: the engine gave up on the
// exchange (timeout or closed connection), which says nothing about the credentials.
func ctxFailure(ctx context.Context) *Failure {
	if err := ctx.Err(); err != nil {
		return &Failure{Condition: TemporaryAuthFailure, Err: fmt.Errorf("sasl step: %w", err)}
	}
	return nil
}
