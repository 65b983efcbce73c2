package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"time"
)

const (
	nsHTTPBind = "http://jabber.org/protocol/httpbind"
	nsXBOSH    = "urn:xmpp:xbosh"
	// boshWait is the longest time the server may hold a request (XEP-0124 "wait").
	boshWait = 30
	// boshGap separates a request from the outstanding one before it.
	boshGap = 20 * time.Millisecond
)

// boshStream is an XMPP stream over BOSH (XEP-0124, XEP-0206): HTTP requests carry
// the client's elements in <body/> wrappers, and the server answers each with the
// elements it has, holding one request open for pushes. A session has a goroutine
// that keeps a poll outstanding and sends queued elements, at most two requests at a
// time.
type boshStream struct {
	url, domain string
	hc          *http.Client
	local       net.Addr

	mu       sync.Mutex
	sid      string
	rid      int64
	queue    [][]byte // elements waiting for a request
	special  string   // "restart" or "terminate": sent alone by the loop
	inflight int
	polling  bool      // keep a request open for pushes: from the bound stream on
	lastSent time.Time // when the latest request went out
	closed   bool
	wake     chan struct{} // the loop has something to do

	in   chan []byte // translated server bytes, in order of arrival
	rd   []byte
	dead chan struct{} // closed when the session ends
	err  error         // why (under mu)
	dl   deadlines
	stop context.CancelFunc
	ctx  context.Context
}

func newBOSH(o *Options, src net.IP) *boshStream {
	s := &boshStream{url: o.URL, domain: o.Domain, rid: rand.Int64N(1 << 40),
		wake: make(chan struct{}, 1), in: make(chan []byte, 64), dead: make(chan struct{})}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			nc, err := dial(ctx, addr, src, time.Now().Add(10*time.Second))
			if err == nil {
				s.mu.Lock()
				s.local = nc.LocalAddr()
				s.mu.Unlock()
			}
			return nc, err
		},
		MaxIdleConnsPerHost: 2,
		TLSClientConfig:     tlsConfig(o.TLS, o.Domain),
	}
	s.hc = &http.Client{Transport: tr, Timeout: (boshWait + 30) * time.Second}
	s.ctx, s.stop = context.WithCancel(context.Background())
	return s
}

// post sends one <body/> and returns the server's answer. wrote (if not nil) is
// closed once the request is on the wire, or has failed.
func (s *boshStream) post(body string, wrote chan struct{}) ([]byte, error) {
	ctx := s.ctx
	if wrote != nil {
		var once sync.Once
		signal := func() { once.Do(func() { close(wrote) }) }
		defer signal()
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { signal() }})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewBufferString(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: bosh: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("client: bosh: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("client: bosh: %s: %s", resp.Status, b)
	}
	return b, nil
}

// unwrap returns the children of a response <body/> and whether it ends the session.
func unwrap(b []byte) (children []byte, terminate bool, err error) {
	b = bytes.TrimSpace(b)
	i := bytes.Index(b, []byte("<body"))
	if i < 0 {
		return nil, false, fmt.Errorf("client: bosh: answer without <body/>: %.200s", b)
	}
	b = b[i:]
	gt := bytes.IndexByte(b, '>')
	if gt < 0 {
		return nil, false, fmt.Errorf("client: bosh: truncated <body/>: %.200s", b)
	}
	terminate = string(Attr(b, "type")) == "terminate"
	if b[gt-1] == '/' {
		return nil, terminate, nil
	}
	end := bytes.LastIndex(b, []byte("</body>"))
	if end < gt {
		return nil, false, fmt.Errorf("client: bosh: unterminated <body/>: %.200s", b)
	}
	return b[gt+1 : end], terminate, nil
}

func (s *boshStream) nextRID() string {
	s.rid++
	return strconv.FormatInt(s.rid, 10)
}

// fail ends the session with err (the first reason wins).
func (s *boshStream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed, s.err = true, err
	close(s.dead)
	s.stop()
}

// deliver hands an answer's children to the reader, with a synthetic stream header
// before stream features: they open every stream (session creation, restart), and
// the server may send them on any pending request, not only on the restart's.
func (s *boshStream) deliver(b []byte) {
	children, term, err := unwrap(b)
	if err != nil {
		s.fail(err)
		return
	}
	header := bytes.HasPrefix(bytes.TrimSpace(children), []byte("<stream:features"))
	if header && bytes.Contains(children, []byte(nsBind)) {
		// The authenticated stream. Before it, every client element is answered
		// on its own request, and a poll racing a stream restart can stall a
		// server that processes requests out of order (ejabberd).
		s.mu.Lock()
		s.polling = true
		s.mu.Unlock()
	}
	out := make([]byte, 0, len(children)+len(syntheticHeader)+16)
	if header {
		out = append(out, syntheticHeader...)
	}
	out = append(out, children...)
	if term {
		out = append(out, "</stream:stream>"...)
	}
	if len(out) > 0 {
		select {
		case s.in <- out:
		case <-s.dead:
		}
	}
	if term {
		s.fail(io.EOF)
	}
}

// create opens the session (the first stream header).
func (s *boshStream) create() error {
	s.mu.Lock()
	rid := s.nextRID()
	s.mu.Unlock()
	b, err := s.post("<body content='text/xml; charset=utf-8' hold='1' rid='"+rid+"' to='"+s.domain+
		"' ver='1.11' wait='"+strconv.Itoa(boshWait)+"' xml:lang='en' xmpp:version='1.0' xmlns='"+nsHTTPBind+
		"' xmlns:xmpp='"+nsXBOSH+"'/>", nil)
	if err != nil {
		return err
	}
	sid := Attr(b[bytes.Index(b, []byte("<body")):], "sid")
	if len(sid) == 0 {
		return fmt.Errorf("client: bosh: session creation answered without sid: %.300s", b)
	}
	s.mu.Lock()
	s.sid = string(sid)
	s.mu.Unlock()
	go s.loop()
	s.deliver(b)
	return nil
}

// loop sends queued elements and keeps one poll outstanding until the session ends.
func (s *boshStream) loop() {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		var body string
		switch {
		case s.special != "" && s.inflight < 2:
			attrs := " xmpp:restart='true' xmlns:xmpp='" + nsXBOSH + "' to='" + s.domain + "' xml:lang='en'"
			if s.special == "terminate" {
				attrs = " type='terminate'"
			}
			body = "<body rid='" + s.nextRID() + "' sid='" + s.sid + "' xmlns='" + nsHTTPBind + "'" + attrs + "/>"
			s.special = ""
		case len(s.queue) > 0 && s.inflight < 2:
			var buf bytes.Buffer
			buf.WriteString("<body rid='" + s.nextRID() + "' sid='" + s.sid + "' xmlns='" + nsHTTPBind + "'>")
			for _, q := range s.queue {
				buf.Write(q)
			}
			buf.WriteString("</body>")
			s.queue = s.queue[:0]
			body = buf.String()
		case s.inflight == 0 && s.polling:
			body = "<body rid='" + s.nextRID() + "' sid='" + s.sid + "' xmlns='" + nsHTTPBind + "'/>"
		}
		var gap time.Duration
		if body != "" {
			// With a request outstanding, the next leaves at least boshGap after it:
			// ejabberd stalls both when they reach it close together.
			if s.inflight > 0 {
				gap = boshGap - time.Since(s.lastSent)
			}
			s.inflight++
		}
		s.mu.Unlock()
		if gap > 0 {
			select {
			case <-time.After(gap):
			case <-s.dead:
				return
			}
		}
		if body != "" {
			s.mu.Lock()
			s.lastSent = time.Now()
			s.mu.Unlock()
		}
		if body != "" {
			// The server processes requests in rid order: the next one goes out only
			// once this one is written.
			wrote := make(chan struct{})
			go func() {
				b, err := s.post(body, wrote)
				s.mu.Lock()
				s.inflight--
				s.mu.Unlock()
				if err != nil {
					s.fail(err)
					return
				}
				s.deliver(b)
				s.poke()
			}()
			select {
			case <-wrote:
			case <-s.dead:
				return
			}
			continue
		}
		select {
		case <-s.wake:
		case <-s.dead:
			return
		}
	}
}

func (s *boshStream) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Read returns the server's elements as a stream. One goroutine reads.
func (s *boshStream) Read(p []byte) (int, error) {
	for len(s.rd) == 0 {
		ctx, cancel := s.dl.ctx(context.Background(), true)
		select {
		case b := <-s.in:
			s.rd = b
		case <-s.dead:
			cancel()
			select {
			case b := <-s.in:
				s.rd = b
				continue
			default:
			}
			s.mu.Lock()
			err := s.err
			s.mu.Unlock()
			return 0, err
		case <-ctx.Done():
			cancel()
			return 0, fmt.Errorf("client: bosh: read: %w", ctx.Err())
		}
		cancel()
	}
	n := copy(p, s.rd)
	s.rd = s.rd[n:]
	return n, nil
}

// Write queues b, one element, for the next request; the first stream header
// creates the session, later ones restart it. Any goroutine may write.
func (s *boshStream) Write(b []byte) (int, error) {
	s.mu.Lock()
	if s.closed {
		err := s.err
		s.mu.Unlock()
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("client: bosh: session ended")
		}
		return 0, err
	}
	if s.sid == "" {
		s.mu.Unlock()
		if !isHeader(b) {
			return 0, errors.New("client: bosh: write before the stream header")
		}
		if err := s.create(); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	switch {
	case isHeader(b):
		s.special = "restart"
	case isStreamEnd(b):
		s.special = "terminate"
	default:
		s.queue = append(s.queue, withClientNS(bytes.Clone(b)))
	}
	s.mu.Unlock()
	s.poke()
	return len(b), nil
}

// Close ends the session at once.
func (s *boshStream) Close() error {
	s.fail(errors.New("client: bosh: closed"))
	s.hc.CloseIdleConnections()
	return nil
}

func (s *boshStream) LocalAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local
}

func (s *boshStream) RemoteAddr() net.Addr { return nil }

func (s *boshStream) SetDeadline(t time.Time) error {
	s.dl.set(true, true, t)
	return nil
}

func (s *boshStream) SetReadDeadline(t time.Time) error {
	s.dl.set(true, false, t)
	return nil
}

func (s *boshStream) SetWriteDeadline(t time.Time) error {
	s.dl.set(false, true, t)
	return nil
}
