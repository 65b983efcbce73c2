package engine

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/puzpuzpuz/xsync/v4"
	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/authmethods"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/metrics"
	"github.com/hermod-im/hermod/engine/router"
	"github.com/hermod-im/hermod/engine/sasl"
	"github.com/hermod-im/hermod/engine/tlsconn"
	"github.com/hermod-im/hermod/stanza"
	"github.com/hermod-im/hermod/stanza/jid"
	"github.com/hermod-im/hermod/xmlscan"
)

// listener is one configured client listener.
type listener struct {
	addr   string // host:port as configured
	port   int
	tls    tlsMode
	limits xmlscan.Limits
	// checkpoints are the scanner states of the usual client stream headers, which
	// an idle connection's scanner may be parked in (conn.park).
	checkpoints      []*xmlscan.Checkpoint
	handshakeTimeout time.Duration
	authTimeout      time.Duration
	idleTimeout      time.Duration
	maxConns         int
	conns            atomic.Int64
	meter            *metrics.Listener // nil-safe
}

type tlsMode uint8

const (
	tlsOff tlsMode = iota
	tlsOptional
	tlsRequired
	tlsDirect
)

// Server is a running Hermod instance: the gnet engine serving every client listener,
// the session table, the worker pool and the store.
type Server struct {
	gnet.BuiltinEventEngine

	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	cfg    *config.Config

	hosts         map[string]bool
	defaultDomain string
	auth          map[string]*sasl.Authenticator
	authMethods   map[string]*authmethods.Set // closed when Serve returns
	store         backends.Store
	releasers     []backends.MemoryReleaser // trimmed with the heap (trim.go)
	sessions      *router.Table[*conn]
	workers       *workers
	certs         *certStore
	tlsConfig     *tls.Config
	startTLS      *tlsconn.Acceptor // STARTTLS listeners
	directTLS     *tlsconn.Acceptor // direct TLS listeners (XEP-0368, ALPN xmpp-client)
	metrics       *metrics.Metrics
	listeners     []*listener
	hostAPI       map[string]*Host
	factories     map[string]ModuleFactory
	conns         *xsync.Map[*conn, struct{}]
	readBufs      sync.Pool
	stanzas       sync.Pool // *Stanza handed to hooks

	replaceOnConflict bool
	maxAuthFailures   int
	shuttingDown      atomic.Bool
	// reads counts the reads that brought client bytes, for the trimmer's idea of
	// how busy the server is.
	reads  atomic.Int64
	engine gnet.Engine
	booted chan struct{}
}

// Options are what Run needs besides the configuration.
type Options struct {
	// Store is the storage backend; the caller opens and closes it.
	Store backends.Store
	// Metrics receives the server's measurements; nil disables them.
	Metrics *metrics.Metrics
	// Modules are the module constructors by configured name ("mod_roster"); a module
	// the configuration enables must be here.
	Modules map[string]ModuleFactory
	// Engines are the storage engines behind Store (engine/stores), for the
	// maintenance the server does on them; none means Store alone.
	Engines []backends.Store
}

// New prepares a server from a validated configuration without starting it.
func New(cfg *config.Config, log *slog.Logger, opts Options) (*Server, error) {
	s := &Server{
		log:               log,
		cfg:               cfg,
		hosts:             map[string]bool{},
		auth:              map[string]*sasl.Authenticator{},
		authMethods:       map[string]*authmethods.Set{},
		store:             opts.Store,
		sessions:          router.New[*conn](),
		conns:             xsync.NewMap[*conn, struct{}](),
		replaceOnConflict: cfg.Session.Conflict != config.ConflictRefuse,
		metrics:           opts.Metrics,
		booted:            make(chan struct{}),
		factories:         opts.Modules,
		releasers:         memoryReleasers(opts.Store, opts.Engines),
	}
	s.readBufs.New = func() any { return new(readBuf) }
	s.stanzas.New = func() any { return new(Stanza) }
	for i, h := range cfg.General.Hosts {
		d, err := jid.Parse(h)
		if err != nil || d.Localpart() != "" || d.Resourcepart() != "" {
			return nil, fmt.Errorf("engine: host %q is not a domain", h)
		}
		s.hosts[d.Domainpart()] = true
		if i == 0 {
			s.defaultDomain = d.Domainpart()
		}
	}
	certs, err := newCertStore(cfg, log)
	if err != nil {
		return nil, err
	}
	s.certs = certs
	s.tlsConfig = certs.tlsConfig()
	if err := tlsconn.SelfCheck(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	limiter := tlsconn.NewLimiter(0, 0)
	if s.startTLS, err = tlsconn.NewAcceptor(s.tlsConfig, tlsconn.Options{Limiter: limiter}); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	direct := s.tlsConfig.Clone()
	direct.NextProtos = []string{"xmpp-client"}
	if s.directTLS, err = tlsconn.NewAcceptor(direct, tlsconn.Options{Limiter: limiter}); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	secret, err := loadSecret(cfg.General.DataDir)
	if err != nil {
		return nil, err
	}
	for domain := range s.hosts {
		a, methods, err := newAuthenticator(cfg.AuthFor(domain), domain, timeAccounts(s.store, s.metrics), secret, log)
		if err != nil {
			s.closeAuthMethods()
			return nil, fmt.Errorf("engine: auth for %s: %w", domain, err)
		}
		s.auth[domain] = a
		s.authMethods[domain] = methods
	}
	s.maxAuthFailures = max(cfg.Auth.MaxFailedAttempts, 1)
	for _, l := range cfg.Listen.C2S {
		nl := newListener(l, cfg.Limits)
		nl.meter = s.metrics.Listener(nl.addr)
		s.listeners = append(s.listeners, nl)
	}
	return s, nil
}

func newListener(l config.C2S, lim config.Limits) *listener {
	mode := tlsOptional
	switch l.TLS {
	case config.TLSStartTLSRequired:
		mode = tlsRequired
	case config.TLSDirect:
		mode = tlsDirect
	case config.TLSNone:
		mode = tlsOff
	}
	lis := &listener{
		addr: net.JoinHostPort(l.Address, strconv.Itoa(l.Port)),
		port: l.Port,
		tls:  mode,
		limits: xmlscan.Limits{
			MaxDepth:       lim.MaxDepth,
			MaxAttrs:       lim.MaxAttrs,
			MaxNameLen:     lim.MaxNameLen,
			MaxStanzaBytes: l.MaxStanzaSize,
		},
		handshakeTimeout: l.HandshakeTimeout.D,
		authTimeout:      l.AuthTimeout.D,
		idleTimeout:      l.IdleTimeout.D,
		maxConns:         l.MaxConnections,
	}
	// The client stream headers whose scanner state idle connections may share
	// (conn.park): the two namespace declarations every client makes, in either
	// order; attributes such as to, version and xml:lang leave no state behind.
	for _, h := range []string{
		`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
		`<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>`,
	} {
		// Constant, well-formed headers: an error means the configured limits
		// cannot hold them, and then nothing is parked.
		if cp, err := xmlscan.NewCheckpoint(lis.limits, []byte(h)); err == nil {
			lis.checkpoints = append(lis.checkpoints, cp)
		}
	}
	return lis
}

// newAuthenticator builds the SASL policy of one domain over its configured
// authentication methods, with the mechanisms the operator allows: SCRAM only when the
// internal method (stored keys) is listed, PLAIN when any password method is, ANONYMOUS
// when the anonymous method is (whether or not sasl_mechanisms names it).
func newAuthenticator(a config.Auth, domain string, store backends.Accounts, secret []byte, log *slog.Logger) (*sasl.Authenticator, *authmethods.Set, error) {
	var mechs []sasl.Mechanism
	for _, name := range a.SASLMechanisms {
		m, ok := sasl.ParseMechanism([]byte(name))
		if !ok {
			return nil, nil, fmt.Errorf("unknown SASL mechanism %q", name)
		}
		mechs = append(mechs, m)
	}
	methods, err := authmethods.New(a, domain, store, secret, log.With("host", domain))
	if err != nil {
		return nil, nil, err
	}
	if methods.Anonymous != nil && !slices.Contains(mechs, sasl.Anonymous) {
		mechs = append(mechs, sasl.Anonymous)
	}
	o := sasl.Options{
		Passwords:  methods.Passwords(),
		Anonymous:  methods.Anonymous != nil,
		Iterations: a.ScramIterations,
		Mechanisms: mechs,
		Secret:     secret,
		// The operator decides with the listener's tls mode: starttls_required and
		// direct listeners never see SASL in the clear.
		PlainWithoutTLS: true,
	}
	if methods.Keys != nil {
		o.Keys = methods.Keys
		o.Hashes = []sasl.Hash{sasl.SHA256, sasl.SHA1, sasl.SHA512}
	}
	auth, err := sasl.NewAuthenticator(o)
	if err != nil {
		_ = methods.Close()
		return nil, nil, err
	}
	return auth, methods, nil
}

// loadSecret returns the data directory's server secret, creating it on first start.
// SCRAM derives the fake salts of unknown users from it: it must stay the same across
// restarts, or comparing salts would tell which accounts exist.
func loadSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "server.secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("engine: data dir: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("engine: secret: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("engine: write secret: %w", err)
	}
	return b, nil
}

// portsFree reports whether every listener may bind with SO_REUSEPORT. Sockets that
// share a port that way all get connections, so a second server started on a port in
// use would quietly take half of them: each address is first bound without the
// option, which fails as usual when anything listens there. A port of 0 cannot be
// shared (each loop would get a port of its own), so it turns the option off.
func (s *Server) portsFree() (bool, error) {
	reuse := true
	for _, l := range s.listeners {
		if _, port, _ := net.SplitHostPort(l.addr); port == "0" {
			reuse = false
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return false, fmt.Errorf("engine: listen: %w", err)
		}
		if err := ln.Close(); err != nil {
			return false, fmt.Errorf("engine: listen: %w", err)
		}
	}
	return reuse, nil
}

// Serve runs the server until ctx ends, then shuts down gracefully: new connections
// are refused, every client gets <system-shutdown/>, and Serve returns once the
// connections are gone or the shutdown timeout has passed.
func (s *Server) Serve(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer s.cancel()
	defer s.closeAuthMethods()
	s.workers = newWorkers(s.cfg.Workers.EffectiveSize(), s.cfg.Workers.Queue)
	defer s.workers.close()
	if err := s.startModules(s.factories); err != nil {
		return err
	}
	defer s.stopModules()

	addrs := make([]string, len(s.listeners))
	for i, l := range s.listeners {
		addrs[i] = "tcp://" + l.addr
	}
	reusePort, err := s.portsFree()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Rotate(s, addrs,
			gnet.WithMulticore(true),
			gnet.WithReuseAddr(true),
			// Each loop accepts on its own socket: the kernel spreads connections over
			// them, and no accepted connection is handed from an acceptor loop to
			// another (an eventfd write and a wake-up per connection otherwise).
			gnet.WithReusePort(reusePort),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithTCPKeepAlive(5*time.Minute),
			gnet.WithLogger(gnetLogger{s.log}),
		)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("engine: listen: %w", err)
	case <-s.booted:
	}
	for _, l := range s.listeners {
		s.log.Info("c2s listening", "addr", l.addr, "tls", l.tls.String())
	}
	sweepDone := make(chan struct{})
	go s.sweep(sweepDone)
	defer close(sweepDone)

	select {
	case err := <-errc:
		return fmt.Errorf("engine: %w", err)
	case <-ctx.Done():
	}
	s.shutdown()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.engine.Stop(stopCtx); err != nil {
		s.log.Warn("engine stop", "err", err)
	}
	<-errc
	// The session-closed hooks of the last connections finish before the modules
	// stop, so that what they hand a module (mod_last's logouts) is written.
	s.workers.close()
	return nil
}

// shutdown tells every client the server is going away and waits, bounded, for the
// connections to close.
func (s *Server) shutdown() {
	s.shuttingDown.Store(true)
	s.log.Info("shutting down", "connections", s.conns.Size())
	s.conns.Range(func(c *conn, _ struct{}) bool {
		c.post(func() {
			c.streamError(stanza.StreamError{Condition: stanza.StreamSystemShutdown})
		})
		return true
	})
	deadline := time.Now().Add(max(s.cfg.General.ShutdownTimeout.D, time.Second))
	for s.conns.Size() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.cancel()
}

// sweep times out connections whose deadline has passed. One goroutine for all
// connections: a per-connection timer would cost memory on every idle session.
func (s *Server) sweep(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	// A connection is compacted after one to two idleSweeps periods without traffic.
	const idleSweeps = 5
	tick := 0
	trim := newTrimmer()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			n := now.UnixNano()
			tick++
			idleCheck := tick%idleSweeps == 0
			s.conns.Range(func(c *conn, _ struct{}) bool {
				if d := c.deadline.Load(); d != 0 && d < n {
					c.deadline.Store(0)
					c.post(c.timedOut)
				}
				if idleCheck {
					switch c.idle.Load() {
					case idleActive:
						c.idle.Store(idleMarked)
					case idleMarked:
						c.idle.Store(idleCompacted)
						c.post(c.compact)
						trim.compacted(now)
					}
				}
				return true
			})
			trim.observe(now, s.reads.Load(), s.conns.Size())
			if trim.tick(now) {
				for _, r := range s.releasers {
					if err := r.ReleaseMemory(); err != nil {
						s.log.Warn("releasing the store's memory", "err", err)
					}
				}
				s.log.Debug("returned free memory to the OS after compacting idle connections")
			}
		}
	}
}

// maxHeld bounds the input a connection may hold unscanned while an asynchronous step
// (SASL, session set-up) is pending: twice the largest stanza, at least 64 KiB.
func (l *listener) maxHeld() int { return max(64<<10, 2*l.limits.MaxStanzaBytes) }

// OnBoot records the gnet engine. It runs on gnet's main goroutine.
func (s *Server) OnBoot(e gnet.Engine) gnet.Action {
	s.engine = e
	close(s.booted)
	return gnet.None
}

// OnOpen accepts a client connection. On its event loop.
func (s *Server) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	if s.shuttingDown.Load() {
		return nil, gnet.Close
	}
	l := s.listenerFor(gc.LocalAddr())
	if l == nil {
		return nil, gnet.Close
	}
	if l.maxConns > 0 && l.conns.Load() >= int64(l.maxConns) {
		return nil, gnet.Close
	}
	l.conns.Add(1)
	c := &conn{srv: s, gc: gc, lis: l, sc: xmlscan.New(l.limits)}
	gc.SetContext(c)
	s.conns.Store(c, struct{}{})
	l.meter.ConnOpened()
	c.setDeadline(l.handshakeTimeout)
	if l.tls == tlsDirect {
		c.beginTLS(nil)
	}
	return nil, gnet.None
}

// OnTraffic reads what arrived, or runs what was posted when the loop was woken.
func (s *Server) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	data, _ := gc.Next(-1)
	if c.stream.bound && len(data) > 0 {
		c.setDeadline(c.lis.idleTimeout)
	}
	c.onTraffic(data)
	return gnet.None
}

// OnClose releases the connection: its session leaves the table. On its event loop.
func (s *Server) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	c.mu.Lock()
	c.dead = true
	if c.wq != nil {
		bytebufferpool.Put(c.wq)
		c.wq = nil
	}
	if c.outq != nil {
		bytebufferpool.Put(c.outq)
		c.outq = nil
	}
	c.tasks = nil
	c.mu.Unlock()
	c.closing = true
	c.in = nil
	if c.stream.bound {
		if !c.stream.replaced {
			// A replaced session's JID is the new session's: telling the user's other
			// resources it went away would be false.
			c.broadcastGone()
		}
		s.sessions.Unbind(c.stream.bare(), c)
		s.metrics.SessionClosed()
		c.stream.bound = false
		if h := c.host; h != nil && len(h.closed) > 0 {
			sess := c.session()
			if !s.workers.submit(func() { runSessionHooks(s.ctx, h.closed, sess) }) {
				h.log.Warn("session-closed hooks dropped: worker queue full", "jid", c.stream.jid.String())
			}
		}
	}
	if c.tls != nil {
		c.tls.Abort()
	}
	c.lis.conns.Add(-1)
	s.conns.Delete(c)
	c.lis.meter.ConnClosed()
	return gnet.None
}

func (s *Server) listenerFor(a net.Addr) *listener {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return nil
	}
	for _, l := range s.listeners {
		if l.port == ta.Port {
			return l
		}
	}
	return nil
}

// servedDomain normalises a stream header's 'to' and reports whether it is served.
func (s *Server) servedDomain(to []byte) (string, bool) {
	if len(to) == 0 {
		return "", false
	}
	d, err := jid.Parse(string(to))
	if err != nil || d.Localpart() != "" || d.Resourcepart() != "" {
		return "", false
	}
	return d.Domainpart(), s.hosts[d.Domainpart()]
}

// serves reports whether domain (normalised) is one of ours.
func (s *Server) serves(domain string) bool { return s.hosts[domain] }

func (s *Server) authenticator(domain string) *sasl.Authenticator { return s.auth[domain] }

// ReloadCertificates reads the TLS certificates again (SIGHUP). Safe from any
// goroutine; connections already established keep theirs.
func (s *Server) ReloadCertificates() error { return s.certs.reload() }

// timedOut ends a stream whose negotiation or idle deadline passed. On the loop.
func (c *conn) timedOut() {
	if c.tlsState == tlsHandshake {
		// The peer expects TLS records now: a plaintext stream error would only
		// corrupt them. The handshake ran out of time; close the socket.
		c.abort()
		return
	}
	c.streamError(stanza.StreamError{Condition: stanza.StreamConnectionTimeout})
}

func (m tlsMode) String() string {
	switch m {
	case tlsOptional:
		return "starttls"
	case tlsRequired:
		return "starttls_required"
	case tlsDirect:
		return "direct"
	}
	return "none"
}

// gnetLogger sends gnet's own log lines to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "src", "gnet") }
