package engine_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/enginetest"
)

// slowStore answers account look-ups of the user "slow" after a delay: a SASL step
// that goes to a worker takes that long, and the client's input is held meanwhile.
type slowStore struct {
	backends.Store
	delay time.Duration
}

func (s slowStore) Account(ctx context.Context, domain, user string) (backends.Account, error) {
	if user == "slow" {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
		}
	}
	return s.Store.Account(ctx, domain, user)
}

// TestPipelinedInlineStepsDoNotStallLoop: one client pipelines thousands of SASL
// steps that run on the event loop (an empty PLAIN challenge, then <abort/>, which
// does not count as a failure) behind a step that goes to a worker, so that all of
// it is held as input. Sessions on the same loop must still be served: the loop may
// not spend seconds on one connection's input.
func TestPipelinedInlineStepsDoNotStallLoop(t *testing.T) {
	store := slowStore{Store: memory.New(), delay: 300 * time.Millisecond}
	t.Cleanup(func() { store.Close() })
	ts := startServer(t, enginetest.WithStore(store))
	users(ts, "victim", "slow")
	// Logged-in bystanders, enough to have some on every loop: the kernel places each
	// connection by a hash, so 12 on two loops all miss one with odds of 1 in 2,048.
	var others []*enginetest.Raw
	for i := range 12 {
		others = append(others, rawLogin(t, ts, "victim", "r"+string(rune('a'+i))))
	}
	pair := "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/><abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
	n := (3 << 18) / len(pair) // 768 KiB
	bad := base64.StdEncoding.EncodeToString([]byte("\x00slow\x00wrong"))
	script := streamOpen + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + bad + "</auth>" + strings.Repeat(pair, n)
	at := dialRaw(t, ts.Plain)
	go func() { _, _ = at.Conn.Write([]byte(script)) }()
	var done atomic.Bool
	go func() {
		// Read the answers, so that the server's writes never block.
		defer done.Store(true)
		_ = at.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 1<<16)
		seen, tail := 0, ""
		for seen < n {
			k, err := at.Conn.Read(buf)
			if err != nil {
				return
			}
			s := tail + string(buf[:k])
			seen += strings.Count(s, "<aborted/>")
			if i := strings.LastIndexByte(s, '>'); i >= 0 {
				tail = s[i+1:]
			}
		}
	}()
	start := time.Now()
	worst := time.Duration(0)
	const limit = 2 * time.Second
	buf := make([]byte, 4096)
ping:
	for !done.Load() && time.Since(start) < 3*time.Second {
		for _, o := range others {
			t0 := time.Now()
			o.Send("<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>")
			_ = o.Conn.SetReadDeadline(t0.Add(limit))
			got := ""
			for !strings.Contains(got, "id='x'") {
				k, err := o.Conn.Read(buf)
				got += string(buf[:k])
				if err != nil {
					worst = limit
					break ping
				}
			}
			worst = max(worst, time.Since(t0))
		}
	}
	t.Logf("%d pipelined steps (%d KiB) handled in %v; worst ping round trip of a bystander: %v", n, len(script)>>10, time.Since(start), worst)
	if worst > 800*time.Millisecond {
		t.Errorf("a bystander waited %v for a ping answer while one client's pipelined SASL steps ran (engine/conn.go onTraffic resumeSoon loop: every step in one call, each copying the held input)", worst)
	}
}
