package mysql

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

func TestPing(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping on a running server: %v", err)
	}
	// A store whose server is gone: nothing listens on port 1.
	down, err := Open(context.Background(), Options{DSN: "root@tcp(127.0.0.1:1)/test", QueryTimeout: time.Second})
	if err == nil {
		defer down.Close()
		if err := down.Ping(context.Background()); !errors.Is(err, backends.ErrUnavailable) {
			t.Fatalf("Ping with the server down: %v, want ErrUnavailable", err)
		}
	} else if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Open with the server down: %v, want ErrUnavailable", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); !errors.Is(err, backends.ErrClosed) {
		t.Fatalf("Ping after Close: %v, want ErrClosed", err)
	}
}
