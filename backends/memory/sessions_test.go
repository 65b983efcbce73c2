package memory

import (
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/backendtest"
)

func TestSessionsConformance(t *testing.T) {
	backendtest.RunSessions(t, func(_ *testing.T, ttl time.Duration) backends.Sessions { return NewSessions(ttl) })
}
