package authmethods

import (
	"io"
	"log/slog"
	"time"

	"github.com/hermod-im/hermod/engine/config"
)

// quietLog discards what the methods log.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func dur(d time.Duration) config.Duration { return config.Dur(d) }
