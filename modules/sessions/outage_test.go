package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

// TestOutageLoggedOnce checks that an outage is logged when it starts and when it ends,
// not at every failed call, while every failure is counted.
func TestOutageLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	m := &Module{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	down := fmt.Errorf("redis: refresh: %w: connection refused", backends.ErrUnavailable)
	for range 2 { // two outages
		for range 5 {
			m.failed("write", down)
		}
		if !m.Stats().Outage {
			t.Fatal("no outage after failures")
		}
		if !m.recovered() || m.recovered() {
			t.Fatal("recovered should report the end of the outage exactly once")
		}
	}
	m.failed("write", errors.New("WRONGTYPE something")) // a bug, not an outage: logged each time
	logs := buf.String()
	if n := strings.Count(logs, "unreachable"); n != 2 {
		t.Errorf("%d 'unreachable' lines for two outages:\n%s", n, logs)
	}
	if n := strings.Count(logs, "reachable again"); n != 2 {
		t.Errorf("%d 'reachable again' lines for two outages:\n%s", n, logs)
	}
	if n := strings.Count(logs, "level=ERROR"); n != 1 {
		t.Errorf("%d error lines for one non-outage failure:\n%s", n, logs)
	}
	if st := m.Stats(); st.Failures != 11 || st.Outage {
		t.Errorf("stats %+v, want 11 failures and no outage", st)
	}
}
