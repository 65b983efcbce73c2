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
	// server does for an unavailable recipient. Set by an option of startFake.
	bounceAll bool
	// noMUC hides the MUC service from disco; silentRooms ignores room joins. Set by
	// an option of startFake.
	noMUC, silentRooms bool
	// subs holds approved subscriptions: subs["a|b"] means bare JID a receives b's
	// presence. rooms maps a room JID to its occupants (nick to full JID).
	subs  map[string]bool
	rooms map[string]map[string]string
}

// startFake starts the fake server after applying opts (which set its switches).
func startFake(t *testing.T, opts ...func(*fakeServer)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, sessions: map[string]net.Conn{}, subs: map[string]bool{}, rooms: map[string]map[string]string{}}
	for _, o := range opts {
		o(f)
	}
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
			default:
				end = elementEnd(s)
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
			case strings.HasPrefix(el, "<iq") && strings.Contains(el, "disco#items"):
				items := "<item jid='conference.localhost'/><item jid='pubsub.localhost'/>"
				if f.noMUC {
					items = "<item jid='pubsub.localhost'/>"
				}
				_, _ = c.Write([]byte("<iq type='result' id='" + attr(el, "id") + "'><query xmlns='http://jabber.org/protocol/disco#items'>" + items + "</query></iq>"))
			case strings.HasPrefix(el, "<iq") && strings.Contains(el, "disco#info"):
				ident := "<identity category='pubsub' type='service'/>"
				if attr(el, "to") == "conference.localhost" && !f.noMUC {
					ident = "<identity category='conference' type='text' name='Chatrooms'/>"
				}
				_, _ = c.Write([]byte("<iq type='result' id='" + attr(el, "id") + "'><query xmlns='http://jabber.org/protocol/disco#info'>" + ident + "</query></iq>"))
			case strings.HasPrefix(el, "<iq") && strings.Contains(el, "jabber:iq:roster"):
				_, _ = c.Write([]byte("<iq type='result' id='" + attr(el, "id") + "'><query xmlns='jabber:iq:roster'>" + f.rosterOf(bare(jid)) + "</query></iq>"))
			case strings.HasPrefix(el, "<iq"):
				_, _ = c.Write([]byte("<iq type='result' id='" + attr(el, "id") + "' from='localhost'/>"))
			case strings.HasPrefix(el, "<presence"):
				f.presence(jid, el)
			case strings.HasPrefix(el, "<message") && attr(el, "type") == "groupchat":
				f.groupchat(jid, el)
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

// elementEnd returns the end of the first whole element of s, or -1.
func elementEnd(s string) int {
	if !strings.HasPrefix(s, "<") {
		return -1
	}
	gt := strings.IndexByte(s, '>')
	if gt < 0 {
		return -1
	}
	if s[gt-1] == '/' {
		return gt + 1
	}
	name := s[1:gt]
	if i := strings.IndexAny(name, " /"); i >= 0 {
		name = name[:i]
	}
	if e := strings.Index(s, "</"+name+">"); e >= 0 {
		return e + len(name) + 3
	}
	return -1
}

func bare(jid string) string {
	if i := strings.IndexByte(jid, '/'); i >= 0 {
		return jid[:i]
	}
	return jid
}

// sendBare writes out to every session of bare JID b.
func (f *fakeServer) sendBare(b, out string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for full, c := range f.sessions {
		if bare(full) == b {
			_, _ = c.Write([]byte(out))
		}
	}
}

func (f *fakeServer) rosterOf(b string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items strings.Builder
	seen := map[string]bool{}
	for k := range f.subs {
		a, other, _ := strings.Cut(k, "|")
		if a != b && other != b {
			continue
		}
		if other == b {
			other = a
		}
		if seen[other] {
			continue
		}
		seen[other] = true
		sub := "to"
		switch {
		case f.subs[b+"|"+other] && f.subs[other+"|"+b]:
			sub = "both"
		case f.subs[other+"|"+b]:
			sub = "from"
		}
		items.WriteString("<item jid='" + other + "' subscription='" + sub + "'/>")
	}
	return items.String()
}

// presence handles subscriptions, broadcasts and MUC joins of session jid.
func (f *fakeServer) presence(jid, el string) {
	to, typ := attr(el, "to"), attr(el, "type")
	switch {
	case strings.HasSuffix(bare(to), "@conference.localhost") && f.silentRooms:
	case strings.HasSuffix(bare(to), "@conference.localhost"):
		room, nick := bare(to), to[strings.IndexByte(to, '/')+1:]
		f.mu.Lock()
		occ, ok := f.rooms[room]
		if !ok {
			occ = map[string]string{}
			f.rooms[room] = occ
		}
		occ[nick] = jid
		c := f.sessions[jid]
		f.mu.Unlock()
		codes := "<status code='110'/>"
		if !ok {
			codes += "<status code='201'/>"
		}
		_, _ = c.Write([]byte("<presence from='" + to + "' to='" + jid + "'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/>" + codes + "</x></presence>"))
	case typ == "subscribe":
		f.sendBare(to, "<presence type='subscribe' from='"+bare(jid)+"' to='"+to+"'/>")
	case typ == "subscribed":
		f.mu.Lock()
		f.subs[to+"|"+bare(jid)] = true
		f.mu.Unlock()
		f.sendBare(to, "<presence type='subscribed' from='"+bare(jid)+"' to='"+to+"'/>")
	case typ == "" && to == "":
		out := strings.Replace(el, "<presence", "<presence from='"+jid+"'", 1)
		f.mu.Lock()
		var dst []string
		for k := range f.subs {
			if a, b, _ := strings.Cut(k, "|"); b == bare(jid) {
				dst = append(dst, a)
			}
		}
		f.mu.Unlock()
		for _, d := range append(dst, bare(jid)) {
			f.sendBare(d, out)
		}
	}
}

// groupchat reflects a room message to every occupant, the sender included.
func (f *fakeServer) groupchat(jid, el string) {
	room := attr(el, "to")
	f.mu.Lock()
	defer f.mu.Unlock()
	nick := ""
	for n, j := range f.rooms[room] {
		if j == jid {
			nick = n
		}
	}
	out := strings.Replace(el, "<message ", "<message from='"+room+"/"+nick+"' ", 1)
	for _, j := range f.rooms[room] {
		if c := f.sessions[j]; c != nil {
			_, _ = c.Write([]byte(out))
		}
	}
}
