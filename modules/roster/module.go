package roster

import (
	"fmt"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_roster"

// Options are the keys of [modules.mod_roster].
type Options struct {
	// Versioning enables roster versioning (XEP-0237, RFC 6121 2.6); default true.
	Versioning bool `toml:"versioning"`
	// PreApproval enables subscription pre-approvals (RFC 6121 3.4); default true.
	PreApproval bool `toml:"pre_approval"`
	// MaxItems caps the items a user may add with roster sets; 0 means no cap.
	// Default 1000. Items created by subscriptions are not refused.
	MaxItems int `toml:"max_items"`
}

// Module is mod_roster for one host.
type Module struct {
	opts Options
	svc  *Service
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{Versioning: true, PreApproval: true, MaxItems: 1000}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	if m.opts.MaxItems < 0 {
		return nil, mc.Errorf("max_items", "must not be negative")
	}
	return m, nil
}

// Start registers the roster IQ handler, the stream features and the hook that takes
// subscription stanzas.
func (m *Module) Start(h *engine.Host) error {
	svc, err := Shared(h)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	m.svc = svc
	svc.versioning, svc.preApproval, svc.maxItems = m.opts.Versioning, m.opts.PreApproval, m.opts.MaxItems
	h.HandleIQ(NS, svc.handleIQ)
	if m.opts.Versioning {
		h.AddStreamFeature("<ver xmlns='"+NSVersioning+"'/>", false)
	}
	if m.opts.PreApproval {
		h.AddStreamFeature("<sub xmlns='"+NSPreApproval+"'/>", false)
	}
	h.OnUserSend(engine.PriorityDefault, m.onUserSend)
	return nil
}

// Stop does nothing: sessions are gone, and the service holds no resources.
func (m *Module) Stop() error { return nil }

// Service returns the host's roster service (after Start).
func (m *Module) Service() *Service { return m.svc }

// onUserSend takes the subscription stanzas a user sends to a contact of this host,
// and delivers pending requests when a session sends initial presence. Event loop.
func (m *Module) onUserSend(st *engine.Stanza) engine.HookResult {
	if st.Header.Kind != stanza.Presence {
		return engine.Continue
	}
	k, ok := ParseKind(st.Header.Type)
	if !ok {
		if st.To.IsZero() && len(st.Header.Type) == 0 {
			if avail, _ := st.Session.Available(); !avail {
				m.svc.deliverPendingLater(st.Session)
			}
		}
		return engine.Continue
	}
	if st.To.IsZero() {
		// A subscription stanza to nobody means nothing (RFC 6121 3.1.1 needs a
		// contact); the engine would ignore it too.
		return engine.Stop
	}
	contact := st.To.Bare()
	if !m.svc.isLocal(contact) {
		// Another domain: no server-to-server yet, the engine answers.
		return engine.Continue
	}
	if contact == st.From.Bare() {
		return engine.Stop
	}
	if !m.svc.HandleSubscription(st.Session, st.Raw, st.Header, contact, k) && !st.Header.IsError() {
		var b []byte
		b = stanza.AppendErrorReply(b, st.Raw, st.Header, stanza.StanzaError{Condition: stanza.ResourceConstraint})
		st.Session.Send(b)
	}
	return engine.Stop
}
