package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Limits of the API.
const (
	// DefaultListLimit is the page size when ?limit is absent.
	DefaultListLimit = 100
	// MaxListLimit caps ?limit.
	MaxListLimit = 10000
	// maxJSONBody caps a JSON request body.
	maxJSONBody = 64 << 10
	// MaxImportBody caps an import's CSV body (about 10 million rows).
	MaxImportBody = 1 << 30
)

// Options configure a Server.
type Options struct {
	// Addr is host:port to bind (config [admin] address).
	Addr string
	// Registry is served on /metrics; nil serves no /metrics.
	Registry *prometheus.Registry
	// Users serves /api/users; nil answers 503 there.
	Users Users
	// Health is called by /healthz; nil means healthy whenever the listener answers.
	Health func(ctx context.Context) error
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
}

// Server is the admin HTTP listener.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	srv  *http.Server

	mu   sync.Mutex
	ln   net.Listener
	done chan struct{}
	err  error
}

// New builds the server and its routes; it binds nothing until Start.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Registry != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{
			Registry:          opts.Registry, // its own errors counter, not the global one
			EnableOpenMetrics: true,
		}))
	}
	s.mux.HandleFunc("/debug/pprof/", pprof.Index)
	s.mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("POST /api/users", s.addUser)
	s.mux.HandleFunc("GET /api/users", s.listUsers)
	s.mux.HandleFunc("DELETE /api/users/{jid}", s.deleteUser)
	s.mux.HandleFunc("PUT /api/users/{jid}/password", s.setPassword)
	s.mux.HandleFunc("POST /api/users/import", s.importUsers)
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: /debug/pprof/profile takes 30 s and an import minutes.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s
}

// Handler returns the routes, for tests and for embedding behind another listener.
func (s *Server) Handler() http.Handler { return s.mux }

// Start binds Options.Addr and serves in a goroutine of its own. A bind failure is
// returned here, so start-up can stop on it. Call Start once, then Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("admin: listen %s: %w", s.opts.Addr, err)
	}
	s.mu.Lock()
	s.ln, s.done = ln, make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			s.err = fmt.Errorf("admin: serve: %w", err)
			s.mu.Unlock()
		}
	}()
	s.log.Info("admin listener started", "addr", ln.Addr().String())
	return nil
}

// Addr returns the bound address (useful with port 0), or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, waits for requests in flight until ctx is done, then
// closes what remains. It returns the serving error, if serving failed. Safe from
// any goroutine; a Server that was never started shuts down at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if err != nil {
		return fmt.Errorf("admin: shutdown: %w", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Health != nil {
		if err := s.opts.Health(r.Context()); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

type userRequest struct {
	JID      string `json:"jid"`
	Password string `json:"password"`
}

func (s *Server) users(w http.ResponseWriter) (Users, bool) {
	if s.opts.Users == nil {
		s.fail(w, fmt.Errorf("%w: this server has no account management", ErrUnavailable))
		return nil, false
	}
	return s.opts.Users, true
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users(w)
	if !ok {
		return
	}
	var req userRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.JID == "" || req.Password == "" {
		s.fail(w, fmt.Errorf("%w: jid and password are required", ErrInvalid))
		return
	}
	if err := u.AddUser(r.Context(), req.JID, req.Password); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users(w)
	if !ok {
		return
	}
	if err := u.DeleteUser(r.Context(), r.PathValue("jid")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users(w)
	if !ok {
		return
	}
	var req userRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Password == "" {
		s.fail(w, fmt.Errorf("%w: password is required", ErrInvalid))
		return
	}
	if err := u.SetPassword(r.Context(), r.PathValue("jid"), req.Password); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ListResponse is the body of GET /api/users.
type ListResponse struct {
	Domain string   `json:"domain"`
	Users  []string `json:"users"`
	// Next is the after value of the following page; "" when this page is the last.
	Next string `json:"next,omitempty"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	domain := q.Get("domain")
	if domain == "" {
		s.fail(w, fmt.Errorf("%w: the domain parameter is required", ErrInvalid))
		return
	}
	limit := DefaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			s.fail(w, fmt.Errorf("%w: limit must be a number from 1 to %d", ErrInvalid, MaxListLimit))
			return
		}
		limit = n
	}
	users, err := u.ListUsers(r.Context(), domain, q.Get("after"), limit)
	if err != nil {
		s.fail(w, err)
		return
	}
	resp := ListResponse{Domain: domain, Users: users}
	if resp.Users == nil {
		resp.Users = []string{}
	}
	if len(users) == limit {
		resp.Next = users[len(users)-1]
	}
	s.reply(w, http.StatusOK, resp)
}

func (s *Server) importUsers(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users(w)
	if !ok {
		return
	}
	body := http.MaxBytesReader(w, r.Body, MaxImportBody)
	res, err := u.ImportUsers(r.Context(), body)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.reply(w, http.StatusOK, res)
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.fail(w, fmt.Errorf("%w: body must be a JSON object: %v", ErrInvalid, err))
		return false
	}
	return true
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error string     `json:"error"`
	Rows  []RowError `json:"rows,omitempty"`
	More  int        `json:"more,omitempty"`
}

// fail maps err to a status: the error classes of this package first, then 500.
func (s *Server) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrExists):
		status = http.StatusConflict
	case errors.Is(err, ErrUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
	}
	body := errorBody{Error: err.Error()}
	var ie *ImportError
	if errors.As(err, &ie) {
		body.Error = fmt.Sprintf("import rejected, nothing written: %d bad row(s)", len(ie.Rows)+ie.More)
		body.Rows, body.More = ie.Rows, ie.More
	}
	if status == http.StatusInternalServerError {
		s.log.Error("admin request failed", "err", err)
	}
	s.reply(w, status, body)
}

func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug("admin reply not written", "err", err)
	}
}
