package sasl

import (
	"context"
	"unicode/utf8"
)

// anonymousServer runs ANONYMOUS (RFC 4505): one optional trace message, always accepted
// when well-formed. Whether ANONYMOUS is allowed at all is decided before it is created.
type anonymousServer struct {
	started bool
	done    bool
}

// maxTrace is RFC 4505's limit on the trace, in characters.
const maxTrace = 255

// Blocks implements Server: ANONYMOUS looks nothing up.
func (s *anonymousServer) Blocks([]byte) bool { return false }

// Mechanism implements Server.
func (s *anonymousServer) Mechanism() Mechanism { return Anonymous }

// Username implements Server; an anonymous exchange has no username.
func (s *anonymousServer) Username() string { return "" }

// Step implements Server.
func (s *anonymousServer) Step(ctx context.Context, in []byte) ([]byte, bool, error) {
	if s.done {
		return nil, true, fail(MalformedRequest, "exchange already finished")
	}
	if in == nil && !s.started {
		s.started = true
		return []byte{}, false, nil
	}
	s.done = true
	if f := ctxFailure(ctx); f != nil {
		return nil, true, f
	}
	if !validTrace(in) {
		return nil, true, fail(MalformedRequest, "ANONYMOUS trace must be at most 255 UTF-8 characters without controls")
	}
	return nil, true, nil
}

// validTrace checks RFC 4505's message: up to 255 UTF-8 characters, none of them a
// control character (its TCHAR excludes %x00-1F and %x7F).
func validTrace(b []byte) bool {
	if !utf8.Valid(b) || utf8.RuneCount(b) > maxTrace {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
