package backends

import (
	"context"
	"fmt"
	"time"
)

// MaxStatusLen is the longest stored status text in bytes.
const MaxStatusLen = 4096

// LastLogout is what the server remembers of an account's last session (XEP-0012): when
// it ended and the status text of its last unavailable presence.
type LastLogout struct {
	// At is when the session ended. Stores keep whole seconds; the location of the
	// returned time is unspecified (compare with Equal).
	At time.Time
	// Status is the <status/> text of the unavailable presence the user sent last, ""
	// when none. At most MaxStatusLen bytes.
	Status string
}

// ValidateLastLogout checks an account key and a record. The error wraps ErrInvalid.
func ValidateLastLogout(domain, user string, l LastLogout) error {
	if err := ValidateKey(domain, user); err != nil {
		return err
	}
	if len(l.Status) > MaxStatusLen {
		return fmt.Errorf("status of %d bytes exceeds %d: %w", len(l.Status), MaxStatusLen, ErrInvalid)
	}
	return nil
}

// LastActivity is the storage of last logouts (XEP-0012), one record per account,
// written at the end of every session.
//
// The calling rules of Accounts apply: every method may block, none may be called on an
// event loop, all are safe for concurrent use, writes are durable when they return nil.
type LastActivity interface {
	// LastLogout returns the account's record, or an error wrapping ErrNotFound when
	// the account never logged out.
	LastLogout(ctx context.Context, domain, user string) (LastLogout, error)

	// SetLastLogout replaces the account's record. A status over MaxStatusLen fails
	// with ErrInvalid.
	SetLastLogout(ctx context.Context, domain, user string, l LastLogout) error

	// DeleteLastLogout removes the account's record (the account was removed).
	// Deleting an absent record is not an error.
	DeleteLastLogout(ctx context.Context, domain, user string) error
}
