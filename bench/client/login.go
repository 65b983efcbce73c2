package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Mechanism is a SASL mechanism the client speaks.
type Mechanism string

// Mechanisms.
const (
	PLAIN       Mechanism = "PLAIN"
	SCRAMSHA256 Mechanism = "SCRAM-SHA-256"
)

// Transport is how a stream reaches the server.
type Transport string

// Transports.
const (
	TCP       Transport = ""
	WebSocket Transport = "ws"
	BOSH      Transport = "bosh"
)

// defaultLogin bounds a login when Options.Timeout is zero.
const defaultLogin = 30 * time.Second

// Options say how to reach and log in to a server. One Options value may be shared by
// any number of concurrent Login calls.
type Options struct {
	Addr string // host:port of the c2s listener (TCP)
	// Transport is TCP (the zero value), WebSocket (RFC 7395) or BOSH (XEP-0206).
	Transport Transport
	URL       string      // WebSocket or BOSH endpoint: ws://host:port/path, http://host:port/path
	Domain    string      // the XMPP domain (stream "to", account domain)
	StartTLS  bool        // negotiate STARTTLS before authenticating
	TLS       *tls.Config // nil: skip certificate verification, SNI Domain
	Mech      Mechanism   // PLAIN or SCRAM-SHA-256
	// Resource to bind; "" lets the server choose.
	Resource string
	// Presence sends initial presence after binding.
	Presence bool
	// Sync ends the login with a ping round trip, so that the session is known to be
	// complete and anything the server pushed after presence has been read.
	Sync bool
	// Timeout bounds the whole login, TCP connect included; 0 means 30 s.
	Timeout time.Duration
	// Cache keeps SCRAM keys between logins; nil derives them every time.
	Cache *ScramCache

	nonce string // fixed SCRAM client nonce, for tests
}

// Login dials the server from local address src (nil: the kernel chooses), opens a
// stream and authenticates user@Domain with password, binds a resource and, as
// configured, sends presence and syncs. On error the socket is closed. It runs in the
// caller's goroutine; ctx cancels the dial only (the deadline bounds the rest).
func Login(ctx context.Context, o *Options, src net.IP, user, password string) (*Conn, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultLogin
	}
	deadline := time.Now().Add(timeout)
	var c *Conn
	switch o.Transport {
	case TCP:
		nc, err := dial(ctx, o.Addr, src, deadline)
		if err != nil {
			return nil, err
		}
		c = newConn(nc, o.Domain)
	case WebSocket:
		if o.StartTLS {
			return nil, errors.New("client: STARTTLS over WebSocket: use a wss:// URL")
		}
		ws, err := dialWS(ctx, o, src, deadline)
		if err != nil {
			return nil, err
		}
		c = newConn(ws.nc, o.Domain)
		c.rw = ws
	case BOSH:
		if o.StartTLS {
			return nil, errors.New("client: STARTTLS over BOSH: use an https:// URL")
		}
		c = newConn(nil, o.Domain)
		c.rw = newBOSH(o, src)
	default:
		return nil, fmt.Errorf("client: unknown transport %q", o.Transport)
	}
	if err := c.login(o, deadline, user, password); err != nil {
		c.Abort()
		return nil, err
	}
	return c, nil
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (linux/in.h): with it, binding a
// source address leaves the port to connect(), which may reuse a port towards
// another destination. Without it every bound socket holds a port of its own.
const ipBindAddressNoPort = 24

func dial(ctx context.Context, addr string, src net.IP, deadline time.Time) (*net.TCPConn, error) {
	d := net.Dialer{Deadline: deadline}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			})
			return errors.Join(err, serr)
		}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", addr, err)
	}
	return c.(*net.TCPConn), nil
}

func (c *Conn) login(o *Options, deadline time.Time, user, password string) error {
	if err := c.rw.SetDeadline(deadline); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	feats, err := c.open()
	if err != nil {
		return err
	}
	if o.StartTLS {
		if !bytes.Contains(feats.Raw, []byte("<starttls")) {
			return errors.New("client: server does not offer STARTTLS")
		}
		if err := c.Write([]byte("<starttls xmlns='" + nsTLS + "'/>")); err != nil {
			return err
		}
		s, err := c.ReadStanza()
		if err != nil {
			return fmt.Errorf("client: starttls: %w", err)
		}
		if !s.Is(nsTLS, "proceed") {
			return fmt.Errorf("client: starttls refused: %s", s.Raw)
		}
		tc := tls.Client(c.nc, tlsConfig(o.TLS, o.Domain))
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("client: TLS handshake: %w", err)
		}
		if err := c.restart(tc); err != nil {
			return err
		}
		if feats, err = c.open(); err != nil {
			return err
		}
	}
	if err := c.authenticate(o, feats.Raw, user, password); err != nil {
		return err
	}
	if err := c.restart(nil); err != nil {
		return err
	}
	if feats, err = c.open(); err != nil {
		return err
	}
	if err := c.bind(o.Resource, feats.Raw); err != nil {
		return err
	}
	if o.Presence {
		if err := c.Write([]byte("<presence/>")); err != nil {
			return err
		}
	}
	if o.Sync {
		if err := c.Ping(time.Until(deadline)); err != nil {
			return err
		}
	}
	return c.rw.SetDeadline(time.Time{})
}

// open sends a stream header and returns the server's <stream:features/>, valid until
// the next read.
func (c *Conn) open() (Stanza, error) {
	hdr := "<?xml version='1.0'?><stream:stream to='" + c.domain +
		"' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='" + nsStreams + "'>"
	if err := c.Write([]byte(hdr)); err != nil {
		return Stanza{}, err
	}
	if err := c.readHeader(); err != nil {
		return Stanza{}, fmt.Errorf("client: open stream: %w", err)
	}
	s, err := c.ReadStanza()
	if err != nil {
		return s, fmt.Errorf("client: stream features: %w", err)
	}
	if !s.Is(nsStreams, "features") {
		return s, fmt.Errorf("client: expected stream features, got %s", s.Raw)
	}
	return s, nil
}

func (c *Conn) authenticate(o *Options, feats []byte, user, password string) error {
	mech := o.Mech
	if mech == "" {
		mech = PLAIN
	}
	if !bytes.Contains(feats, []byte(">"+string(mech)+"</mechanism>")) {
		return fmt.Errorf("client: server does not offer %s: %s", mech, feats)
	}
	auth := func(initial []byte) error {
		return c.Write([]byte("<auth xmlns='" + nsSASL + "' mechanism='" + string(mech) + "'>" +
			base64.StdEncoding.EncodeToString(initial) + "</auth>"))
	}
	switch mech {
	case PLAIN:
		if err := auth([]byte("\x00" + user + "\x00" + password)); err != nil {
			return err
		}
		_, err := c.saslResult(nil)
		return err
	case SCRAMSHA256:
		sc, err := newScramClient(user, password, o.Cache, o.nonce)
		if err != nil {
			return err
		}
		if err := auth(sc.first()); err != nil {
			return err
		}
		s, err := c.ReadStanza()
		if err != nil {
			return fmt.Errorf("client: SASL: %w", err)
		}
		if !s.Is(nsSASL, "challenge") {
			return fmt.Errorf("client: SASL %s: %s", mech, s.Raw)
		}
		first, err := decodeSASL(s.Raw)
		if err != nil {
			return err
		}
		final, err := sc.final(first)
		if err != nil {
			return err
		}
		if err := c.Write([]byte("<response xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString(final) + "</response>")); err != nil {
			return err
		}
		_, err = c.saslResult(sc)
		return err
	default:
		return fmt.Errorf("client: unsupported mechanism %q", mech)
	}
}

// saslResult reads until <success/> or <failure/>. With SCRAM, the server's final
// message comes as success data (RFC 6120 6.3.10) or, from some servers, as a last
// challenge answered with an empty response; either way it is verified.
func (c *Conn) saslResult(sc *scramClient) ([]byte, error) {
	for {
		s, err := c.ReadStanza()
		if err != nil {
			return nil, fmt.Errorf("client: SASL: %w", err)
		}
		switch {
		case s.Is(nsSASL, "success"):
			data, err := decodeSASL(s.Raw)
			if err != nil {
				return nil, err
			}
			if sc != nil {
				if err := sc.verify(data); err != nil {
					return nil, fmt.Errorf("client: %w", err)
				}
			}
			return data, nil
		case s.Is(nsSASL, "challenge") && sc != nil:
			data, err := decodeSASL(s.Raw)
			if err != nil {
				return nil, err
			}
			if err := sc.verify(data); err != nil {
				return nil, fmt.Errorf("client: %w", err)
			}
			sc = nil // verified; success carries no more data
			if err := c.Write([]byte("<response xmlns='" + nsSASL + "'/>")); err != nil {
				return nil, err
			}
		case s.Is(nsSASL, "failure"):
			return nil, fmt.Errorf("client: SASL failure: %s", s.Raw)
		default:
			return nil, fmt.Errorf("client: SASL: unexpected %s", s.Raw)
		}
	}
}

// decodeSASL decodes the base64 text of a SASL element ("=" or nothing is empty).
func decodeSASL(raw []byte) ([]byte, error) {
	gt := bytes.IndexByte(raw, '>')
	if gt < 0 || raw[gt-1] == '/' {
		return nil, nil
	}
	lt := bytes.LastIndexByte(raw, '<')
	text := bytes.TrimSpace(raw[gt+1 : lt])
	if len(text) == 0 || string(text) == "=" {
		return nil, nil
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(out, text)
	if err != nil {
		return nil, fmt.Errorf("client: SASL data %q: %w", text, err)
	}
	return out[:n], nil
}

// bind binds resource (RFC 6120 7) and, if the server still requires it, establishes
// the legacy session (RFC 3921 3).
func (c *Conn) bind(resource string, feats []byte) error {
	if !bytes.Contains(feats, []byte(nsBind)) {
		return fmt.Errorf("client: no resource binding offered: %s", feats)
	}
	// Decide now: feats aliases the read buffer, which the bind exchange reuses.
	i := bytes.Index(feats, []byte(nsSession))
	needSession := i >= 0 && !bytes.Contains(feats[i:], []byte("<optional"))
	req := "<iq type='set' id='bind1'><bind xmlns='" + nsBind + "'/></iq>"
	if resource != "" {
		req = "<iq type='set' id='bind1'><bind xmlns='" + nsBind + "'><resource>" + resource + "</resource></bind></iq>"
	}
	if err := c.Write([]byte(req)); err != nil {
		return err
	}
	s, err := c.readIQ("bind1")
	if err != nil {
		return fmt.Errorf("client: bind: %w", err)
	}
	jid := Text(s.Raw, "jid")
	if jid == nil {
		return fmt.Errorf("client: bind result without a JID: %s", s.Raw)
	}
	c.jid = string(jid)
	if needSession {
		if err := c.Write([]byte("<iq type='set' id='sess1'><session xmlns='" + nsSession + "'/></iq>")); err != nil {
			return err
		}
		if _, err := c.readIQ("sess1"); err != nil {
			return fmt.Errorf("client: session: %w", err)
		}
	}
	return nil
}

// readIQ reads until the iq with id, which must be a result.
func (c *Conn) readIQ(id string) (Stanza, error) {
	for {
		s, err := c.ReadStanza()
		if err != nil {
			return s, err
		}
		if string(s.Name) != "iq" || string(Attr(s.Raw, "id")) != id {
			continue
		}
		if t := string(Attr(s.Raw, "type")); t != "result" {
			return s, fmt.Errorf("iq %s of type %q: %s", id, t, s.Raw)
		}
		return s, nil
	}
}
