package sasl

import (
	"context"
	"encoding/base64"
	"testing"
)

// blockWatch wraps a Server and fails the test when a step that Blocks called
// non-blocking reaches the credential sources.
type blockWatch struct {
	Server
	t      *testing.T
	lookup func() int
	steps  []bool // Blocks answers, in order
}

func (w *blockWatch) Step(ctx context.Context, in []byte) ([]byte, bool, error) {
	blocks := w.Blocks(in)
	w.steps = append(w.steps, blocks)
	before := w.lookup()
	out, done, err := w.Server.Step(ctx, in)
	if !blocks && w.lookup() != before {
		w.t.Errorf("step %d: Blocks said false but the step looked credentials up", len(w.steps))
	}
	return out, done, err
}

func TestBlocks(t *testing.T) {
	ks := newMemKeys()
	ks.set("juliet", "pw", []byte("0123456789abcdef"), 4096, SHA256)
	pw := &memPasswords{users: map[string]string{"romeo": "pw"}}
	lookups := func() int { ks.mu.Lock(); defer ks.mu.Unlock(); return ks.calls + len(pw.got) }
	ctx := context.Background()

	t.Run("SCRAM: first blocks, proof check does not", func(t *testing.T) {
		a := newTestAuth(t, ks, nil)
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		w := &blockWatch{Server: s, t: t, lookup: lookups}
		c := refClient{hashName: "SHA-256", user: "juliet", password: "pw", gs2Flag: "n", cnonce: "n0nce"}
		if err := runRef(t, w, &c); err != nil {
			t.Fatal(err)
		}
		if len(w.steps) != 2 || !w.steps[0] || w.steps[1] {
			t.Fatalf("Blocks answers %v, want [true false]", w.steps)
		}
	})
	t.Run("SCRAM: empty challenge does not block", func(t *testing.T) {
		a := newTestAuth(t, ks, nil)
		s, _ := a.NewServer(ScramSHA256, &Conn{})
		if s.Blocks(nil) != false || s.Blocks([]byte("n,,n=juliet,r=x")) != true {
			t.Fatal("fresh exchange")
		}
		if _, _, err := s.Step(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if !s.Blocks(nil) {
			t.Fatal("after the empty challenge the first message still looks keys up")
		}
	})
	t.Run("PLAIN: the check blocks", func(t *testing.T) {
		a := newTestAuth(t, nil, func(o *Options) { o.Keys, o.Hashes, o.Passwords, o.PlainWithoutTLS = nil, nil, pw, true })
		s, err := a.NewServer(Plain, &Conn{})
		if err != nil {
			t.Fatal(err)
		}
		w := &blockWatch{Server: s, t: t, lookup: lookups}
		if w.Blocks(nil) {
			t.Fatal("empty challenge blocks")
		}
		if _, _, err := w.Step(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, done, err := w.Step(ctx, []byte("\x00romeo\x00pw")); !done || err != nil {
			t.Fatalf("done=%v err=%v", done, err)
		}
		if len(w.steps) != 2 || w.steps[0] || !w.steps[1] {
			t.Fatalf("Blocks answers %v, want [false true]", w.steps)
		}
	})
	t.Run("ANONYMOUS never blocks", func(t *testing.T) {
		a := newTestAuth(t, ks, func(o *Options) { o.Anonymous = true })
		s, err := a.NewServer(Anonymous, &Conn{})
		if err != nil {
			t.Fatal(err)
		}
		trace := base64.StdEncoding.EncodeToString([]byte("trace"))
		if s.Blocks([]byte(trace)) || s.Blocks(nil) {
			t.Fatal("ANONYMOUS blocks")
		}
	})
}
