package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Module is a feature enabled per host ([modules.NAME] in the configuration). The
// engine knows features only through the handlers a module registers on its Host.
type Module interface {
	// Start registers the module's handlers on h and prepares its state. It runs once
	// per host before any client connects, on the goroutine starting the server.
	Start(h *Host) error
	// Stop releases what Start acquired. It runs after the last client has gone.
	Stop() error
}

// ModuleConfig is what a ModuleFactory gets: the host and the module's options.
type ModuleConfig struct {
	// Name is the module's name as configured ("mod_roster").
	Name string
	// Host is the domain the module serves.
	Host string
	// Decode fills v (a pointer to the module's options struct, with `toml` tags) from
	// [modules.NAME]; unknown keys and bad values are errors naming the file and line.
	Decode func(v any) error

	cfg *config.Config // for Errorf's positions; nil for a ModuleConfig built by hand
}

// Errorf reports a bad value of the module's option key (dotted for nested tables)
// at its place in the configuration file, like the configuration's own errors. A
// factory returns it when a value decodes but is out of range.
func (mc ModuleConfig) Errorf(key, format string, args ...any) error {
	if mc.cfg == nil {
		return fmt.Errorf("%s: %s: %s", mc.Name, key, fmt.Sprintf(format, args...))
	}
	return mc.cfg.ModuleError(mc.Name, key, format, args...)
}

// ModuleFactory builds a module for one host.
type ModuleFactory func(ModuleConfig) (Module, error)

// HookResult says whether a hook handled the stanza.
type HookResult int

const (
	// Continue lets processing go on: later hooks, then the engine's own handling.
	Continue HookResult = iota
	// Stop ends processing: the stanza was handled (or deliberately dropped) by the hook.
	Stop
)

// Priorities order hook handlers: lower runs first. Modules use these or values in
// between.
const (
	PriorityFirst   = 0   // filters that may drop a stanza (privacy)
	PriorityDefault = 50  // most handlers
	PriorityLast    = 100 // observers
)

// StanzaHook inspects a stanza on the event loop of the connection concerned. It must
// not block: work that blocks goes to Host.Go. st and its slices are valid only during
// the call: keep copies.
type StanzaHook func(st *Stanza) HookResult

// SessionHook runs on a worker when a session opens (after binding, before the bind
// result is sent, so a module can load what the session needs) or closes. It may block.
type SessionHook func(ctx context.Context, s *Session)

// EventHook receives a module-defined event (Host.Fire). It runs on the goroutine that
// fired the event.
type EventHook func(ev Event) HookResult

// Event is a notification between modules: "roster-changed", "user-removed",
// "offline-delivered", ... Data is the firing module's to define.
type Event struct {
	Name string
	User jid.JID
	Data any
}

// Stanza is a stanza handed to hooks. Raw and Header alias the connection's buffers.
type Stanza struct {
	Host   *Host
	Raw    []byte
	Header *stanza.Header
	// From is the sender (for stanzas from a local session, its full JID, stamped).
	From jid.JID
	// To is the addressee as parsed; zero when the stanza had no 'to'.
	To jid.JID
	// Session is the local session concerned: the sender for user-send hooks, the
	// recipient for deliver hooks.
	Session *Session

	hdr stanza.Header // Header points here: the caller's header must not escape
}

// Host is one served domain as modules see it. Registration methods may be called only
// from Module.Start; the others are safe from any goroutine.
type Host struct {
	srv    *Server
	domain string
	log    *slog.Logger

	iq           map[string]IQHandler
	preAuthIQ    map[string]IQHandler
	featuresPre  []string // stream features offered before authentication
	featuresPost []string // stream features offered after authentication
	features     []string
	acctFeatures []string
	identities   []Identity
	userSend     []hook[StanzaHook]
	deliver      []hook[StanzaHook]
	undeliver    []hook[StanzaHook]
	opened       []hook[SessionHook]
	closed       []hook[SessionHook]
	events       map[string][]hook[EventHook]
	modules      []Module
}

type hook[F any] struct {
	prio int
	fn   F
}

func addHook[F any](list []hook[F], prio int, fn F) []hook[F] {
	list = append(list, hook[F]{prio, fn})
	sort.SliceStable(list, func(i, j int) bool { return list[i].prio < list[j].prio })
	return list
}

// Identity is a service discovery identity (XEP-0030).
type Identity struct {
	Category, Type, Name, Lang string
}

// Domain returns the host's domain.
func (h *Host) Domain() string { return h.domain }

// Log returns the host's logger.
func (h *Host) Log() *slog.Logger { return h.log }

// Store returns the storage backend. Modules assert the interfaces they need
// (backends.Rosters, ...) in Start and fail there when the backend lacks them.
func (h *Host) Store() backends.Store { return h.srv.store }

// HandleIQ registers fn for iq get/set whose payload is in namespace ns, addressed to
// the host, to an account's bare JID, or sent without 'to' (the sender's own account).
func (h *Host) HandleIQ(ns string, fn IQHandler) {
	if h.iq == nil {
		h.iq = map[string]IQHandler{}
	}
	h.iq[ns] = fn
}

// HandlePreAuthIQ registers fn for iq get/set in namespace ns sent before the stream
// is authenticated (in-band registration, XEP-0077). The IQ has no From and no Session.
func (h *Host) HandlePreAuthIQ(ns string, fn IQHandler) {
	if h.preAuthIQ == nil {
		h.preAuthIQ = map[string]IQHandler{}
	}
	h.preAuthIQ[ns] = fn
}

// AddStreamFeature offers a stream feature element (well-formed XML with its own
// xmlns, e.g. "<ver xmlns='urn:xmpp:features:rosterver'/>") before authentication
// (beforeAuth) or after it, next to resource binding.
func (h *Host) AddStreamFeature(xml string, beforeAuth bool) {
	if beforeAuth {
		h.featuresPre = append(h.featuresPre, xml)
	} else {
		h.featuresPost = append(h.featuresPost, xml)
	}
}

// AddFeature advertises ns in the host's disco#info.
func (h *Host) AddFeature(ns string) {
	if !slices.Contains(h.features, ns) {
		h.features = append(h.features, ns)
	}
}

// AddAccountFeature advertises ns in the disco#info of every account's bare JID.
func (h *Host) AddAccountFeature(ns string) {
	if !slices.Contains(h.acctFeatures, ns) {
		h.acctFeatures = append(h.acctFeatures, ns)
	}
}

// AddIdentity adds a disco identity of the host.
func (h *Host) AddIdentity(id Identity) { h.identities = append(h.identities, id) }

// Features returns the host's disco features, sorted. The slice is the caller's.
func (h *Host) Features() []string { s := slices.Clone(h.features); slices.Sort(s); return s }

// AccountFeatures returns the features of accounts' bare JIDs, sorted.
func (h *Host) AccountFeatures() []string {
	s := slices.Clone(h.acctFeatures)
	slices.Sort(s)
	return s
}

// Identities returns the host's disco identities.
func (h *Host) Identities() []Identity { return slices.Clone(h.identities) }

// OnUserSend runs fn for every stanza a local session sends, after 'from' is stamped
// and before routing.
func (h *Host) OnUserSend(prio int, fn StanzaHook) { h.userSend = addHook(h.userSend, prio, fn) }

// OnDeliver runs fn before a stanza is written to a local session.
func (h *Host) OnDeliver(prio int, fn StanzaHook) { h.deliver = addHook(h.deliver, prio, fn) }

// OnUndeliverable runs fn for a chat or normal message to an existing-or-not account
// of this host that has no available resource (RFC 6121 8.5.2.2.1). A hook that stores
// it (offline storage) returns Stop; if none does, the sender gets
// service-unavailable.
func (h *Host) OnUndeliverable(prio int, fn StanzaHook) {
	h.undeliver = addHook(h.undeliver, prio, fn)
}

// OnSessionOpened runs fn on a worker after a resource is bound, before the bind result
// is sent: the session's first stanza is processed only after every such hook returned.
func (h *Host) OnSessionOpened(prio int, fn SessionHook) { h.opened = addHook(h.opened, prio, fn) }

// OnSessionClosed runs fn on a worker after a session ended (it is no longer in the
// session table).
func (h *Host) OnSessionClosed(prio int, fn SessionHook) { h.closed = addHook(h.closed, prio, fn) }

// On registers fn for module-defined events named name.
func (h *Host) On(name string, prio int, fn EventHook) {
	if h.events == nil {
		h.events = map[string][]hook[EventHook]{}
	}
	h.events[name] = addHook(h.events[name], prio, fn)
}

// Fire runs the handlers of ev.Name in priority order until one returns Stop, and
// reports whether one did.
func (h *Host) Fire(ev Event) bool {
	for _, hk := range h.events[ev.Name] {
		if hk.fn(ev) == Stop {
			return true
		}
	}
	return false
}

// Go runs fn on the server's worker pool. It returns false, without running fn, when
// the pool's queue is full.
func (h *Host) Go(fn func()) bool { return h.srv.workers.submit(fn) }

// Context is cancelled when the server shuts down.
func (h *Host) Context() context.Context { return h.srv.ctx }

// Sessions returns the bound sessions of the account bare (normalised bare JID). The
// slice is shared: do not modify it.
func (h *Host) Sessions(bare string) []*Session {
	cs := h.srv.sessions.Lookup(bare)
	if len(cs) == 0 {
		return nil
	}
	out := make([]*Session, len(cs))
	for i, c := range cs {
		out[i] = c.session()
	}
	return out
}

// Route sends a stanza generated by the server or a module (raw must carry 'to', and
// 'from' as it should appear) to its local addressee by the rules of RFC 6121 8.5,
// without hooks of the sending side. Safe from any goroutine.
func (h *Host) Route(raw []byte) error {
	var hd stanza.Header
	if err := stanza.ParseHeader(raw, &hd); err != nil {
		return fmt.Errorf("engine: route: %w", err)
	}
	to, err := parseTransient(hd.To)
	if err != nil {
		return fmt.Errorf("engine: route: bad 'to': %w", err)
	}
	if !h.srv.serves(to.Domainpart()) || to.Localpart() == "" {
		return fmt.Errorf("engine: route: %s is not a local account", to)
	}
	bare := to.Bare().String()
	if r := to.Resourcepart(); r != "" {
		if c, ok := h.srv.sessions.LookupResource(bare, r); ok {
			c.session().Send(raw)
		}
		return nil
	}
	for _, c := range h.srv.sessions.Lookup(bare) {
		if avail, _ := c.presenceOf(); avail || hd.Kind != stanza.Presence {
			c.session().Send(raw)
		}
	}
	return nil
}

// startModules builds and starts the configured modules of every host.
func (s *Server) startModules(factories map[string]ModuleFactory) error {
	s.hostAPI = map[string]*Host{}
	for domain := range s.hosts {
		h := &Host{srv: s, domain: domain, log: s.log.With("host", domain)}
		s.hostAPI[domain] = h
		s.addAuthHooks(h)
		for _, name := range s.cfg.ModuleNames() {
			f, ok := factories[name]
			if !ok {
				return unknownModule(s.cfg, name, factories)
			}
			m, err := f(moduleConfig(s.cfg, name, domain))
			if err != nil {
				return fmt.Errorf("engine: module %s for %s: %w", name, domain, err)
			}
			if err := m.Start(h); err != nil {
				return fmt.Errorf("engine: start %s for %s: %w", name, domain, err)
			}
			h.modules = append(h.modules, m)
		}
	}
	return nil
}

// CheckModules builds every module cfg enables with its factory, as Serve does but
// without starting any, so that `hermod check-config` finds an unknown module and a
// module's unknown keys and bad values without a server. It reports every module's
// problems: one config.ErrorList when they all carry positions.
func CheckModules(cfg *config.Config, factories map[string]ModuleFactory) error {
	var list config.ErrorList
	var other []error
	add := func(err error) {
		var l config.ErrorList
		if errors.As(err, &l) {
			list = append(list, l...)
		} else {
			other = append(other, err)
		}
	}
	for _, name := range cfg.ModuleNames() {
		f, ok := factories[name]
		if !ok {
			add(unknownModule(cfg, name, factories))
			continue
		}
		for _, domain := range cfg.General.Hosts {
			if _, err := f(moduleConfig(cfg, name, domain)); err != nil {
				add(fmt.Errorf("module %s for %s: %w", name, domain, err))
				break // the options are the module's, not the host's: once is enough
			}
		}
	}
	if len(other) > 0 {
		if len(list) > 0 {
			other = append(other, list)
		}
		return errors.Join(other...)
	}
	if len(list) > 0 {
		list.SortByPosition()
		return list
	}
	return nil
}

// moduleConfig is what the factory of module name gets for domain.
func moduleConfig(cfg *config.Config, name, domain string) ModuleConfig {
	return ModuleConfig{Name: name, Host: domain, Decode: func(v any) error { return cfg.DecodeModule(name, v) }, cfg: cfg}
}

// unknownModule is the error for a [modules.<name>] table no factory serves.
func unknownModule(cfg *config.Config, name string, factories map[string]ModuleFactory) error {
	known := slices.Sorted(maps.Keys(factories))
	return cfg.ModuleError(name, "", "unknown module %q (this build has %s)", name, strings.Join(known, ", "))
}

// stopModules stops every started module, last started first.
func (s *Server) stopModules() {
	for _, h := range s.hostAPI {
		for i := len(h.modules) - 1; i >= 0; i-- {
			if err := h.modules[i].Stop(); err != nil {
				h.log.Warn("module stop", "err", err)
			}
		}
	}
}

// RemoveUser ends the sessions of the deleted account bare and fires user-removed
// (see Server.RemoveUser). Safe from any goroutine; it may block.
func (h *Host) RemoveUser(bare jid.JID) { h.srv.RemoveUser(bare) }

// RemoveUser tells the modules of the account's host that bare (a normalised bare JID)
// was deleted, so they drop its data ("user-removed" event), and ends its sessions
// with a not-authorized stream error. The account itself must already be gone from the
// store. Safe from any goroutine; it may block while modules clean up.
func (s *Server) RemoveUser(bare jid.JID) {
	for _, c := range s.sessions.Lookup(bare.String()) {
		c.post(func() {
			c.streamError(stanza.StreamError{Condition: stanza.StreamNotAuthorized, Text: "account removed"})
		})
	}
	if h := s.hostAPI[bare.Domainpart()]; h != nil {
		h.Fire(Event{Name: EventUserRemoved, User: bare})
	}
}

// EventUserRemoved is fired (Host.Fire) when an account was deleted; Event.User is its
// bare JID. Modules drop the account's data.
const EventUserRemoved = "user-removed"
