package engine_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
)

// TestSecondServerRefused checks that the listeners' SO_REUSEPORT (each event loop
// accepts on a socket of its own) does not let a second server share a port that a
// running one holds: it must fail to start, as without the option.
func TestSecondServerRefused(t *testing.T) {
	ts := enginetest.Start(t)
	cfg := *ts.Cfg
	cfg.General.DataDir = t.TempDir()
	cfg.Listen.C2S = cfg.Listen.C2S[3:] // the plaintext listener, same port
	st := memory.New()
	defer st.Close()
	srv, err := engine.New(&cfg, slog.New(slog.DiscardHandler), engine.Options{Store: st})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Serve(ctx)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second server on %s: Serve = %v, want address already in use", ts.Plain, err)
	}
	// The first still serves, whichever loop's socket the kernel picks.
	ts.AddUser("romeo", "secret")
	for range 4 {
		ts.Login(t, "romeo", "secret", "r").Conn.Close()
	}
}
