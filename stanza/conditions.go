package stanza

// The defined conditions of RFC 6120: stream errors (section 4.9.3) and stanza errors
// (section 8.3.3), their names on the wire, and each stanza condition's default error
// type. Hermod maps protocol conditions to XML here and nowhere else.

// Namespaces of the error elements.
const (
	NSStreams      = "http://etherx.jabber.org/streams"
	NSStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
	NSStanzaErrors = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// StreamCondition is a defined stream error condition (RFC 6120 section 4.9.3). The
// zero value is not a condition; it and any unknown value serialise as
// undefined-condition.
type StreamCondition uint8

// The stream error conditions, in the order of RFC 6120 section 4.9.3.
const (
	StreamBadFormat              StreamCondition = iota + 1 // 4.9.3.1 bad-format
	StreamBadNamespacePrefix                                // 4.9.3.2 bad-namespace-prefix
	StreamConflict                                          // 4.9.3.3 conflict
	StreamConnectionTimeout                                 // 4.9.3.4 connection-timeout
	StreamHostGone                                          // 4.9.3.5 host-gone
	StreamHostUnknown                                       // 4.9.3.6 host-unknown
	StreamImproperAddressing                                // 4.9.3.7 improper-addressing
	StreamInternalServerError                               // 4.9.3.8 internal-server-error
	StreamInvalidFrom                                       // 4.9.3.9 invalid-from
	StreamInvalidNamespace                                  // 4.9.3.10 invalid-namespace
	StreamInvalidXML                                        // 4.9.3.11 invalid-xml
	StreamNotAuthorized                                     // 4.9.3.12 not-authorized
	StreamNotWellFormed                                     // 4.9.3.13 not-well-formed
	StreamPolicyViolation                                   // 4.9.3.14 policy-violation
	StreamRemoteConnectionFailed                            // 4.9.3.15 remote-connection-failed
	StreamReset                                             // 4.9.3.16 reset
	StreamResourceConstraint                                // 4.9.3.17 resource-constraint
	StreamRestrictedXML                                     // 4.9.3.18 restricted-xml
	StreamSeeOtherHost                                      // 4.9.3.19 see-other-host; StreamError.Host says where
	StreamSystemShutdown                                    // 4.9.3.20 system-shutdown
	StreamUndefinedCondition                                // 4.9.3.21 undefined-condition
	StreamUnsupportedEncoding                               // 4.9.3.22 unsupported-encoding
	StreamUnsupportedFeature                                // 4.9.3.23 unsupported-feature
	StreamUnsupportedStanzaType                             // 4.9.3.24 unsupported-stanza-type
	StreamUnsupportedVersion                                // 4.9.3.25 unsupported-version
	numStreamConditions
)

var streamConditionNames = [numStreamConditions]string{
	StreamBadFormat:              "bad-format",
	StreamBadNamespacePrefix:     "bad-namespace-prefix",
	StreamConflict:               "conflict",
	StreamConnectionTimeout:      "connection-timeout",
	StreamHostGone:               "host-gone",
	StreamHostUnknown:            "host-unknown",
	StreamImproperAddressing:     "improper-addressing",
	StreamInternalServerError:    "internal-server-error",
	StreamInvalidFrom:            "invalid-from",
	StreamInvalidNamespace:       "invalid-namespace",
	StreamInvalidXML:             "invalid-xml",
	StreamNotAuthorized:          "not-authorized",
	StreamNotWellFormed:          "not-well-formed",
	StreamPolicyViolation:        "policy-violation",
	StreamRemoteConnectionFailed: "remote-connection-failed",
	StreamReset:                  "reset",
	StreamResourceConstraint:     "resource-constraint",
	StreamRestrictedXML:          "restricted-xml",
	StreamSeeOtherHost:           "see-other-host",
	StreamSystemShutdown:         "system-shutdown",
	StreamUndefinedCondition:     "undefined-condition",
	StreamUnsupportedEncoding:    "unsupported-encoding",
	StreamUnsupportedFeature:     "unsupported-feature",
	StreamUnsupportedStanzaType:  "unsupported-stanza-type",
	StreamUnsupportedVersion:     "unsupported-version",
}

// String returns the condition's element name, e.g. "not-well-formed";
// "undefined-condition" for the zero or an unknown value.
func (c StreamCondition) String() string {
	if c == 0 || c >= numStreamConditions {
		return "undefined-condition"
	}
	return streamConditionNames[c]
}

// Valid reports whether c is one of the defined conditions.
func (c StreamCondition) Valid() bool { return c > 0 && c < numStreamConditions }

// ParseStreamCondition returns the condition whose element name is name, and false
// when there is none. It does not allocate.
func ParseStreamCondition[S ~string | ~[]byte](name S) (StreamCondition, bool) {
	for c := StreamCondition(1); c < numStreamConditions; c++ {
		if streamConditionNames[c] == string(name) {
			return c, true
		}
	}
	return 0, false
}

// StanzaCondition is a defined stanza error condition (RFC 6120 section 8.3.3). The
// zero value is not a condition; it and any unknown value serialise as
// undefined-condition.
type StanzaCondition uint8

// The stanza error conditions, in the order of RFC 6120 section 8.3.3, each with the
// error type the RFC says it SHOULD have (DefaultType).
const (
	BadRequest            StanzaCondition = iota + 1 // 8.3.3.1 bad-request, modify
	Conflict                                         // 8.3.3.2 conflict, cancel
	FeatureNotImplemented                            // 8.3.3.3 feature-not-implemented, cancel
	Forbidden                                        // 8.3.3.4 forbidden, auth
	Gone                                             // 8.3.3.5 gone, cancel; StanzaError.URI is the new address
	InternalServerError                              // 8.3.3.6 internal-server-error, cancel
	ItemNotFound                                     // 8.3.3.7 item-not-found, cancel
	JIDMalformed                                     // 8.3.3.8 jid-malformed, modify
	NotAcceptable                                    // 8.3.3.9 not-acceptable, modify
	NotAllowed                                       // 8.3.3.10 not-allowed, cancel
	NotAuthorized                                    // 8.3.3.11 not-authorized, auth
	PolicyViolation                                  // 8.3.3.12 policy-violation, modify
	RecipientUnavailable                             // 8.3.3.13 recipient-unavailable, wait
	Redirect                                         // 8.3.3.14 redirect, modify; StanzaError.URI is the target
	RegistrationRequired                             // 8.3.3.15 registration-required, auth
	RemoteServerNotFound                             // 8.3.3.16 remote-server-not-found, cancel
	RemoteServerTimeout                              // 8.3.3.17 remote-server-timeout, wait
	ResourceConstraint                               // 8.3.3.18 resource-constraint, wait
	ServiceUnavailable                               // 8.3.3.19 service-unavailable, cancel
	SubscriptionRequired                             // 8.3.3.20 subscription-required, auth
	UndefinedCondition                               // 8.3.3.21 undefined-condition, any type (cancel here)
	UnexpectedRequest                                // 8.3.3.22 unexpected-request, wait
	numStanzaConditions
)

var stanzaConditionNames = [numStanzaConditions]string{
	BadRequest:            "bad-request",
	Conflict:              "conflict",
	FeatureNotImplemented: "feature-not-implemented",
	Forbidden:             "forbidden",
	Gone:                  "gone",
	InternalServerError:   "internal-server-error",
	ItemNotFound:          "item-not-found",
	JIDMalformed:          "jid-malformed",
	NotAcceptable:         "not-acceptable",
	NotAllowed:            "not-allowed",
	NotAuthorized:         "not-authorized",
	PolicyViolation:       "policy-violation",
	RecipientUnavailable:  "recipient-unavailable",
	Redirect:              "redirect",
	RegistrationRequired:  "registration-required",
	RemoteServerNotFound:  "remote-server-not-found",
	RemoteServerTimeout:   "remote-server-timeout",
	ResourceConstraint:    "resource-constraint",
	ServiceUnavailable:    "service-unavailable",
	SubscriptionRequired:  "subscription-required",
	UndefinedCondition:    "undefined-condition",
	UnexpectedRequest:     "unexpected-request",
}

// stanzaDefaultTypes are the types RFC 6120 section 8.3.3 says each condition SHOULD
// have. Where it offers two ("cancel" or "modify" for feature-not-implemented,
// "modify" or "wait" for policy-violation, "wait" or "modify" for unexpected-request)
// the first is taken; undefined-condition allows any and gets cancel.
var stanzaDefaultTypes = [numStanzaConditions]ErrorType{
	BadRequest:            TypeModify,
	Conflict:              TypeCancel,
	FeatureNotImplemented: TypeCancel,
	Forbidden:             TypeAuth,
	Gone:                  TypeCancel,
	InternalServerError:   TypeCancel,
	ItemNotFound:          TypeCancel,
	JIDMalformed:          TypeModify,
	NotAcceptable:         TypeModify,
	NotAllowed:            TypeCancel,
	NotAuthorized:         TypeAuth,
	PolicyViolation:       TypeModify,
	RecipientUnavailable:  TypeWait,
	Redirect:              TypeModify,
	RegistrationRequired:  TypeAuth,
	RemoteServerNotFound:  TypeCancel,
	RemoteServerTimeout:   TypeWait,
	ResourceConstraint:    TypeWait,
	ServiceUnavailable:    TypeCancel,
	SubscriptionRequired:  TypeAuth,
	UndefinedCondition:    TypeCancel,
	UnexpectedRequest:     TypeWait,
}

// String returns the condition's element name, e.g. "item-not-found";
// "undefined-condition" for the zero or an unknown value.
func (c StanzaCondition) String() string {
	if c == 0 || c >= numStanzaConditions {
		return "undefined-condition"
	}
	return stanzaConditionNames[c]
}

// Valid reports whether c is one of the defined conditions.
func (c StanzaCondition) Valid() bool { return c > 0 && c < numStanzaConditions }

// DefaultType returns the error type RFC 6120 section 8.3.3 associates with c (see
// the constants); cancel for the zero or an unknown value.
func (c StanzaCondition) DefaultType() ErrorType {
	if c == 0 || c >= numStanzaConditions {
		return TypeCancel
	}
	return stanzaDefaultTypes[c]
}

// ParseStanzaCondition returns the condition whose element name is name, and false
// when there is none. It does not allocate.
func ParseStanzaCondition[S ~string | ~[]byte](name S) (StanzaCondition, bool) {
	for c := StanzaCondition(1); c < numStanzaConditions; c++ {
		if stanzaConditionNames[c] == string(name) {
			return c, true
		}
	}
	return 0, false
}

// ErrorType is the type attribute of a stanza <error/> (RFC 6120 section 8.3.2). The
// zero value means "the condition's default type" (StanzaCondition.DefaultType).
type ErrorType uint8

// The error types of RFC 6120 section 8.3.2.
const (
	TypeAuth     ErrorType = iota + 1 // retry after providing credentials
	TypeCancel                        // do not retry (the error cannot be remedied)
	TypeContinue                      // proceed (the condition was only a warning)
	TypeModify                        // retry after changing the data sent
	TypeWait                          // retry after waiting (the error is temporary)
	numErrorTypes
)

var errorTypeNames = [numErrorTypes]string{
	TypeAuth:     "auth",
	TypeCancel:   "cancel",
	TypeContinue: "continue",
	TypeModify:   "modify",
	TypeWait:     "wait",
}

// String returns the attribute value, e.g. "cancel"; "" for the zero or an unknown
// value.
func (t ErrorType) String() string {
	if t >= numErrorTypes {
		return ""
	}
	return errorTypeNames[t]
}

// ParseErrorType returns the type whose attribute value is s, and false when there is
// none. It does not allocate.
func ParseErrorType[S ~string | ~[]byte](s S) (ErrorType, bool) {
	for t := ErrorType(1); t < numErrorTypes; t++ {
		if errorTypeNames[t] == string(s) {
			return t, true
		}
	}
	return 0, false
}
