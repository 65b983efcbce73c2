// Package pingbot is the example module of docs/modules.md: a bot living at the host's
// own address that answers a chat message whose body is "ping" with "pong", and counts
// the messages it answered. It shows the parts every module has: options decoded from
// [modules.mod_pingbot], a user-send hook that stops the stanzas it handles, a disco
// feature, and replies sent without blocking the event loop.
//
// It must not be used as a template for anything that touches storage: hooks run on
// event loops; blocking work belongs in Host.Go.
package pingbot

import (
	"strings"
	"sync/atomic"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_pingbot"

// Options are the module's configuration keys.
type Options struct {
	// Word is the body the bot answers; default "ping".
	Word string `toml:"word"`
	// Reply is what it answers with; default "pong".
	Reply string `toml:"reply"`
}

// Module answers ping words sent to the host.
type Module struct {
	opts     Options
	host     *engine.Host
	answered atomic.Int64
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{Word: "ping", Reply: "pong"}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	return m, nil
}

// Start registers the hook.
func (m *Module) Start(h *engine.Host) error {
	m.host = h
	h.AddFeature("urn:hermod:pingbot")
	h.OnUserSend(engine.PriorityDefault, m.onSend)
	return nil
}

// Stop does nothing: the module holds no resources.
func (m *Module) Stop() error { return nil }

// Answered returns how many messages the bot has answered.
func (m *Module) Answered() int64 { return m.answered.Load() }

// onSend runs on the sender's event loop for every stanza a user sends. It looks only
// at messages to the bare host address and leaves everything else to the engine.
func (m *Module) onSend(st *engine.Stanza) engine.HookResult {
	if st.Header.Kind != stanza.Message || st.To.String() != m.host.Domain() {
		return engine.Continue
	}
	el, err := stanza.ParseIn(st.Raw, "jabber:client")
	if err != nil {
		return engine.Continue
	}
	defer el.Release()
	body, _ := el.ChildText("jabber:client", "body")
	if !strings.EqualFold(strings.TrimSpace(body), m.opts.Word) {
		return engine.Continue
	}
	var b stanza.Builder
	b.Start("message")
	b.Attr("from", m.host.Domain())
	b.Attr("to", st.From.String())
	b.Attr("type", "chat")
	if id := st.Header.ID; id != nil {
		b.AttrRaw("id", id)
	}
	b.Start("body")
	b.Text(m.opts.Reply)
	b.End()
	b.End()
	out, err := b.Finish()
	if err != nil {
		return engine.Continue
	}
	st.Session.Send(out)
	m.answered.Add(1)
	return engine.Stop
}
