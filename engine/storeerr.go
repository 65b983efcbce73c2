package engine

import (
	"errors"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/stanza"
)

// StorageFailure is the stanza error that answers a request whose storage call
// failed with err. A backend that cannot be reached (backends.ErrUnavailable: MySQL
// or Redis down, reconnecting) gives internal-server-error of type wait, which tells
// the client the failure is temporary and the request may be retried (RFC 6120
// 8.3.2); anything else is internal-server-error of type cancel. The error's text
// never leaks err itself: modules log it. Safe from any goroutine.
func StorageFailure(err error) stanza.StanzaError {
	if errors.Is(err, backends.ErrUnavailable) {
		return stanza.StanzaError{
			Type:      stanza.TypeWait,
			Condition: stanza.InternalServerError,
			Text:      "storage temporarily unavailable; retry later",
		}
	}
	return stanza.StanzaError{Condition: stanza.InternalServerError}
}
