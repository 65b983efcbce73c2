// Package register is mod_register: In-Band Registration (XEP-0077). Before
// authentication a client may create an account (username and password); once logged
// in, it may change its password or remove its account.
//
// The module is off unless configured: an open registration service invites spam, so
// registrations are rate-limited (a token bucket shared by the host: the engine does
// not tell modules the client's address, so the limit cannot be per source). Accounts
// are created, re-keyed and deleted through engine/admin/accounts, with the same
// normalisation (RFC 7622) and SCRAM key derivation as the admin API and `hermod user`.
//
// It must not run anything on an event loop (PBKDF2 and storage run on the workers
// where IQ handlers run) and must never store or log a password.
package register

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/admin/accounts"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Name is the module's configuration name.
const Name = "mod_register"

// Namespaces of XEP-0077.
const (
	NS        = "jabber:iq:register"
	NSFeature = "http://jabber.org/features/iq-register"
)

// Options are the keys of [modules.mod_register].
type Options struct {
	// RegistrationsPerMinute caps the registration attempts the host accepts per
	// minute, all clients together (a burst of that many is allowed); 0 means no cap.
	// Default 10.
	RegistrationsPerMinute int `toml:"registrations_per_minute"`
	// MinPasswordLength is the shortest password accepted, in characters; default 8.
	MinPasswordLength int `toml:"min_password_length"`
	// PasswordChange lets logged-in users change their password; default true.
	PasswordChange bool `toml:"password_change"`
	// Remove lets logged-in users delete their account; default true.
	Remove bool `toml:"remove"`
	// ScramIterations is the PBKDF2 count of the keys derived for new passwords. It
	// should equal [auth] scram_iterations (modules cannot read that section); default
	// 4096, that section's default.
	ScramIterations int `toml:"scram_iterations"`
	// Instructions is the text of the registration form.
	Instructions string `toml:"instructions"`
}

// Module is mod_register for one host.
type Module struct {
	opts    Options
	host    *engine.Host
	users   *accounts.Manager
	limiter *bucket
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	m := &Module{opts: Options{
		RegistrationsPerMinute: 10,
		MinPasswordLength:      8,
		PasswordChange:         true,
		Remove:                 true,
		ScramIterations:        4096,
		Instructions:           "Choose a username and password for use with this service.",
	}}
	if err := mc.Decode(&m.opts); err != nil {
		return nil, err
	}
	switch {
	case m.opts.RegistrationsPerMinute < 0:
		return nil, mc.Errorf("registrations_per_minute", "must not be negative")
	case m.opts.MinPasswordLength < 1:
		return nil, mc.Errorf("min_password_length", "must be at least 1")
	case m.opts.ScramIterations < 4096:
		// RFC 7677 section 4: at least 4096 iterations.
		return nil, mc.Errorf("scram_iterations", "must be at least 4096")
	}
	return m, nil
}

// Start registers the handlers and the stream feature.
func (m *Module) Start(h *engine.Host) error {
	users, err := accounts.New(accounts.Options{
		Store:      h.Store(),
		Iterations: func(string) int { return m.opts.ScramIterations },
		Hosts:      []string{h.Domain()},
		Workers:    1,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	m.host, m.users = h, users
	if n := m.opts.RegistrationsPerMinute; n > 0 {
		m.limiter = newBucket(n, time.Minute, time.Now)
	}
	h.AddStreamFeature("<register xmlns='"+NSFeature+"'/>", true)
	h.AddFeature(NS)
	h.HandlePreAuthIQ(NS, m.handlePreAuth)
	h.HandleIQ(NS, m.handleAccount)
	return nil
}

// Stop does nothing: the module holds nothing the engine does not close.
func (m *Module) Stop() error { return nil }

// handlePreAuth serves registration before authentication (XEP-0077 section 3.1).
// On a worker.
func (m *Module) handlePreAuth(iq *engine.IQ) {
	if !iq.ToAbsent && iq.To.String() != m.host.Domain() {
		iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
		return
	}
	if iq.Type == "get" {
		var b stanza.Builder
		b.Start("query").Xmlns(NS)
		b.Start("instructions").Text(m.opts.Instructions).End()
		b.Start("username").End().Start("password").End()
		b.End()
		reply(iq, &b)
		return
	}
	q := iq.Payload
	if q.Child(NS, "remove") != nil {
		// Section 3.2: nobody is registered on a stream that has not authenticated.
		iq.Error(stanza.StanzaError{Condition: stanza.UnexpectedRequest, Type: stanza.TypeCancel})
		return
	}
	username, _ := q.ChildText(NS, "username")
	password, _ := q.ChildText(NS, "password")
	if username == "" || password == "" {
		// Section 3.1: every field of the form is required.
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable, Text: "a username and a password are required"})
		return
	}
	account, err := m.accountJID(username)
	if err != nil {
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable, Text: "this username is not allowed"})
		return
	}
	if err := m.checkPassword(password); err != nil {
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable, Text: err.Error()})
		return
	}
	if m.limiter != nil && !m.limiter.take() {
		iq.Error(stanza.StanzaError{Condition: stanza.ResourceConstraint, Text: "too many registrations: try again later"})
		return
	}
	switch err := m.users.AddUser(m.host.Context(), account.String(), password); {
	case err == nil:
		m.host.Log().Info("account registered in-band", "jid", account.String())
		iq.Result(nil)
	case errors.Is(err, admin.ErrExists):
		iq.Error(stanza.StanzaError{Condition: stanza.Conflict})
	case errors.Is(err, admin.ErrInvalid):
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable})
	default:
		m.host.Log().Error("in-band registration", "jid", account.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
	}
}

// accountJID checks a requested username: a valid localpart (RFC 7622, PRECIS
// UsernameCaseMapped) of this host. The account gets the normalised form ("Juliet"
// becomes "juliet"), under which the client's later logins are looked up too.
func (m *Module) accountJID(username string) (jid.JID, error) {
	if strings.ContainsAny(username, "@/") {
		return jid.JID{}, errors.New("username with a JID separator")
	}
	j, err := jid.New(username, m.host.Domain(), "")
	if err != nil {
		return jid.JID{}, err
	}
	return j, nil
}

func (m *Module) checkPassword(p string) error {
	if utf8.RuneCountInString(p) < m.opts.MinPasswordLength {
		return fmt.Errorf("the password must have at least %d characters", m.opts.MinPasswordLength)
	}
	return nil
}

// handleAccount serves a logged-in user: the registration on file, password change
// (section 3.3) and removal (section 3.2). On a worker.
func (m *Module) handleAccount(iq *engine.IQ) {
	self := iq.From.Bare()
	if iq.Session == nil || !(iq.ToAbsent || iq.To == self || iq.To.String() == m.host.Domain()) {
		// Another account's registration is nobody else's business.
		iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
		return
	}
	q := iq.Payload
	if iq.Type == "get" {
		var b stanza.Builder
		b.Start("query").Xmlns(NS)
		b.Start("registered").End()
		b.Start("username").Text(self.Localpart()).End()
		b.Start("password").End()
		b.End()
		reply(iq, &b)
		return
	}
	if q.Child(NS, "remove") != nil {
		if len(q.Children()) != 1 {
			iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
			return
		}
		m.remove(iq, self)
		return
	}
	if !m.opts.PasswordChange {
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
		return
	}
	username, hasUser := q.ChildText(NS, "username")
	password, _ := q.ChildText(NS, "password")
	switch {
	case hasUser && username != self.Localpart():
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed, Text: "only your own password can be changed"})
		return
	case password == "":
		// Section 3.3: an empty password never replaces the existing one.
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest, Text: "a new password is required"})
		return
	}
	if err := m.checkPassword(password); err != nil {
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable, Text: err.Error()})
		return
	}
	switch err := m.users.SetPassword(m.host.Context(), self.String(), password); {
	case err == nil:
		m.host.Log().Info("password changed in-band", "jid", self.String())
		iq.Result(nil)
	case errors.Is(err, admin.ErrInvalid):
		iq.Error(stanza.StanzaError{Condition: stanza.NotAcceptable})
	default:
		m.host.Log().Error("in-band password change", "jid", self.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
	}
}

// remove deletes the account and tells the modules (user-removed), which drop its
// data. The engine gives modules no way to end a session, so the sessions of the
// removed account stay open until they close; they cannot authenticate again.
func (m *Module) remove(iq *engine.IQ, self jid.JID) {
	if !m.opts.Remove {
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
		return
	}
	switch err := m.users.DeleteUser(m.host.Context(), self.String()); {
	case err == nil:
	case errors.Is(err, admin.ErrNotFound):
		iq.Error(stanza.StanzaError{Condition: stanza.RegistrationRequired})
		return
	default:
		m.host.Log().Error("in-band account removal", "jid", self.String(), "err", err)
		iq.Error(engine.StorageFailure(err))
		return
	}
	m.host.Log().Info("account removed in-band", "jid", self.String())
	iq.Result(nil)
	m.host.Fire(engine.Event{Name: engine.EventUserRemoved, User: self})
}

func reply(iq *engine.IQ, b *stanza.Builder) {
	out, err := b.Finish()
	if err != nil {
		iq.Error(stanza.StanzaError{Condition: stanza.InternalServerError})
		return
	}
	iq.Result(out)
}

// bucket is a token bucket: capacity tokens, refilled continuously at capacity per
// period. Safe for concurrent use.
type bucket struct {
	mu       sync.Mutex
	capacity float64
	perNano  float64
	tokens   float64
	last     time.Time
	now      func() time.Time
}

func newBucket(capacity int, period time.Duration, now func() time.Time) *bucket {
	return &bucket{capacity: float64(capacity), perNano: float64(capacity) / float64(period),
		tokens: float64(capacity), last: now(), now: now}
}

// take spends a token and reports whether there was one.
func (b *bucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	b.tokens = min(b.capacity, b.tokens+float64(t.Sub(b.last))*b.perNano)
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
