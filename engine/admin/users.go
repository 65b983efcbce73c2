// Package admin is Hermod's administration HTTP listener: Prometheus metrics on
// /metrics, the runtime profiler on /debug/pprof/, a liveness probe on /healthz, and
// a small JSON API for managing accounts on a running server (/api/users), which the
// `hermod user --admin ADDR` commands call through Client.
//
// It declares the Users interface it serves and knows nothing of the store behind it
// (engine/admin/accounts implements Users over a backends.Accounts). It uses net/http,
// which is right for a low-traffic listener; the XMPP listeners never go through it.
// It registers nothing on http.DefaultServeMux and binds only the address it is given.
//
// The API has no authentication of its own: bind it to loopback or a private network
// (the default is 127.0.0.1:8088).
//
// # API
//
//	POST   /api/users                {"jid": "alice@example.com", "password": "..."}  201, 409 if it exists
//	DELETE /api/users/{jid}                                                         204, 404
//	PUT    /api/users/{jid}/password {"password": "..."}                             204, 404
//	GET    /api/users?domain=example.com&after=alice&limit=100                      200 {"domain", "users", "next"}
//	POST   /api/users/import         CSV body (see engine/admin/accounts)           200 {"imported": n}
//
// Errors are {"error": "..."} with 400 for bad input, 404, 409, 503 when no user
// service is configured and 500 otherwise; a rejected import adds "rows": [{"line",
// "error"}].
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Users is what the admin API needs from account management. Implementations must
// be safe for concurrent use; the admin server calls them from its request
// goroutines, never from an event loop. Errors wrap ErrInvalid, ErrNotFound or
// ErrExists where those apply, so that the HTTP status is right.
type Users interface {
	// AddUser creates the account jid (a bare JID, normalised by the implementation)
	// with keys derived from password. ErrExists if it is already there.
	AddUser(ctx context.Context, jid, password string) error
	// DeleteUser removes the account. ErrNotFound if it is absent.
	DeleteUser(ctx context.Context, jid string) error
	// SetPassword replaces the account's keys. ErrNotFound if it is absent.
	SetPassword(ctx context.Context, jid, password string) error
	// ListUsers returns up to limit localparts of domain's accounts in byte order,
	// strictly after the localpart after ("" from the start).
	ListUsers(ctx context.Context, domain, after string, limit int) ([]string, error)
	// ImportUsers creates or overwrites the accounts listed in a CSV document. An
	// invalid document imports nothing and returns *ImportError.
	ImportUsers(ctx context.Context, csv io.Reader) (ImportResult, error)
}

// Error classes shared by Users implementations, the HTTP server and Client.
var (
	ErrInvalid     = errors.New("invalid request")
	ErrNotFound    = errors.New("no such account")
	ErrExists      = errors.New("account already exists")
	ErrUnavailable = errors.New("service unavailable")
)

// ImportResult reports a successful import.
type ImportResult struct {
	// Imported is the number of accounts written (created or overwritten).
	Imported int `json:"imported"`
}

// RowError is one rejected line of an import.
type RowError struct {
	Line int    `json:"line"`
	Msg  string `json:"error"`
}

// ImportError rejects a whole import: nothing was written. Rows holds the first
// problems found (at most MaxRowErrors), each with its line in the CSV document.
type ImportError struct {
	Rows []RowError
	// More counts problems found beyond Rows.
	More int
}

// MaxRowErrors bounds the rows an ImportError reports.
const MaxRowErrors = 100

// Error lists the rejected lines.
func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import rejected, nothing written: %d bad row(s)", len(e.Rows)+e.More)
	for _, r := range e.Rows {
		fmt.Fprintf(&b, "\n  line %d: %s", r.Line, r.Msg)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.More)
	}
	return b.String()
}

// RowErrors collects the first MaxRowErrors problems of an imported document.
type RowErrors struct {
	rows []RowError
	more int
}

// Add records the problem of line.
func (r *RowErrors) Add(line int, format string, args ...any) {
	if len(r.rows) >= MaxRowErrors {
		r.more++
		return
	}
	r.rows = append(r.rows, RowError{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the ImportError of the problems recorded, or nil for none.
func (r *RowErrors) Err() error {
	if len(r.rows) == 0 {
		return nil
	}
	return &ImportError{Rows: r.rows, More: r.more}
}

// Unwrap classifies an import rejection as invalid input.
func (e *ImportError) Unwrap() error { return ErrInvalid }
