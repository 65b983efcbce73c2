package backends

import (
	"context"
	"fmt"
)

// Limits of private XML storage, enforced by every store.
const (
	// MaxPrivateNamespaceLen is the longest namespace in bytes.
	MaxPrivateNamespaceLen = 1023
	// MaxPrivateXMLLen is the largest stored fragment of one namespace in bytes.
	// Servers set a lower limit of their own; see MaxVCardLen.
	MaxPrivateXMLLen = 8 << 20
)

// PrivateItem is the data one account keeps under one namespace (XEP-0049).
type PrivateItem struct {
	// Namespace is the namespace of the stored elements: the key. Non-empty, at most
	// MaxPrivateNamespaceLen bytes.
	Namespace string
	// XML is the stored fragment, verbatim: one or more serialised elements qualified
	// by Namespace. Stores treat it as opaque bytes. Non-empty, at most
	// MaxPrivateXMLLen bytes.
	XML []byte
}

// Validate checks the item against the limits above. The error wraps ErrInvalid.
func (it *PrivateItem) Validate() error {
	switch {
	case it.Namespace == "" || len(it.Namespace) > MaxPrivateNamespaceLen:
		return fmt.Errorf("private namespace of %d bytes, want 1 to %d: %w", len(it.Namespace), MaxPrivateNamespaceLen, ErrInvalid)
	case len(it.XML) == 0 || len(it.XML) > MaxPrivateXMLLen:
		return fmt.Errorf("private XML of %d bytes for %q, want 1 to %d: %w", len(it.XML), it.Namespace, MaxPrivateXMLLen, ErrInvalid)
	}
	return nil
}

// PrivateXML is the storage of private XML (XEP-0049): per account, one fragment per
// namespace.
//
// The calling rules of Accounts apply: every method may block, none may be called on an
// event loop, all are safe for concurrent use, writes are durable when they return nil.
// Bytes returned share no memory with the store.
type PrivateXML interface {
	// PrivateXML returns the fragment the account keeps under namespace, or an error
	// wrapping ErrNotFound.
	PrivateXML(ctx context.Context, domain, user, namespace string) ([]byte, error)

	// SetPrivateXML stores items (one set may carry several namespaces), each replacing
	// what the account kept under its namespace, all or none. When items names a
	// namespace twice the last one wins. An invalid item fails the whole call with
	// ErrInvalid.
	SetPrivateXML(ctx context.Context, domain, user string, items []PrivateItem) error

	// DeletePrivateXML removes everything the account keeps (the account was removed).
	// Deleting nothing is not an error.
	DeletePrivateXML(ctx context.Context, domain, user string) error
}
