package xmlscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// streamHeader is the client stream header most tests start with.
const streamHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`

// rec is a token copied out of the buffer, with its absolute offset, so that
// runs with different chunkings and shifts can be compared.
type rec struct {
	Kind              Kind
	Depth             int
	Self, Stanza, End bool
	Prefix, Local     string
	Space             string
	Raw               string
	Stanza_           string
	Abs               int64
	Attrs             []Attr
}

func (r rec) String() string {
	var b strings.Builder
	switch r.Kind {
	case StartTag:
		fmt.Fprintf(&b, "S%d ", r.Depth)
	case EndTag:
		fmt.Fprintf(&b, "E%d ", r.Depth)
	case Text:
		fmt.Fprintf(&b, "T%d %q", r.Depth, r.Raw)
	case CDATA:
		fmt.Fprintf(&b, "C%d %q", r.Depth, r.Raw)
	}
	if r.Kind == StartTag || r.Kind == EndTag {
		if r.Prefix != "" {
			b.WriteString(r.Prefix + ":")
		}
		b.WriteString(r.Local)
		if r.Space != "" {
			b.WriteString("{" + r.Space + "}")
		}
		for _, a := range r.Attrs {
			b.WriteString(" ")
			if len(a.Prefix) > 0 {
				b.WriteString(string(a.Prefix) + ":")
			}
			b.WriteString(string(a.Local))
			if len(a.Space) > 0 && string(a.Space) != nsXMLNS {
				b.WriteString("{" + string(a.Space) + "}")
			}
			b.WriteString("=" + string(a.Value))
		}
	}
	if r.Self {
		b.WriteString(" /")
	}
	if r.Stanza {
		b.WriteString(" $")
	}
	if r.End {
		b.WriteString(" !")
	}
	return b.String()
}

func record(s *Scanner, t Token) rec {
	r := rec{
		Kind: t.Kind, Depth: t.Depth, Self: t.SelfClosing, Stanza: t.StanzaEnd, End: t.StreamEnd,
		Prefix: string(t.Prefix), Local: string(t.Local), Space: string(t.Space),
		Raw: string(t.Raw), Stanza_: string(t.Stanza), Abs: s.Offset() + int64(t.Start),
	}
	for i := 0; i < s.NumAttrs(); i++ {
		a := s.Attr(i)
		r.Attrs = append(r.Attrs, Attr{
			Prefix: []byte(string(a.Prefix)), Local: []byte(string(a.Local)),
			Space: []byte(string(a.Space)), Value: []byte(string(a.Value)),
		})
	}
	return r
}

// feed runs a caller loop over input delivered in chunks of the given sizes
// (the last size repeats; 0 means everything at once). After every token it
// drops what the scanner no longer needs, moving the remaining bytes to the
// front of the buffer as a real connection buffer would, so tokens must not
// depend on bytes that were shifted away. It returns the tokens, with
// adjacent depth-0 text outside stanzas merged (its split depends on
// chunking by design), and the final error (nil when input ran out).
func feed(tb testing.TB, s *Scanner, input []byte, sizes ...int) ([]rec, error) {
	tb.Helper()
	return feedWith(tb, s, (*Scanner).Next, input, sizes...)
}

// feedStanzas is feed with NextStanza.
func feedStanzas(tb testing.TB, s *Scanner, input []byte, sizes ...int) ([]rec, error) {
	tb.Helper()
	return feedWith(tb, s, (*Scanner).NextStanza, input, sizes...)
}

// feedWith is feed with the given read method.
func feedWith(tb testing.TB, s *Scanner, next func(*Scanner, []byte) (Token, error), input []byte, sizes ...int) ([]rec, error) {
	tb.Helper()
	var out []rec
	buf := make([]byte, 0, 64)
	rest := input
	k := 0
	for {
		n := len(rest)
		if len(sizes) > 0 {
			sz := sizes[min(k, len(sizes)-1)]
			if sz > 0 {
				n = min(n, sz)
			}
		}
		k++
		buf = append(buf, rest[:n]...)
		rest = rest[n:]
		for {
			t, err := next(s, buf)
			more := errors.Is(err, ErrNeedMore)
			if err != nil && !more {
				return merge(out), err
			}
			if !more {
				out = append(out, record(s, t))
				if t.Raw == nil || len(t.Raw) == 0 {
					tb.Fatalf("empty token %v", out[len(out)-1])
				}
			}
			// Drop what the scanner no longer needs, also in the middle
			// of a token when it needs more input.
			keep := s.Keep()
			copy(buf, buf[keep:])
			// Scribble over the vacated tail: nothing may still read it.
			for i := len(buf) - keep; i < len(buf); i++ {
				buf[i] = '!'
			}
			buf = buf[:len(buf)-keep]
			if err := s.Shift(keep); err != nil {
				tb.Fatalf("Shift(Keep()): %v", err)
			}
			if more {
				break
			}
		}
		if len(rest) == 0 {
			return merge(out), nil
		}
	}
}

// merge joins adjacent Text tokens that were handed out in pieces between
// stanzas.
func merge(in []rec) []rec {
	var out []rec
	for _, r := range in {
		if n := len(out); n > 0 && r.Kind == Text && out[n-1].Kind == Text &&
			out[n-1].Abs+int64(len(out[n-1].Raw)) == r.Abs {
			out[n-1].Raw += r.Raw
			continue
		}
		out = append(out, r)
	}
	return out
}

func strs(rs []rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

func errString(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%s@%d: %s", e.Code, e.Offset, e.Msg)
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
