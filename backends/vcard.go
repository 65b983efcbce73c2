package backends

import (
	"context"
	"fmt"
)

// MaxVCardLen is the largest vCard in bytes a store accepts. Servers set a lower limit
// of their own (the vCard module's default is 64 KiB); this one only keeps every store
// able to hold whatever another accepted (a MEDIUMBLOB column holds 16 MiB).
const MaxVCardLen = 8 << 20

// ValidateVCard checks an account key and a vCard to store: non-empty and at most
// MaxVCardLen bytes. The error wraps ErrInvalid.
func ValidateVCard(domain, user string, vcard []byte) error {
	if err := ValidateKey(domain, user); err != nil {
		return err
	}
	if len(vcard) == 0 || len(vcard) > MaxVCardLen {
		return fmt.Errorf("vCard of %d bytes, want 1 to %d: %w", len(vcard), MaxVCardLen, ErrInvalid)
	}
	return nil
}

// VCards is the storage of vCards (XEP-0054): one per account, kept verbatim as the
// serialised <vCard xmlns='vcard-temp'/> element. Stores treat it as opaque bytes.
//
// The calling rules of Accounts apply: every method may block, none may be called on an
// event loop, all are safe for concurrent use, writes are durable when they return nil.
// Bytes returned share no memory with the store.
type VCards interface {
	// VCard returns the account's vCard, or an error wrapping ErrNotFound when it has
	// none.
	VCard(ctx context.Context, domain, user string) ([]byte, error)

	// SetVCard stores vcard as the account's vCard, replacing the previous one. An
	// empty or over-long vCard fails with ErrInvalid.
	SetVCard(ctx context.Context, domain, user string, vcard []byte) error

	// DeleteVCard removes the account's vCard (the account was removed). Deleting an
	// absent vCard is not an error.
	DeleteVCard(ctx context.Context, domain, user string) error
}
