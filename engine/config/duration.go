package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in the file as a Go duration string ("30s",
// "5m", "1h30m"). It is a struct rather than a named int64 so that a bare TOML integer
// (which would silently mean nanoseconds) is rejected instead of accepted.
type Duration struct {
	D time.Duration
}

// Dur builds a Duration; a convenience for defaults and tests.
func Dur(d time.Duration) Duration { return Duration{D: d} }

// UnmarshalText parses a duration string; negative durations are refused.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: write a number with a unit, such as \"30s\", \"5m\" or \"1h\"", b)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", b)
	}
	d.D = v
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.D.String()), nil
}

// String returns the duration in Go's notation.
func (d Duration) String() string { return d.D.String() }
