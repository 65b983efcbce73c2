package authmethods

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hermod-im/hermod/engine/config"
)

// HTTP is the http method, in the manner of MongooseIM's: GET (or POST) to
// base_url/check_password with user, server and pass, and base_url/user_exists with
// user and server. 200 with the body "true" or "false" answers; 401, 403 and 404 mean
// no; anything else, a timeout or a refused connection is a failure to answer.
type HTTP struct {
	base    string // without a trailing '/'
	method  string
	user    string // basic auth, when set
	pass    string
	domain  string
	timeout time.Duration
	client  *http.Client
}

// maxHTTPBody bounds what is read of an answer: "true" or "false" with some spaces.
const maxHTTPBody = 64

// NewHTTP returns the http method for domain. It opens no connection yet.
func NewHTTP(c config.AuthHTTP, domain string) (*HTTP, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http: base_url %q is not an http(s) URL", c.BaseURL)
	}
	m := &HTTP{
		base:    strings.TrimRight(c.BaseURL, "/"),
		method:  c.Method,
		domain:  domain,
		timeout: c.Timeout.D,
	}
	if m.method == "" {
		m.method = http.MethodGet
	}
	if m.timeout <= 0 {
		m.timeout = 5 * time.Second
	}
	if c.BasicAuth != "" {
		m.user, m.pass, _ = strings.Cut(c.BasicAuth, ":")
	}
	pool := max(c.PoolSize, 1)
	m.client = &http.Client{
		Timeout: m.timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // the service is the operator's: no environment proxy
			DialContext:           (&net.Dialer{Timeout: m.timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          pool,
			MaxIdleConnsPerHost:   pool,
			MaxConnsPerHost:       pool,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   m.timeout,
			ResponseHeaderTimeout: m.timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return m, nil
}

// Name implements Method.
func (*HTTP) Name() string { return "http" }

// Close implements Method: it drops the idle connections.
func (m *HTTP) Close() error {
	m.client.CloseIdleConnections()
	return nil
}

// CheckPassword implements Method.
func (m *HTTP) CheckPassword(ctx context.Context, user, password string) (bool, error) {
	return m.ask(ctx, "/check_password", url.Values{"user": {user}, "server": {m.domain}, "pass": {password}})
}

// UserExists implements Method.
func (m *HTTP) UserExists(ctx context.Context, user string) (bool, error) {
	return m.ask(ctx, "/user_exists", url.Values{"user": {user}, "server": {m.domain}})
}

// ask sends one request and reads the true/false answer.
func (m *HTTP) ask(ctx context.Context, path string, v url.Values) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var (
		req *http.Request
		err error
	)
	if m.method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, m.base+path, strings.NewReader(v.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, m.base+path+"?"+v.Encode(), nil)
	}
	if err != nil {
		return false, fmt.Errorf("http: %s: %w", path, err)
	}
	if m.user != "" {
		req.SetBasicAuth(m.user, m.pass)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		// The URL, which may carry the password, stays out of the error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return false, fmt.Errorf("http: %s %s: %w", m.method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	// Drain a little more so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	if err != nil {
		return false, fmt.Errorf("http: %s: reading the answer: %w", path, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("http: %s: status %d", path, resp.StatusCode)
	}
	switch string(bytes.TrimSpace(body)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("http: %s: answer %q is neither true nor false", path, truncate(body, 32))
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
