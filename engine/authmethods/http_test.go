package authmethods

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/config"
)

// authService is a MongooseIM-style http auth service knowing alice@example.com with
// password "secret"; it records the method and basic-auth user of each request.
func authService(t *testing.T, requests *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != "hermod" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		user, server, pass := r.Form.Get("user"), r.Form.Get("server"), r.Form.Get("pass")
		known := user == "alice" && server == "example.com"
		switch r.URL.Path {
		case "/auth/check_password":
			if known && pass == "secret" {
				_, _ = w.Write([]byte("true"))
				return
			}
			_, _ = w.Write([]byte("false"))
		case "/auth/user_exists":
			if known {
				_, _ = w.Write([]byte("true\n"))
				return
			}
			_, _ = w.Write([]byte("false"))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpMethod(t *testing.T, base, method string, timeout time.Duration) *HTTP {
	t.Helper()
	m, err := NewHTTP(config.AuthHTTP{BaseURL: base, Method: method, BasicAuth: "hermod:s3cret", Timeout: dur(timeout), PoolSize: 4}, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestHTTP(t *testing.T) {
	var n atomic.Int64
	srv := authService(t, &n)
	for _, method := range []string{"GET", "POST"} {
		m := httpMethod(t, srv.URL+"/auth/", method, 2*time.Second)
		checkMethod(t, m, []passwordCase{
			{"alice", "secret", true},
			{"alice", "wrong", false},
			{"bob", "secret", false},
			{"alice", "secret&user=x", false}, // encoded, not injected
		}, map[string]bool{"alice": true, "bob": false})
	}
	if n.Load() != 2*6 {
		t.Errorf("%d requests reached the service, want 12", n.Load())
	}
	// Without basic auth the service says 401: a no, not a failure.
	m, err := NewHTTP(config.AuthHTTP{BaseURL: srv.URL + "/auth", Method: "GET", Timeout: dur(time.Second), PoolSize: 1}, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if ok, err := m.CheckPassword(context.Background(), "alice", "secret"); ok || err != nil {
		t.Errorf("401 answer: %v, %v; want false, nil", ok, err)
	}
}

// A service that cannot answer fails the check with an error, within the timeout.
func TestHTTPFailures(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("true")) // a 500 never counts, whatever its body
	}))
	defer fail.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("yes", 100)))
	}))
	defer garbage.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()

	for _, tc := range []struct{ name, url string }{
		{"hangs", hang.URL}, {"500", fail.URL}, {"garbage", garbage.URL}, {"refused", refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := httpMethod(t, tc.url, "GET", 300*time.Millisecond)
			start := time.Now()
			ok, err := m.CheckPassword(context.Background(), "alice", "secret")
			if ok || err == nil {
				t.Fatalf("CheckPassword = %v, %v; want an error", ok, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v with a 300ms timeout", d)
			}
			if tc.name == "hangs" && !errors.Is(err, context.DeadlineExceeded) {
				t.Logf("hang error: %v", err)
			}
		})
	}
}

// Requests share at most pool_size kept-alive connections.
func TestHTTPPool(t *testing.T) {
	var n, conns atomic.Int64
	srv := httptest.NewUnstartedServer(authService(t, &n).Config.Handler)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	m := httpMethod(t, srv.URL+"/auth", "POST", 5*time.Second) // pool_size 4
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if ok, err := m.CheckPassword(context.Background(), "alice", "secret"); !ok || err != nil {
					t.Errorf("CheckPassword = %v, %v", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if c := conns.Load(); c > 4 || c < 1 {
		t.Errorf("%d connections for 200 requests with pool_size 4", c)
	}
}
