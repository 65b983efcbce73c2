package main

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
)

// fakeServer is just enough of an XMPP server for the harness's own tests: PLAIN
// (password "password"), binding, ping, presence, routing of messages between
// connected full JIDs, and the stream close. It trusts its input: it only ever talks to
// the harness.
type fakeServer struct {
	ln       net.Listener
	mu       sync.Mutex
	sessions map[string]net.Conn
	wg       sync.WaitGroup
	logins   int
	// bounceAll makes every message come back to its sender as type='error', as a
	// server does for an unavailable recipient. Set it before the first connection.
	bounceAll bool
}

func startFake(t *testing.T) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, sessions: map[string]net.Conn{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.sessions {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeServer) addr() string { return f.ln.Addr().String() }

const fakeHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' from='localhost' version='1.0'>"

func attr(el, name string) string {
	i := strings.Index(el, " "+name+"='")
	if i < 0 {
		return ""
	}
	v := el[i+len(name)+3:]
	return v[:strings.IndexByte(v, '\'')]
}

func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	var in []byte
	var user, jid string
	authed := false
	defer func() {
		if jid != "" {
			f.mu.Lock()
			delete(f.sessions, jid)
			f.mu.Unlock()
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		in = append(in, buf[:n]...)
		for {
			var el string
			end := -1
			s := string(in)
			switch {
			case strings.HasPrefix(s, "<?xml"):
				end = strings.Index(s, "?>") + 2
				if end == 1 {
					end = -1
				}
			case strings.HasPrefix(s, "<stream:stream"):
				end = strings.IndexByte(s, '>') + 1
			case strings.HasPrefix(s, "</stream:stream>"):
				_, _ = c.Write([]byte("</stream:stream>"))
				return
			case strings.HasPrefix(s, "<presence/>"):
				end = len("<presence/>")
			default:
				for _, name := range []string{"auth", "iq", "message"} {
					if strings.HasPrefix(s, "<"+name) {
						if e := strings.Index(s, "</"+name+">"); e >= 0 {
							end = e + len(name) + 3
						}
					}
				}
			}
			if end <= 0 {
				break
			}
			el, in = s[:end], in[end:]
			switch {
			case strings.HasPrefix(el, "<stream:stream") && !authed:
				_, _ = c.Write([]byte(fakeHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"))
			case strings.HasPrefix(el, "<stream:stream"):
				_, _ = c.Write([]byte(fakeHeader + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"))
			case strings.HasPrefix(el, "<auth"):
				b64 := el[strings.IndexByte(el, '>')+1 : strings.LastIndexByte(el, '<')]
				raw := decodeB64(b64)
				parts := strings.Split(raw, "\x00")
				if len(parts) != 3 || parts[2] != "password" {
					_, _ = c.Write([]byte("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"))
					continue
				}
				user, authed = parts[1], true
				_, _ = c.Write([]byte("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"))
			case strings.HasPrefix(el, "<iq") && strings.Contains(el, "xmpp-bind"):
				res := "gen"
				if i := strings.Index(el, "<resource>"); i >= 0 {
					res = el[i+10 : strings.Index(el, "</resource>")]
				}
				jid = user + "@localhost/" + res
				f.mu.Lock()
				f.sessions[jid] = c
				f.logins++
				f.mu.Unlock()
				_, _ = c.Write([]byte("<iq type='result' id='" + attr(el, "id") + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" + jid + "</jid></bind></iq>"))
			case strings.HasPrefix(el, "<iq"):
				_, _ = c.Write([]byte("<iq type='result' id='" + attr(el, "id") + "' from='localhost'/>"))
			case strings.HasPrefix(el, "<message"):
				to := attr(el, "to")
				f.mu.Lock()
				dst := f.sessions[to]
				f.mu.Unlock()
				out := []byte(strings.Replace(el, "<message ", "<message from='"+jid+"' ", 1))
				if dst == nil || f.bounceAll {
					out = bytes.Replace(out, []byte("type='chat'"), []byte("type='error'"), 1)
					dst = c
				}
				_, _ = dst.Write(out)
			}
		}
	}
}
