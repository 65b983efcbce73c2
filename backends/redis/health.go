package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hermod-im/hermod/backends"
)

// Back-off bounds of the fail-fast gate.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// health is the fail-fast gate: after a failure to reach the server, calls fail at once
// for a back-off that doubles with each further failure, so that callers neither queue
// behind nor pile dials on a dead server. Safe for concurrent use.
type health struct {
	mu      sync.Mutex
	until   time.Time     // calls before this fail without trying
	backoff time.Duration // the last back-off; 0 while the server answers
	last    error         // the failure that closed the gate
}

// admit returns nil when a call may go to the server, or an error wrapping
// ErrUnavailable while the gate is closed.
func (h *health) admit(op string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.backoff == 0 || !time.Now().Before(h.until) {
		return nil
	}
	return fmt.Errorf("redis: %s: %w (retrying in %v after: %v)", op, backends.ErrUnavailable,
		time.Until(h.until).Round(time.Millisecond), h.last)
}

// record notes the outcome of a round trip: err is what go-redis returned for it (nil,
// or an error already classified unavailable or not).
func (h *health) record(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil || !errors.Is(err, backends.ErrUnavailable) {
		h.backoff = 0
		return
	}
	h.backoff = min(max(2*h.backoff, minBackoff), maxBackoff)
	h.until = time.Now().Add(h.backoff)
	h.last = err
}

// unavailableReplies are the server's answers that mean "not now" rather than "wrong".
var unavailableReplies = []string{"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"}

// classify wraps an error of go-redis for a call made with ctx: the caller's own
// cancellation as is, a closed client as ErrClosed, an answer from the server as a
// plain error (unless it means the server cannot serve now), and anything else
// (network, timeouts) as ErrUnavailable.
func classify(ctx context.Context, op string, err error) error {
	var reply goredis.Error
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("redis: %s: %w", op, ctx.Err())
	case errors.Is(err, goredis.ErrClosed):
		return fmt.Errorf("redis: %s: %w", op, backends.ErrClosed)
	case errors.As(err, &reply):
		for _, p := range unavailableReplies {
			if strings.HasPrefix(reply.Error(), p) {
				return fmt.Errorf("redis: %s: %w: %w", op, backends.ErrUnavailable, err)
			}
		}
		return fmt.Errorf("redis: %s: %w", op, err)
	default:
		return fmt.Errorf("redis: %s: %w: %w", op, backends.ErrUnavailable, err)
	}
}
