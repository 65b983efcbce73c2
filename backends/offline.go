package backends

import (
	"context"
	"fmt"
	"time"
)

// OfflineMessage is a message kept for an account that had no available resource when
// it arrived (XEP-0160), until the account's next available presence takes it.
type OfflineMessage struct {
	// Domain and User name the recipient account, as for Accounts. The store does not
	// check that the account exists: the caller does, before storing.
	Domain, User string
	// Seq orders the messages of one account. The store assigns it when it appends a
	// message (AppendOffline ignores the value given); it is at least 1 and grows with
	// every message appended to the account, so oldest first is ascending Seq. A Seq is
	// never given twice to one account, except after DeleteOffline with
	// math.MaxUint64, which forgets the account entirely.
	Seq uint64
	// Stamp is when the server stored the message; a zero Stamp given to AppendOffline
	// is replaced by the store's current time. Stores keep milliseconds (a finer time
	// is truncated); the location of the returned time is unspecified (compare with
	// Equal).
	Stamp time.Time
	// Raw is the stanza exactly as it is to be delivered ('from' stamped, the XEP-0203
	// delay added): the store treats it as opaque bytes. Non-empty.
	Raw []byte
}

// Validate checks the recipient's key and that Raw is not empty. The error wraps
// ErrInvalid.
func (m *OfflineMessage) Validate() error {
	if err := ValidateKey(m.Domain, m.User); err != nil {
		return err
	}
	if len(m.Raw) == 0 {
		return fmt.Errorf("offline message for %s@%s without a stanza: %w", m.User, m.Domain, ErrInvalid)
	}
	return nil
}

// Offline is the storage of offline messages (XEP-0160).
//
// Writes are the high-volume side: every message to an unavailable user is one. So
// AppendOffline takes a batch, which a store applies as one durable transaction (the
// embedded store's commit, one multi-row INSERT for SQL), and callers are expected to
// gather the messages that arrive together into one call. Reads happen once per login
// that finds messages waiting.
//
// The calling rules of Accounts apply: every method may block, none may be called on an
// event loop, all are safe for concurrent use, writes are durable when they return nil.
// Messages returned share no memory with the store.
type Offline interface {
	// AppendOffline stores msgs, in order, in one durable batch, and returns the Seq
	// given to each: seqs[i] belongs to msgs[i]. A message whose account already holds
	// limit messages (counting those stored earlier in the same batch) is not stored and
	// gets 0, the "queue full" answer; limit <= 0 means no limit. An invalid message
	// fails the whole call with ErrInvalid and nothing is written.
	AppendOffline(ctx context.Context, msgs []OfflineMessage, limit int) (seqs []uint64, err error)

	// OfflineMessages returns at most max of the account's messages, oldest first. An
	// account without messages gives an empty list. max must be positive.
	OfflineMessages(ctx context.Context, domain, user string, max int) ([]OfflineMessage, error)

	// DeleteOffline removes the account's messages whose Seq is at most through (the
	// ones a delivery handed over) and returns how many it removed. Pass
	// math.MaxUint64 to remove them all (the account was removed). Removing nothing is
	// not an error.
	DeleteOffline(ctx context.Context, domain, user string, through uint64) (int, error)

	// CountOffline returns how many messages the account holds.
	CountOffline(ctx context.Context, domain, user string) (int, error)
}
