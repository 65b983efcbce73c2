package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hermod-im/hermod/bench/client"
)

// The muc scenario (XEP-0045). The accounts fill rooms of --room-size occupants in
// order: account first+k is in room hbroom<k/room-size> of the MUC service, with its
// user name as nick. The service is --muc-service or, by default, the first item of
// the domain's disco#items whose disco#info has identity conference/text; a server
// without one fails the run at once, saying so. The first occupant of each room joins
// first and creates it (an instant room, XEP-0045 10.1.2, if the service locks new
// rooms); then the others join. In the measured phase random occupants send
// groupchat messages carrying their send time at --msg-rate per second in total;
// every other occupant receives each one. The sender's own copy (the room reflects
// it) is counted apart.

const (
	cmdOwners = "owners"
	cmdJoin   = "join"
	nsMUC     = "http://jabber.org/protocol/muc"
	nsDisco   = "http://jabber.org/protocol/disco"
)

// mucRun is a shard's muc state beside its msgRun.
type mucRun struct {
	cfg     *config
	service string
	room    [][]byte // room JID of each session
	self    [][]byte // room JID/nick of each session
	others  []int64  // other occupants of each session's room
	owner   []bool
	joined  []atomic.Bool
	joinErr atomic.Value // string: the first join error
	nJoined atomic.Int64
}

// discoverMUC returns the MUC service of the domain, using c before its reader starts.
func discoverMUC(c *client.Conn, cfg *config) (string, error) {
	hasConference := func(jid string) (bool, error) {
		raw, err := c.IQ([]byte("<iq type='get' id='di' to='"+jid+"'><query xmlns='"+nsDisco+"#info'/></iq>"), "di", 10*time.Second)
		if err != nil {
			return false, err
		}
		return bytes.Contains(raw, []byte("category='conference'")) || bytes.Contains(raw, []byte(`category="conference"`)), nil
	}
	if cfg.mucService != "" {
		ok, err := hasConference(cfg.mucService)
		if err != nil {
			return "", fmt.Errorf("muc: disco#info of --muc-service %s: %w", cfg.mucService, err)
		}
		if !ok {
			return "", fmt.Errorf("muc: %s has no conference identity in its disco#info: not a MUC service", cfg.mucService)
		}
		return cfg.mucService, nil
	}
	raw, err := c.IQ([]byte("<iq type='get' id='ds' to='"+cfg.domain+"'><query xmlns='"+nsDisco+"#items'/></iq>"), "ds", 10*time.Second)
	if err != nil {
		return "", fmt.Errorf("muc: disco#items of %s: %w", cfg.domain, err)
	}
	var items []string
	for rest := raw; ; {
		i := bytes.Index(rest, []byte("<item "))
		if i < 0 {
			break
		}
		rest = rest[i:]
		if jid := client.Attr(rest, "jid"); len(jid) > 0 {
			items = append(items, string(jid))
		}
		rest = rest[1:]
	}
	for _, it := range items {
		if ok, err := hasConference(it); err == nil && ok {
			return it, nil
		}
	}
	return "", fmt.Errorf("muc: %s offers no MUC service: none of the %d items of its disco#items %v has a conference identity (the server has no XEP-0045 support, or it is not enabled)", cfg.domain, len(items), items)
}

func (u *mucRun) handle(m *msgRun, i int, c *client.Conn, st client.Stanza) {
	from := client.Attr(st.Raw, "from")
	switch string(st.Name) {
	case "message":
		switch string(client.Attr(st.Raw, "type")) {
		case "groupchat":
			if body := client.Text(st.Raw, "body"); body != nil {
				m.deliver(i, body, bytes.Equal(from, u.self[i]))
			}
		case "error":
			m.bounce()
		}
	case "presence":
		if !bytes.Equal(from, u.self[i]) {
			return
		}
		switch string(client.Attr(st.Raw, "type")) {
		case "error":
			u.joinErr.CompareAndSwap(nil, fmt.Sprintf("join %s: %s", u.self[i], st.Raw))
		case "":
			created := bytes.Contains(st.Raw, []byte("code='201'")) || bytes.Contains(st.Raw, []byte(`code="201"`))
			if created {
				// A new, locked room: accept the default configuration (instant room).
				_ = c.Write([]byte("<iq type='set' id='cfg" + strconv.Itoa(i) + "' to='" + string(u.room[i]) +
					"'><query xmlns='" + nsMUC + "#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>"))
				return
			}
			u.markJoined(i)
		}
	case "iq":
		id := client.Attr(st.Raw, "id")
		if bytes.HasPrefix(id, []byte("cfg")) {
			if string(client.Attr(st.Raw, "type")) == "result" {
				u.markJoined(i)
			} else {
				u.joinErr.CompareAndSwap(nil, fmt.Sprintf("configure %s: %s", u.room[i], st.Raw))
			}
		} else if string(client.Attr(st.Raw, "type")) == "get" || string(client.Attr(st.Raw, "type")) == "set" {
			_ = c.Write([]byte("<iq type='error' id='" + string(id) + "' to='" + string(from) +
				"'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"))
		}
	}
}

func (u *mucRun) markJoined(i int) {
	if u.joined[i].CompareAndSwap(false, true) {
		u.nJoined.Add(1)
	}
}

// build writes a groupchat message of session from to its room.
func (u *mucRun) build(buf []byte, from int, _ *rand.Rand, stamp []byte) ([]byte, int64) {
	buf = append(buf, "<message type='groupchat' to='"...)
	buf = append(buf, u.room[from]...)
	buf = append(buf, "'><body>"...)
	buf = append(buf, stamp...)
	return append(buf, "</body></message>"...), u.others[from]
}

// join sends the join presence of the owners (owners true) or the other occupants,
// and waits until they are in or --provision-timeout passes.
func (u *mucRun) join(ctx context.Context, m *msgRun, owners bool) (got, want int, err error) {
	start := u.nJoined.Load()
	interval := time.Duration(float64(time.Second) * float64(u.cfg.shards) / u.cfg.rate)
	t0 := time.Now()
	for i, c := range m.conns {
		if u.owner[i] != owners {
			continue
		}
		if d := time.Until(t0.Add(time.Duration(want) * interval)); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return 0, want, err
			}
		}
		want++
		if err := c.Write([]byte("<presence to='" + string(u.self[i]) + "'><x xmlns='" + nsMUC + "'><history maxstanzas='0'/></x></presence>")); err != nil {
			return 0, want, fmt.Errorf("muc: join: %w", err)
		}
	}
	deadline := time.Now().Add(u.cfg.provisionTimeout)
	for int(u.nJoined.Load()-start) < want && time.Now().Before(deadline) && ctx.Err() == nil {
		if e, ok := u.joinErr.Load().(string); ok {
			return int(u.nJoined.Load() - start), want, errors.New("muc: " + e)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return int(u.nJoined.Load() - start), want, nil
}

// muc is the shard side of the scenario.
func (s *shard) muc(ctx context.Context) error {
	m := &msgRun{shard: s}
	u := &mucRun{cfg: s.cfg}
	m.build, m.handle = u.build, u.handle
	failed, errs, took := s.loginAll(ctx, m)
	defer func() {
		m.stopping.Store(true)
		abortAll(m.conns)
	}()
	if len(m.conns) == 0 {
		return errors.New("muc: no session logged in")
	}
	var err error
	if u.service, err = discoverMUC(m.conns[0], s.cfg); err != nil {
		return err
	}
	n := len(m.conns)
	u.room, u.self, u.others = make([][]byte, n), make([][]byte, n), make([]int64, n)
	u.owner, u.joined = make([]bool, n), make([]atomic.Bool, n)
	for i := range m.conns {
		a, err := s.cfg.accountOf(m.jids[i])
		if err != nil {
			return err
		}
		k := a - s.cfg.first
		r := k / s.cfg.roomSize
		u.room[i] = []byte("hbroom" + strconv.Itoa(r) + "@" + u.service)
		u.self[i] = []byte(string(u.room[i]) + "/" + s.cfg.user(a))
		u.others[i] = int64(min(s.cfg.roomSize, s.cfg.n-r*s.cfg.roomSize) - 1)
		u.owner[i] = k%s.cfg.roomSize == 0
	}
	m.startReaders()
	if err := s.emit(event{Ev: "ready", Connected: len(m.conns), Failed: failed, Errors: errs.snapshot(), ConnectSecs: took.Seconds()}); err != nil {
		return err
	}
	for _, phase := range []string{cmdOwners, cmdJoin} {
		if err := s.await(ctx, phase); err != nil {
			return err
		}
		got, want, err := u.join(ctx, m, phase == cmdOwners)
		if err != nil {
			return err
		}
		if err := s.emit(event{Ev: "joined", Items: got, Want: want, Message: u.service}); err != nil {
			return err
		}
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

// joinRooms is the driver side of the set-up: owners first, then the others.
func (d *driver) joinRooms(ctx context.Context, rep *report) error {
	d.series.setPhase("join", 0)
	start := time.Now()
	p := &prepFigures{What: "room occupants joined"}
	for _, phase := range []string{cmdOwners, cmdJoin} {
		if err := d.broadcast(phase); err != nil {
			return err
		}
		evs, err := d.collect(ctx, "joined")
		if err != nil {
			return err
		}
		for _, e := range evs {
			p.Got += e.Items
			p.Want += e.Want
		}
		if phase == cmdOwners && len(evs) > 0 {
			p.What = "occupants joined in rooms of " + evs[0].Message
		}
	}
	p.Secs = time.Since(start).Seconds()
	rep.Prepared = p
	fmt.Fprintf(os.Stderr, "hermod-bench: muc: %d of %d %s in %.1f s\n", p.Got, p.Want, p.What, p.Secs)
	if p.Got < p.Want {
		return fmt.Errorf("muc: only %d of %d occupants joined within --provision-timeout", p.Got, p.Want)
	}
	return nil
}
