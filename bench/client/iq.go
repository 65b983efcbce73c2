package client

import (
	"bytes"
	"fmt"
	"time"
)

// IQ writes req, an iq stanza with id, and reads until the server's answer to it,
// skipping other stanzas. It returns a copy of the answer; an answer of type error is
// returned with an error. Call it from the reading goroutine, before any reader
// goroutine starts.
func (c *Conn) IQ(req []byte, id string, timeout time.Duration) ([]byte, error) {
	if err := c.rw.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, fmt.Errorf("client: iq %s: %w", id, err)
	}
	defer c.rw.SetDeadline(time.Time{})
	if err := c.Write(req); err != nil {
		return nil, err
	}
	for {
		s, err := c.ReadStanza()
		if err != nil {
			return nil, fmt.Errorf("client: iq %s: %w", id, err)
		}
		if string(s.Name) != "iq" || string(Attr(s.Raw, "id")) != id {
			continue
		}
		raw := bytes.Clone(s.Raw)
		if t := string(Attr(raw, "type")); t != "result" {
			return raw, fmt.Errorf("client: iq %s answered with type %q: %s", id, t, raw)
		}
		return raw, nil
	}
}
