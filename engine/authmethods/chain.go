package authmethods

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

// Method is one authentication method of a host. Its methods are called on engine
// worker goroutines, concurrently, and may block, but each call returns by the method's
// own timeout or when ctx ends, whichever comes first.
type Method interface {
	// Name is the method's configuration name ("http").
	Name() string
	// CheckPassword reports whether password is user's (user is the prepared
	// localpart). An error means the method could not answer.
	CheckPassword(ctx context.Context, user, password string) (bool, error)
	// UserExists reports whether the method knows user; ErrUnsupported when its
	// protocol cannot tell (jwt).
	UserExists(ctx context.Context, user string) (bool, error)
	// Close releases the method's connections and programs. Call it once, after the
	// last use.
	Close() error
}

// ErrUnsupported is returned by UserExists of methods that cannot tell.
var ErrUnsupported = errors.New("authmethods: the method cannot tell whether a user exists")

// Chain tries methods in order: the first that accepts a password wins. It is a
// sasl.PasswordChecker. Safe for concurrent use from any goroutine but an event loop.
type Chain struct {
	methods []Method
	anon    *Anonymous // nil unless anonymous is enabled
	log     *slog.Logger
	logged  []logLimit // per method: failures are logged at most once per logEvery
}

// logEvery is the least time between two log lines about one method's failures: a
// login storm against a service that is down must not flood the log.
const logEvery = time.Second

// logLimit rate-limits the failure log of one method.
type logLimit struct {
	last       atomic.Int64 // unix nanoseconds of the last line
	suppressed atomic.Int64 // failures not logged since
}

// NewChain returns a chain over methods. Passwords of anonymous localparts (anon may
// be nil) are never accepted: those names belong to ANONYMOUS sessions.
func NewChain(log *slog.Logger, anon *Anonymous, methods ...Method) *Chain {
	return &Chain{methods: methods, anon: anon, log: log, logged: make([]logLimit, len(methods))}
}

// logFailure logs that method i failed to answer, unless it did less than logEvery
// ago; the next line counts the failures left out.
func (c *Chain) logFailure(i int, user string, err error) {
	l := &c.logged[i]
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(logEvery) || !l.last.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return
	}
	c.log.Warn("authentication method failed to answer", "method", c.methods[i].Name(),
		"user", user, "err", err, "similar_failures_not_logged", l.suppressed.Swap(0))
}

// CheckPassword implements sasl.PasswordChecker. A method's *sasl.Failure other than
// temporary-auth-failure (account-disabled, credentials-expired) ends the search with
// that answer. When no method accepts and one failed to answer, the error says which;
// the SASL layer turns it into temporary-auth-failure.
func (c *Chain) CheckPassword(ctx context.Context, user, password string) (bool, error) {
	if c.anon != nil && c.anon.Is(user) {
		return false, nil
	}
	var failed []error
	for i, m := range c.methods {
		ok, err := m.CheckPassword(ctx, user, password)
		if err != nil {
			if f := sasl.AsFailure(err); f != nil && f.Condition != sasl.TemporaryAuthFailure {
				return false, err
			}
			c.logFailure(i, user, err)
			failed = append(failed, fmt.Errorf("%s: %w", m.Name(), err))
			continue
		}
		if ok {
			return true, nil
		}
	}
	if len(failed) > 0 {
		return false, errors.Join(failed...)
	}
	return false, nil
}

// UserExists asks the methods in order; the first that knows the user answers true.
// Methods that cannot tell are skipped; an error is returned only when no method said
// yes and one failed to answer.
func (c *Chain) UserExists(ctx context.Context, user string) (bool, error) {
	var failed []error
	for _, m := range c.methods {
		ok, err := m.UserExists(ctx, user)
		switch {
		case errors.Is(err, ErrUnsupported):
		case err != nil:
			failed = append(failed, fmt.Errorf("%s: %w", m.Name(), err))
		case ok:
			return true, nil
		}
	}
	return false, errors.Join(failed...)
}

// Close closes every method.
func (c *Chain) Close() error {
	var errs []error
	for _, m := range c.methods {
		if err := m.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Set is the authentication of one host, built from its [auth] configuration.
type Set struct {
	// Chain holds every password-checking method in the configured order (internal
	// included, checking passwords against its stored keys).
	Chain *Chain
	// Keys serves SCRAM keys when internal is listed, else nil: SCRAM is offered only
	// then.
	Keys sasl.KeyStore
	// Anonymous names ANONYMOUS sessions when anonymous is listed, else nil.
	Anonymous *Anonymous
	// onlyInternal: the chain is internal alone, which the SASL layer serves from Keys.
	onlyInternal bool
}

// Passwords returns the PasswordChecker for sasl.Options: nil when the SASL layer
// needs none (no password methods, or internal alone, which it checks against Keys).
func (s *Set) Passwords() sasl.PasswordChecker {
	if s.onlyInternal || len(s.Chain.methods) == 0 {
		return nil
	}
	return s.Chain
}

// Close releases every method's resources. Call it once, after the last login.
func (s *Set) Close() error { return s.Chain.Close() }

// New builds the methods a host's configuration lists (a validated config.Auth, as
// AuthFor returns it). store holds the internal accounts, secret is the server
// secret (at least 16 bytes) that anonymous localparts are signed with. Programs of the
// external method start here. Call it from the goroutine starting the server.
func New(a config.Auth, domain string, store backends.Accounts, secret []byte, log *slog.Logger) (*Set, error) {
	s := &Set{}
	var methods []Method
	fail := func(err error) (*Set, error) {
		for _, m := range methods {
			_ = m.Close()
		}
		return nil, err
	}
	if slices.Contains(a.Methods, "anonymous") {
		s.Anonymous = NewAnonymous(a.Anonymous.Prefix, secret)
	}
	for _, name := range a.Methods {
		var (
			m   Method
			err error
		)
		switch name {
		case "internal":
			in := NewInternal(domain, store, a.ScramIterations, secret)
			in.anon = s.Anonymous
			s.Keys = in
			m = in
		case "mysql":
			m, err = NewMySQL(a.MySQL, domain)
		case "http":
			m, err = NewHTTP(a.HTTP, domain)
		case "jwt":
			m, err = NewJWT(a.JWT, domain)
		case "external":
			m, err = NewExternal(a.External, domain, log)
		case "anonymous":
			continue
		default:
			return fail(fmt.Errorf("authmethods: unknown method %q", name))
		}
		if err != nil {
			return fail(err)
		}
		methods = append(methods, m)
	}
	s.Chain = NewChain(log, s.Anonymous, methods...)
	s.onlyInternal = len(methods) == 1 && s.Keys != nil
	return s, nil
}
