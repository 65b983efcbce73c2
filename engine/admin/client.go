package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client calls a running server's admin API; it implements Users, so the CLI runs
// the same code against a running server as against a store it opened itself.
// A Client is safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
}

var _ Users = (*Client)(nil)

// NewClient returns a client for the admin listener at addr ("127.0.0.1:8088" or a
// full "http://host:port" URL). hc nil means http.DefaultClient; no timeout is set
// by default because an import may run for minutes (use the context).
func NewClient(addr string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := strings.TrimRight(addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{base: base, hc: hc}
}

// AddUser implements Users with POST /api/users.
func (c *Client) AddUser(ctx context.Context, jid, password string) error {
	return c.do(ctx, http.MethodPost, "/api/users", jsonBody(userRequest{JID: jid, Password: password}), "application/json", http.StatusCreated, nil)
}

// DeleteUser implements Users with DELETE /api/users/{jid}.
func (c *Client) DeleteUser(ctx context.Context, jid string) error {
	return c.do(ctx, http.MethodDelete, "/api/users/"+url.PathEscape(jid), nil, "", http.StatusNoContent, nil)
}

// SetPassword implements Users with PUT /api/users/{jid}/password.
func (c *Client) SetPassword(ctx context.Context, jid, password string) error {
	return c.do(ctx, http.MethodPut, "/api/users/"+url.PathEscape(jid)+"/password", jsonBody(userRequest{Password: password}), "application/json", http.StatusNoContent, nil)
}

// ListUsers implements Users with GET /api/users.
func (c *Client) ListUsers(ctx context.Context, domain, after string, limit int) ([]string, error) {
	q := url.Values{"domain": {domain}, "limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	var resp ListResponse
	if err := c.do(ctx, http.MethodGet, "/api/users?"+q.Encode(), nil, "", http.StatusOK, &resp); err != nil {
		return nil, err
	}
	return resp.Users, nil
}

// ImportUsers implements Users with POST /api/users/import, streaming csv as the body.
func (c *Client) ImportUsers(ctx context.Context, csv io.Reader) (ImportResult, error) {
	var res ImportResult
	err := c.do(ctx, http.MethodPost, "/api/users/import", csv, "text/csv", http.StatusOK, &res)
	return res, err
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v) // a struct of strings always marshals
	return bytes.NewReader(b)
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, ctype string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin client: %s %s: %w", method, c.base+path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin client: read response: %w", err)
	}
	if resp.StatusCode != want {
		return responseError(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("admin client: decode response: %w", err)
		}
	}
	return nil
}

// responseError rebuilds the server's error with its class, so callers test it with
// errors.Is exactly as they would against a local Users.
func responseError(status int, data []byte) error {
	var body errorBody
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		msg = body.Error
	}
	if len(body.Rows) > 0 {
		return &ImportError{Rows: body.Rows, More: body.More}
	}
	var class error
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		class = ErrInvalid
	case http.StatusNotFound:
		class = ErrNotFound
	case http.StatusConflict:
		class = ErrExists
	case http.StatusServiceUnavailable:
		class = ErrUnavailable
	default:
		return fmt.Errorf("admin server: %d %s: %s", status, http.StatusText(status), msg)
	}
	return &remoteError{class: class, msg: msg}
}

// remoteError carries the server's message and the error class it mapped to.
type remoteError struct {
	class error
	msg   string
}

func (e *remoteError) Error() string { return "admin server: " + e.msg }
func (e *remoteError) Unwrap() error { return e.class }

// IsRemote reports whether err came back from an admin server (as opposed to a
// connection failure), for messages such as "is the server running?".
func IsRemote(err error) bool {
	var re *remoteError
	var ie *ImportError
	return errors.As(err, &re) || errors.As(err, &ie)
}
