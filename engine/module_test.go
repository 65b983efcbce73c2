package engine_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/stanza"
)

// probe is a module that exercises every kind of registration.
type probe struct {
	opened, closed atomic.Int32
	stored         atomic.Int32
	opts           struct {
		Tag string `toml:"tag"`
	}
}

func (p *probe) Start(h *engine.Host) error {
	h.AddFeature("urn:test:probe")
	h.HandleIQ("urn:test:echo", func(iq *engine.IQ) {
		text, _ := iq.Payload.ChildText("urn:test:echo", "say")
		iq.Result([]byte("<echo xmlns='urn:test:echo'><said>" + text + "|" + p.opts.Tag + "|" + iq.To.String() + "</said></echo>"))
	})
	h.HandleIQ("urn:test:lazy", func(iq *engine.IQ) {}) // forgets to answer
	h.OnUserSend(engine.PriorityFirst, func(st *engine.Stanza) engine.HookResult {
		if st.Header.Kind == stanza.Message && strings.Contains(string(st.Raw), "swallow-me") {
			return engine.Stop
		}
		return engine.Continue
	})
	h.OnDeliver(engine.PriorityFirst, func(st *engine.Stanza) engine.HookResult {
		if strings.Contains(string(st.Raw), "censored") {
			return engine.Stop
		}
		return engine.Continue
	})
	h.OnUndeliverable(engine.PriorityDefault, func(st *engine.Stanza) engine.HookResult {
		p.stored.Add(1)
		return engine.Stop
	})
	h.OnSessionOpened(engine.PriorityDefault, func(ctx context.Context, s *engine.Session) {
		time.Sleep(50 * time.Millisecond) // a slow load must hold the stream, not lose stanzas
		p.opened.Add(1)
	})
	h.OnSessionClosed(engine.PriorityDefault, func(ctx context.Context, s *engine.Session) { p.closed.Add(1) })
	h.On("ping-event", engine.PriorityDefault, func(ev engine.Event) engine.HookResult { return engine.Stop })
	if !h.Fire(engine.Event{Name: "ping-event"}) || h.Fire(engine.Event{Name: "nobody-listens"}) {
		return errorString("events not dispatched")
	}
	return nil
}

func (p *probe) Stop() error { return nil }

type errorString string

func (e errorString) Error() string { return string(e) }

func TestModuleHooks(t *testing.T) {
	p := &probe{}
	factory := func(mc engine.ModuleConfig) (engine.Module, error) { return p, mc.Decode(&p.opts) }
	ts := startServer(t, enginetest.WithModule("mod_probe", factory, map[string]any{"tag": "T"}))
	users(ts, "alice", "bob", "carol")
	a := rawLogin(t, ts, "alice", "a")
	b := rawLogin(t, ts, "bob", "b")
	if p.opened.Load() != 2 {
		t.Fatalf("opened hooks ran %d times before the bind results, want 2", p.opened.Load())
	}

	// An IQ handler on a worker, answering for the host and for an account.
	a.Send("<iq type='get' id='e1' to='localhost'><echo xmlns='urn:test:echo'><say>hi</say></echo></iq>")
	if got := a.ReadUntil("</iq>"); !strings.Contains(got, "hi|T|localhost") || !strings.Contains(got, "id='e1'") {
		t.Fatalf("echo: %q", got)
	}
	a.Buf.Reset()
	a.Send("<iq type='get' id='e2'><echo xmlns='urn:test:echo'><say>me</say></echo></iq>")
	if got := a.ReadUntil("</iq>"); !strings.Contains(got, "me|T|alice@localhost") || strings.Contains(got, "from=") {
		t.Fatalf("echo to own account: %q", got)
	}
	a.Buf.Reset()
	a.Send("<iq type='get' id='e3' to='localhost'><lazy xmlns='urn:test:lazy'/></iq>")
	if got := a.ReadUntil("</iq>"); !strings.Contains(got, "internal-server-error") {
		t.Fatalf("handler that does not answer: %q", got)
	}
	a.Buf.Reset()

	// User-send and deliver hooks that stop stanzas.
	a.Send("<message to='bob@localhost/b' id='m1'><body>swallow-me</body></message>")
	a.Send("<message to='bob@localhost/b' id='m2'><body>censored</body></message>")
	a.Send("<message to='bob@localhost/b' id='m3'><body>fine</body></message>")
	got := b.ReadUntil("fine")
	if strings.Contains(got, "swallow-me") || strings.Contains(got, "censored") {
		t.Fatalf("hooks did not stop stanzas: %q", got)
	}

	// A message for an account without available resources goes to the undeliverable
	// hook instead of bouncing.
	a.Send("<message to='carol@localhost' type='chat' id='m4'><body>later</body></message>")
	if got := a.Next(300 * time.Millisecond); strings.Contains(got, "error") {
		t.Fatalf("undeliverable message bounced: %q", got)
	}
	if p.stored.Load() != 1 {
		t.Fatalf("undeliverable hook ran %d times", p.stored.Load())
	}

	b.Conn.Close()
	deadline := time.Now().Add(3 * time.Second)
	for p.closed.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.closed.Load() != 1 {
		t.Fatalf("closed hooks ran %d times", p.closed.Load())
	}
}

func TestRemoveUser(t *testing.T) {
	var removed atomic.Value
	factory := func(mc engine.ModuleConfig) (engine.Module, error) {
		return moduleFunc(func(h *engine.Host) error {
			h.On(engine.EventUserRemoved, engine.PriorityDefault, func(ev engine.Event) engine.HookResult {
				removed.Store(ev.User.String())
				return engine.Continue
			})
			return nil
		}), nil
	}
	var srv *engine.Server
	ts := startServer(t, enginetest.WithModule("mod_watch", factory, nil), enginetest.WithServer(&srv))
	users(ts, "alice")
	a := rawLogin(t, ts, "alice", "a")
	srv.RemoveUser(jidMust("alice@localhost"))
	if got := a.ReadAll(); !strings.Contains(got, "<not-authorized") {
		t.Fatalf("session of a removed account: %q", got)
	}
	if removed.Load() != "alice@localhost" {
		t.Fatalf("user-removed event: %v", removed.Load())
	}
}

type moduleFunc func(h *engine.Host) error

func (f moduleFunc) Start(h *engine.Host) error { return f(h) }
func (f moduleFunc) Stop() error                { return nil }
