package backends

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// LastLogoutEntry is one account's record in a batch of last logouts.
type LastLogoutEntry struct {
	// Domain and User name the account, as in the methods of LastActivity.
	Domain, User string
	// Last is the record to store.
	Last LastLogout
}

// LastLogoutBatcher is implemented by stores that can record many last logouts in one
// durable write (the embedded store: one transaction and one commit). mod_last gathers
// logouts for a short while and hands them over together; SetLastLogouts below falls
// back to one SetLastLogout per entry for a store without it.
//
// The calling rules of LastActivity apply.
type LastLogoutBatcher interface {
	// SetLastLogouts replaces the records of entries as SetLastLogout called for each
	// in order would (a later entry for an account wins). Either every entry is
	// written or none is; an invalid entry fails the whole call with ErrInvalid.
	SetLastLogouts(ctx context.Context, entries []LastLogoutEntry) error
}

// SetLastLogouts records entries in st: in one call when st is a LastLogoutBatcher
// (unless that call fails with errors.ErrUnsupported), otherwise with SetLastLogout
// for each account's last entry, 16 at a time (a pipelined store such as MySQL groups
// concurrent calls into one transaction). Every entry is validated before anything is written, so
// an invalid entry writes nothing. Without a batcher the writes are not atomic: on
// another error some entries may have been written, and the error is the first met.
func SetLastLogouts(ctx context.Context, st LastActivity, entries []LastLogoutEntry) error {
	for _, e := range entries {
		if err := ValidateLastLogout(e.Domain, e.User, e.Last); err != nil {
			return fmt.Errorf("set last logouts: %s@%s: %w", e.User, e.Domain, err)
		}
	}
	if b, ok := st.(LastLogoutBatcher); ok {
		// A composite store forwards the batch, or says its engine cannot take one.
		if err := b.SetLastLogouts(ctx, entries); !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	// Only an account's last entry counts; the writes are then independent.
	last := make(map[[2]string]int, len(entries))
	for i, e := range entries {
		last[[2]string{e.Domain, e.User}] = i
	}
	const writers = 16
	slots := make(chan struct{}, writers)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i, e := range entries {
		if last[[2]string{e.Domain, e.User}] != i {
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := st.SetLastLogout(ctx, e.Domain, e.User, e.Last); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
