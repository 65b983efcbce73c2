package authmethods

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/config"
)

// quietLog discards what the methods log.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func dur(d time.Duration) config.Duration { return config.Dur(d) }

// passwordCase is one password check and its expected answer.
type passwordCase struct {
	user, pass string
	want       bool
}

// checkMethod runs the password checks and the existence checks on m: each must
// answer as expected, without an error.
func checkMethod(t *testing.T, m Method, cases []passwordCase, exists map[string]bool) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range cases {
		if got, err := m.CheckPassword(ctx, tc.user, tc.pass); err != nil || got != tc.want {
			t.Errorf("%s: CheckPassword(%s, %s) = %v, %v; want %v", m.Name(), tc.user, tc.pass, got, err, tc.want)
		}
	}
	for user, want := range exists {
		if got, err := m.UserExists(ctx, user); err != nil || got != want {
			t.Errorf("%s: UserExists(%s) = %v, %v; want %v", m.Name(), user, got, err, want)
		}
	}
}
