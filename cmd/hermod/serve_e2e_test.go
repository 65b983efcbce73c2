package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// The whole binary in-process: serve with flag overrides, the user commands through
// the running server's admin API, an XMPP stream opened on the c2s listener, and a
// clean stop with exit code 0 when the context ends.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c2s, adm := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--domain", "example.com", "--c2s", c2s, "--admin", adm, "--data", dir},
			stdio{in: strings.NewReader(""), out: &logs, err: &logs})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + adm + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin listener never came up:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	expect(t, 0, "added juliet@example.com", "", "user", "add", "juliet@example.com", "pw", "--admin", adm)
	expect(t, 1, "not served", "", "user", "add", "romeo@localhost", "pw", "--admin", adm)
	if out := expect(t, 0, "", "", "user", "list", "example.com", "--admin", adm); out != "juliet@example.com\n" {
		t.Errorf("list = %q", out)
	}
	// The store is the running server's: direct access is refused with a pointer to --admin.
	expect(t, 1, "use --admin ADDR", "", "user", "list", "example.com", "--data", dir)

	conn, err := net.DialTimeout("tcp", c2s, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = conn.Write([]byte(`<?xml version='1.0'?><stream:stream to='example.com' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("</stream:features>")) {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading features: %v; got %q", err, got)
		}
	}
	conn.Close()
	if !bytes.Contains(got, []byte("from='example.com'")) && !bytes.Contains(got, []byte(`from="example.com"`)) {
		t.Errorf("stream header does not come from example.com: %q", got)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// A second server on the same ports fails to start with exit code 1.
func TestServeStartFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errs := hermod(t, "", "serve", "--c2s", "127.0.0.1:"+freePort(t), "--admin", ln.Addr().String(), "--data", t.TempDir())
	if code != 1 || !strings.Contains(errs, "address already in use") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
