package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestWithClientNS(t *testing.T) {
	for in, want := range map[string]string{
		"<presence/>": "<presence xmlns='jabber:client'/>",
		"<message to='a@b'><body>x</body></message>":       "<message xmlns='jabber:client' to='a@b'><body>x</body></message>",
		"<iq type='get' id='1'/>":                          "<iq xmlns='jabber:client' type='get' id='1'/>",
		"<iq xmlns='jabber:client' id='1'/>":               "<iq xmlns='jabber:client' id='1'/>",
		"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>": "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
		"<messagex/>": "<messagex/>",
		"":            "",
	} {
		if got := string(withClientNS([]byte(in))); got != want {
			t.Errorf("withClientNS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnwrap(t *testing.T) {
	for _, tc := range []struct {
		in, children string
		term, bad    bool
	}{
		{"<body xmlns='x'/>", "", false, false},
		{"<body xmlns='x'><presence/><iq id='1'/></body>", "<presence/><iq id='1'/>", false, false},
		{"<?xml version='1.0'?> <body type='terminate' xmlns='x'/>", "", true, false},
		{"<body type='terminate' condition='item-not-found'><message/></body>", "<message/>", true, false},
		{"<html>nope</html>", "", false, true},
		{"<body", "", false, true},
		{"<body xmlns='x'><message/>", "", false, true},
	} {
		c, term, err := unwrap([]byte(tc.in))
		if (err != nil) != tc.bad || string(c) != tc.children || term != tc.term {
			t.Errorf("unwrap(%q) = %q, %v, %v", tc.in, c, term, err)
		}
	}
}

func FuzzUnwrap(f *testing.F) {
	for _, s := range []string{"<body/>", "<body a='b'><x/></body>", "<body type='terminate'/>", "</body><body>", "<body>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, _, err := unwrap(in)
		if err == nil && len(c) > 0 && !bytes.Contains(in, c) {
			t.Fatalf("children %q are not part of %q", c, in)
		}
	})
}

// scriptedServer answers the client's elements with a fixed exchange: PLAIN, bind,
// ping, and an echo of each message to its sender. framing wraps what it sends.
type scriptedServer struct {
	mu       sync.Mutex
	received []string
	authed   bool
}

func (s *scriptedServer) answer(el string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, el)
	feats := "<stream:features xmlns:stream='" + nsStreams + "'><mechanisms xmlns='" + nsSASL + "'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	if s.authed {
		feats = "<stream:features xmlns:stream='" + nsStreams + "'><bind xmlns='" + nsBind + "'/></stream:features>"
	}
	switch {
	case strings.HasPrefix(el, "<open") || strings.Contains(el, "restart='true'") || strings.Contains(el, "hold='1'"):
		return []string{"OPEN", feats}
	case strings.HasPrefix(el, "<auth"):
		s.authed = true
		return []string{"<success xmlns='" + nsSASL + "'/>"}
	case strings.Contains(el, "id='bind1'"):
		return []string{"<iq xmlns='jabber:client' type='result' id='bind1'><bind xmlns='" + nsBind + "'><jid>u@localhost/r</jid></bind></iq>"}
	case strings.HasPrefix(el, "<iq"):
		id := string(Attr([]byte(el), "id"))
		return []string{"<iq xmlns='jabber:client' type='result' id='" + id + "'/>"}
	case strings.HasPrefix(el, "<message"):
		return []string{strings.Replace(el, "<message ", "<message from='u@localhost/r' ", 1)}
	case strings.HasPrefix(el, "<close"):
		return []string{"CLOSE"}
	}
	return nil
}

func (s *scriptedServer) sawClientNS(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, el := range s.received {
		for _, name := range []string{"<presence", "<iq", "<message"} {
			if strings.HasPrefix(el, name) && !strings.Contains(el, "xmlns='jabber:client'") {
				t.Errorf("stanza without jabber:client: %s", el)
			}
		}
	}
}

// exercise logs in over o, exchanges a message and closes.
func exercise(t *testing.T, o *Options) {
	t.Helper()
	o.Domain, o.Mech, o.Presence, o.Sync, o.Timeout = "localhost", PLAIN, true, true, 5*time.Second
	c, err := Login(context.Background(), o, nil, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if c.JID() != "u@localhost/r" {
		t.Fatalf("bound %q", c.JID())
	}
	if err := c.Write([]byte("<message to='u@localhost/r'><body>hi</body></message>")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	st, err := c.ReadStanza()
	if err != nil || string(Text(st.Raw, "body")) != "hi" {
		t.Fatalf("read %q: %v", st.Raw, err)
	}
	if err := c.Close(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestLoginOverWebSocket(t *testing.T) {
	srv := &scriptedServer{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			_, msg, err := ws.Read(r.Context())
			if err != nil {
				return
			}
			for _, out := range srv.answer(string(msg)) {
				switch out {
				case "OPEN":
					out = "<open xmlns='" + nsFraming + "' from='localhost' id='x' version='1.0'/>"
				case "CLOSE":
					out = "<close xmlns='" + nsFraming + "'/>"
				}
				if err := ws.Write(r.Context(), websocket.MessageText, []byte(out)); err != nil {
					return
				}
			}
		}
	}))
	defer hs.Close()
	exercise(t, &Options{Transport: WebSocket, URL: "ws" + strings.TrimPrefix(hs.URL, "http")})
	srv.sawClientNS(t)
}

func TestLoginOverBOSH(t *testing.T) {
	srv := &scriptedServer{}
	pending := make(chan string, 64)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		children, term, err := unwrap(b)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		attrs := ""
		if bytes.Contains(b, []byte("hold='1'")) {
			attrs = " sid='s1' requests='2' wait='30'"
			children = b
		}
		var out []string
		if bytes.Contains(b, []byte("restart='true'")) {
			children = b
		}
		if term {
			out = append(out, "")
			attrs = " type='terminate'"
		}
		// One element per client write in this script, several per request.
		for rest := string(children); rest != ""; {
			end := len(rest)
			if i := strings.Index(rest[1:], "><"); i >= 0 && !strings.HasPrefix(rest, "<body") {
				// split top-level siblings: the client's elements are flat or end with </name>
				name := rest[1:strings.IndexAny(rest, " />")]
				if j := strings.Index(rest, "</"+name+">"); j >= 0 {
					end = j + len(name) + 3
				} else if j := strings.Index(rest, "/>"); j >= 0 {
					end = j + 2
				}
			}
			for _, a := range srv.answer(rest[:end]) {
				if a == "OPEN" || a == "CLOSE" {
					continue
				}
				pending <- a
			}
			rest = rest[end:]
		}
		// Hold the request until something is to be sent, for at most 200 ms.
		select {
		case a := <-pending:
			out = append(out, a)
		case <-time.After(200 * time.Millisecond):
		}
		for more := true; more; {
			select {
			case a := <-pending:
				out = append(out, a)
			default:
				more = false
			}
		}
		_, _ = io.WriteString(w, "<body xmlns='"+nsHTTPBind+"'"+attrs+">"+strings.Join(out, "")+"</body>")
	}))
	defer hs.Close()
	exercise(t, &Options{Transport: BOSH, URL: hs.URL})
	srv.sawClientNS(t)
}
