package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/bench/client"
)

// The presence scenario. Every user has --roster contacts, its ring neighbours
// (accounts i±1 .. i±roster/2 among the --n accounts, wrapping around), with
// mutual subscriptions. Before the measured phase the shards provision them over
// XMPP, which works against any server: every user sends a subscription request to
// each contact and every user approves every request it receives (RFC 6121 3.1), so
// each pair ends with subscription "both"; a server that already has the
// subscriptions answers on the contact's behalf (RFC 6121 3.1.3). The shards then
// fetch every roster and count the items with subscription "both", until all are
// there or --provision-timeout passes.
//
// In the measured phase random users change presence (a status carrying the send
// time) at --msg-rate per second in total; every contact's session receives the
// broadcast and records its latency. The server's CPU per delivered presence stanza
// is the headline figure.

const cmdProvision = "provision"

// presenceRun is a shard's presence state beside its msgRun.
type presenceRun struct {
	cfg     *config
	bare    [][]byte       // bare JID of each session
	acct    []int          // account index of each session
	both    []atomic.Int64 // this run's contacts with subscription both, per session
	fanout  []atomic.Int64 // items with subscription both among this run's accounts: the recipients
	rosters atomic.Int64   // roster results received in the current round
}

// contacts returns the account indexes of the contacts of account a.
func (c *config) contacts(a int) []int {
	k := a - c.first
	out := make([]int, 0, c.roster)
	for d := 1; d <= c.roster/2; d++ {
		out = append(out, c.first+(k+d)%c.n, c.first+((k-d)%c.n+c.n)%c.n)
	}
	return out
}

// accountOf returns the account index of a bound JID PREFIX<i>@domain/resource.
func (c *config) accountOf(jid []byte) (int, error) {
	local, _, _ := bytes.Cut(jid, []byte("@"))
	i, err := strconv.Atoi(strings.TrimPrefix(string(local), c.prefix))
	if err != nil || !bytes.HasPrefix(local, []byte(c.prefix)) {
		return 0, fmt.Errorf("bound JID %s is not %s<i>@...", jid, c.prefix)
	}
	return i, nil
}

func bareJID(jid []byte) []byte {
	if i := bytes.IndexByte(jid, '/'); i >= 0 {
		return jid[:i]
	}
	return jid
}

func (p *presenceRun) handle(m *msgRun, i int, c *client.Conn, st client.Stanza) {
	switch string(st.Name) {
	case "presence":
		from := client.Attr(st.Raw, "from")
		switch string(client.Attr(st.Raw, "type")) {
		case "subscribe":
			_ = c.Write([]byte("<presence type='subscribed' to='" + string(bareJID(from)) + "'/>"))
		case "error":
			m.bounce()
		case "":
			if status := client.Text(st.Raw, "status"); status != nil {
				m.deliver(i, status, bytes.Equal(bareJID(from), p.bare[i]))
			}
		}
	case "iq":
		id := client.Attr(st.Raw, "id")
		switch string(client.Attr(st.Raw, "type")) {
		case "set": // a roster push: acknowledge it (RFC 6121 2.1.6)
			_ = c.Write([]byte("<iq type='result' id='" + string(id) + "'/>"))
		case "result", "error":
			if bytes.HasPrefix(id, []byte("rg")) {
				ring, all := p.mutualContacts(p.acct[i], st.Raw)
				p.both[i].Store(int64(ring))
				p.fanout[i].Store(int64(all))
				p.rosters.Add(1)
			}
		}
	}
}

// isContact reports whether accounts a and b are ring neighbours of this run.
func (c *config) isContact(a, b int) bool {
	d := ((b-a)%c.n + c.n) % c.n
	return d != 0 && (d <= c.roster/2 || d >= c.n-c.roster/2)
}

// mutualContacts counts the items of a roster result with subscription both: ring
// are this run's contacts of account a, all every account of this run (items left by
// earlier runs with other --n or --roster included: they receive the broadcasts too).
func (p *presenceRun) mutualContacts(a int, raw []byte) (ring, all int) {
	for rest := raw; ; {
		i := bytes.Index(rest, []byte("<item "))
		if i < 0 {
			return ring, all
		}
		rest = rest[i+1:]
		if string(client.Attr(rest[len("item"):], "subscription")) != "both" {
			continue
		}
		b, err := p.cfg.accountOf(client.Attr(rest[len("item"):], "jid"))
		if err != nil || b < p.cfg.first || b >= p.cfg.first+p.cfg.n || b == a {
			continue
		}
		all++
		if p.cfg.isContact(a, b) {
			ring++
		}
	}
}

// build writes a presence change of session from; every account of the run with a
// mutual subscription is expected to receive it.
func (p *presenceRun) build(buf []byte, from int, _ *rand.Rand, stamp []byte) ([]byte, int64) {
	buf = append(buf, "<presence><status>"...)
	buf = append(buf, stamp...)
	return append(buf, "</status></presence>"...), p.fanout[from].Load()
}

// provision subscribes every session to its contacts (if --provision), then counts
// the mutual subscriptions in the rosters until all are there or the time is up.
func (p *presenceRun) provision(ctx context.Context, m *msgRun) (got, want int, err error) {
	cfg := p.cfg
	want = len(m.conns) * cfg.roster
	deadline := time.Now().Add(cfg.provisionTimeout)
	if cfg.provision {
		interval := time.Duration(float64(time.Second) * float64(cfg.shards) / cfg.provisionRate)
		start, sent := time.Now(), 0
		for i, c := range m.conns {
			a, err := cfg.accountOf(m.jids[i])
			if err != nil {
				return 0, want, err
			}
			for _, b := range cfg.contacts(a) {
				if d := time.Until(start.Add(time.Duration(sent) * interval)); d > 0 {
					if err := sleep(ctx, d); err != nil {
						return 0, want, err
					}
				}
				sent++
				if err := c.Write([]byte("<presence type='subscribe' to='" + cfg.user(b) + "@" + cfg.domain + "'/>")); err != nil {
					return 0, want, fmt.Errorf("provision: %w", err)
				}
			}
		}
	}
	// Count until every item is mutual: each round fetches every roster and waits for
	// all the answers (at least 10 s, whatever the deadline).
	for round := 0; ; round++ {
		p.rosters.Store(0)
		for i, c := range m.conns {
			if err := c.Write([]byte("<iq type='get' id='rg" + strconv.Itoa(round) + "'><query xmlns='jabber:iq:roster'/></iq>")); err != nil {
				return 0, want, fmt.Errorf("roster get %d: %w", i, err)
			}
		}
		roundEnd := time.Now().Add(10 * time.Second)
		for int(p.rosters.Load()) < len(m.conns) && time.Now().Before(roundEnd) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		got = 0
		for i := range p.both {
			got += int(p.both[i].Load())
		}
		if got >= want || !time.Now().Before(deadline) || ctx.Err() != nil {
			return got, want, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// presence is the shard side of the scenario.
func (s *shard) presence(ctx context.Context) error {
	m := &msgRun{shard: s}
	p := &presenceRun{cfg: s.cfg}
	m.build, m.handle = p.build, p.handle
	failed, errs, took := s.loginAll(ctx, m)
	defer func() {
		m.stopping.Store(true)
		abortAll(m.conns)
	}()
	p.bare, p.acct = make([][]byte, len(m.conns)), make([]int, len(m.conns))
	p.both, p.fanout = make([]atomic.Int64, len(m.conns)), make([]atomic.Int64, len(m.conns))
	for i := range m.conns {
		p.bare[i] = bareJID(m.jids[i])
		a, err := s.cfg.accountOf(m.jids[i])
		if err != nil {
			return err
		}
		p.acct[i] = a
	}
	m.startReaders()
	if err := s.emit(event{Ev: "ready", Connected: len(m.conns), Failed: failed, Errors: errs.snapshot(), ConnectSecs: took.Seconds()}); err != nil {
		return err
	}
	if err := s.await(ctx, cmdProvision); err != nil {
		return err
	}
	got, want, err := p.provision(ctx, m)
	if err != nil {
		return err
	}
	if err := s.emit(event{Ev: "provisioned", Items: got, Want: want}); err != nil {
		return err
	}
	if err := s.await(ctx, cmdGo); err != nil {
		return err
	}
	res := m.measure(ctx, s.cfg.msgRate/float64(s.cfg.shards), s.cfg.duration)
	if err := s.emit(event{Ev: "result", Messages: res}); err != nil {
		return err
	}
	return s.await(ctx, cmdStop)
}

// provisionRosters is the driver side of the set-up: it reports how many mutual
// subscriptions the rosters hold.
func (d *driver) provisionRosters(ctx context.Context, rep *report) error {
	d.series.setPhase("provision", 0)
	start := time.Now()
	if err := d.broadcast(cmdProvision); err != nil {
		return err
	}
	evs, err := d.collect(ctx, "provisioned")
	if err != nil {
		return err
	}
	p := &prepFigures{What: "roster items with subscription both", Secs: time.Since(start).Seconds()}
	for _, e := range evs {
		p.Got += e.Items
		p.Want += e.Want
	}
	rep.Prepared = p
	fmt.Fprintf(os.Stderr, "hermod-bench: rosters: %d of %d items with subscription both in %.1f s\n", p.Got, p.Want, p.Secs)
	if p.Got == 0 && p.Want > 0 {
		return fmt.Errorf("no roster holds a mutual subscription after %.0f s: the server keeps no rosters, or provisioning failed", p.Secs)
	}
	return nil
}
