package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/admin/accounts"
	"github.com/hermod-im/hermod/engine/metrics"
)

type fixture struct {
	srv   *httptest.Server
	store *memory.Store
	m     *metrics.Metrics
}

func newFixture(t *testing.T, mod func(*admin.Options)) *fixture {
	t.Helper()
	st := memory.New()
	mgr, err := accounts.New(accounts.Options{
		Store:      st,
		Iterations: func(string) int { return 4096 },
		Hosts:      []string{"example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{})
	o := admin.Options{Registry: m.Registry(), Users: mgr}
	if mod != nil {
		mod(&o)
	}
	hs := httptest.NewServer(admin.New(o).Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = st.Close()
	})
	return &fixture{srv: hs, store: st, m: m}
}

func (f *fixture) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthMetricsPprof(t *testing.T) {
	f := newFixture(t, nil)
	f.m.SessionOpened()
	tests := []struct {
		method, path string
		status       int
		contains     string
	}{
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/metrics", 200, "hermod_sessions 1"},
		{"GET", "/metrics", 200, "go_goroutines"},
		{"GET", "/debug/pprof/", 200, "goroutine"},
		{"GET", "/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"GET", "/debug/pprof/cmdline", 200, ""},
		{"GET", "/nothing", 404, ""},
		{"POST", "/healthz", 405, ""},
	}
	for _, tt := range tests {
		status, body := f.do(t, tt.method, tt.path, "")
		if status != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s = %d %.80q, want %d containing %q", tt.method, tt.path, status, body, tt.status, tt.contains)
		}
	}
}

func TestUnhealthy(t *testing.T) {
	f := newFixture(t, func(o *admin.Options) {
		o.Health = func(context.Context) error { return errors.New("store closed") }
		o.Registry = nil
	})
	if status, body := f.do(t, "GET", "/healthz", ""); status != 503 || !strings.Contains(body, "store closed") {
		t.Errorf("healthz = %d %q", status, body)
	}
	if status, _ := f.do(t, "GET", "/metrics", ""); status != 404 {
		t.Errorf("/metrics without a registry = %d", status)
	}
}

func TestUserAPI(t *testing.T) {
	f := newFixture(t, nil)
	steps := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"POST", "/api/users", `{"jid":"Alice@example.com","password":"pw"}`, 201, ""},
		{"POST", "/api/users", `{"jid":"alice@example.com","password":"pw"}`, 409, "already exists"},
		{"POST", "/api/users", `{"jid":"bob@example.com"}`, 400, "required"},
		{"POST", "/api/users", `{"jid":"bob@example.com","password":"pw","admin":true}`, 400, "unknown field"},
		{"POST", "/api/users", `not json`, 400, "JSON"},
		{"POST", "/api/users", `{"jid":"bob@elsewhere.example","password":"pw"}`, 400, "not served"},
		{"POST", "/api/users", `{"jid":"bob@example.com","password":"pw"}`, 201, ""},
		{"PUT", "/api/users/alice@example.com/password", `{"password":"new"}`, 204, ""},
		{"PUT", "/api/users/zed@example.com/password", `{"password":"new"}`, 404, "no such account"},
		{"PUT", "/api/users/alice@example.com/password", `{}`, 400, "required"},
		{"GET", "/api/users?domain=example.com&limit=1", "", 200, `{"domain":"example.com","users":["alice"],"next":"alice"}`},
		{"GET", "/api/users?domain=example.com&after=alice", "", 200, `{"domain":"example.com","users":["bob"]}`},
		{"GET", "/api/users?domain=example.com&after=bob", "", 200, `"users":[]`},
		{"GET", "/api/users?domain=example.com&limit=0", "", 400, "limit"},
		{"GET", "/api/users?domain=example.com&limit=x", "", 400, "limit"},
		{"GET", "/api/users", "", 400, "domain"},
		{"DELETE", "/api/users/bob@example.com", "", 204, ""},
		{"DELETE", "/api/users/bob@example.com", "", 404, "no such account"},
		{"DELETE", "/api/users/bob@example.com%2Fres", "", 400, "resource"},
		{"POST", "/api/users/import", "c@example.com,1\nd@example.com,2\n", 200, `{"imported":2}`},
		{"POST", "/api/users/import", "e@example.com,1\nbad\n", 400, `"rows":[{"line":2,`},
		{"GET", "/api/users?domain=example.com", "", 200, `"users":["alice","c","d"]`},
	}
	for _, s := range steps {
		status, body := f.do(t, s.method, s.path, s.body)
		if status != s.status || !strings.Contains(body, s.contains) {
			t.Errorf("%s %s %s = %d %s, want %d containing %s", s.method, s.path, s.body, status, body, s.status, s.contains)
		}
		if status >= 400 {
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("%s %s: error body %q is not {\"error\": ...}", s.method, s.path, body)
			}
		}
	}
}

func TestNoUsers(t *testing.T) {
	f := newFixture(t, func(o *admin.Options) { o.Users = nil })
	if status, _ := f.do(t, "POST", "/api/users", `{"jid":"a@example.com","password":"pw"}`); status != 503 {
		t.Errorf("status %d, want 503", status)
	}
}

func TestClient(t *testing.T) {
	f := newFixture(t, nil)
	c := admin.NewClient(f.srv.URL, f.srv.Client())
	ctx := context.Background()
	if err := c.AddUser(ctx, "a@example.com", "pw"); err != nil {
		t.Fatal(err)
	}
	err := c.AddUser(ctx, "a@example.com", "pw")
	if !errors.Is(err, admin.ErrExists) || !admin.IsRemote(err) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate AddUser = %v", err)
	}
	if err := c.AddUser(ctx, "a@nowhere.example", "pw"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("unserved AddUser = %v", err)
	}
	if err := c.SetPassword(ctx, "a@example.com", "pw2"); err != nil {
		t.Error(err)
	}
	if err := c.SetPassword(ctx, "x@example.com", "pw2"); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("SetPassword(absent) = %v", err)
	}
	res, err := c.ImportUsers(ctx, strings.NewReader("b@example.com,1\n"))
	if err != nil || res.Imported != 1 {
		t.Errorf("ImportUsers = %+v, %v", res, err)
	}
	_, err = c.ImportUsers(ctx, strings.NewReader("b@example.com,1\nnot-a-jid,2\n"))
	var ie *admin.ImportError
	if !errors.As(err, &ie) || ie.Rows[0].Line != 2 || !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("bad ImportUsers = %v", err)
	}
	users, err := c.ListUsers(ctx, "example.com", "", 10)
	if err != nil || strings.Join(users, ",") != "a,b" {
		t.Errorf("ListUsers = %v, %v", users, err)
	}
	if err := c.DeleteUser(ctx, "a@example.com"); err != nil {
		t.Error(err)
	}
	if err := c.DeleteUser(ctx, "a@example.com"); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("DeleteUser(absent) = %v", err)
	}
	// A host:port address works as well as a URL.
	c2 := admin.NewClient(strings.TrimPrefix(f.srv.URL, "http://"), nil)
	if _, err := c2.ListUsers(ctx, "example.com", "", 1); err != nil {
		t.Errorf("host:port client: %v", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	addr := hs.URL
	hs.Close()
	err := admin.NewClient(addr, nil).AddUser(context.Background(), "a@example.com", "pw")
	if err == nil || admin.IsRemote(err) {
		t.Errorf("AddUser to a closed server = %v", err)
	}
}

func TestStartShutdown(t *testing.T) {
	s := admin.New(admin.Options{Addr: "127.0.0.1:0"})
	if s.Addr() != nil {
		t.Error("Addr before Start")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
	// A second server on the same address fails at Start, not later.
	if err := admin.New(admin.Options{Addr: s.Addr().String()}).Start(); err == nil {
		t.Error("second Start on a bound address succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.Addr().String() + "/healthz"); err == nil {
		t.Error("still serving after Shutdown")
	}
	if err := admin.New(admin.Options{}).Shutdown(ctx); err != nil {
		t.Errorf("Shutdown of an unstarted server = %v", err)
	}
}
