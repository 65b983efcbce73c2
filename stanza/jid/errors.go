package jid

import "errors"

// Part names the part of an address that a parse error is about.
type Part uint8

// The parts of an address, as RFC 7622 section 3 names them.
const (
	// PartAddress is the address as a whole: used when the input is empty.
	PartAddress Part = iota
	// PartLocal is the localpart, before the '@'.
	PartLocal
	// PartDomain is the domainpart, between the '@' and the first '/'.
	PartDomain
	// PartResource is the resourcepart, after the first '/'.
	PartResource
)

// String returns the RFC 7622 name of the part.
func (p Part) String() string {
	switch p {
	case PartAddress:
		return "address"
	case PartLocal:
		return "localpart"
	case PartDomain:
		return "domainpart"
	case PartResource:
		return "resourcepart"
	}
	return "unknown part"
}

// The causes wrapped by an [*Error]. Test them with errors.Is.
var (
	// ErrEmpty: a part is empty although its separator is present
	// ("@example.com", "example.com/"), or the domainpart or the whole
	// address is empty.
	ErrEmpty = errors.New("empty")
	// ErrTooLong: a part is longer than MaxPartLen bytes after normalisation,
	// or longer than maxRawPartLen bytes before it.
	ErrTooLong = errors.New("too long")
	// ErrForbidden: the localpart holds one of the characters " & ' / : < > @
	// that RFC 7622 section 3.3.1 forbids on top of PRECIS.
	ErrForbidden = errors.New(`contains one of " & ' / : < > @`)
	// ErrDisallowed: PRECIS or IDNA2008 rejected the part (a disallowed code
	// point, the Bidi rule, a bad A-label, misplaced hyphens, invalid UTF-8).
	// The underlying PRECIS or IDNA error is wrapped too.
	ErrDisallowed = errors.New("not allowed by PRECIS or IDNA2008")
	// ErrEmptyLabel: the domainpart has an empty DNS label ("a..b", ".a",
	// "a.." after the single trailing dot RFC 7622 strips).
	ErrEmptyLabel = errors.New("empty label")
	// ErrIPLiteral: the domainpart starts with '[' but is not a bracketed
	// IPv6 address without zone.
	ErrIPLiteral = errors.New("bad IP literal")
)

// Error is the type of every error the parsing functions return. A server
// maps any of them to the jid-malformed condition (RFC 6120 sections 4.9.3.9
// and 8.3.3.8).
type Error struct {
	// Part is the part of the address that failed.
	Part Part
	// Err is the cause: one of the sentinel errors of this package, possibly
	// joined with a PRECIS or IDNA error.
	Err error
}

// Error implements error. It does not echo the input, which comes from
// untrusted peers and ends up in logs; a wrapped IDNA error may quote the
// offending label, escaped with %q.
func (e *Error) Error() string {
	return "jid: invalid " + e.Part.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

func partError(p Part, err error) error { return &Error{Part: p, Err: err} }
