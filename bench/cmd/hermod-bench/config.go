package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hermod-im/hermod/bench/client"
)

// defaultPerShard keeps a shard under the 20,000 open files a process may hold on
// the benchmark machine (a hard limit there); --max-per-shard changes it elsewhere.
const defaultPerShard = 19000

// config is every flag of run and shard; run passes its own arguments on to its shards.
type config struct {
	server, domain       string
	prefix, password     string
	first                int
	n                    int
	checkpoints          []int
	shards               int
	perShard             int
	shard                int // this shard's index (shard command)
	sources              []net.IP
	startTLS             bool
	mech                 client.Mechanism
	rate                 float64
	rampConc             int
	scenario             string
	settle               time.Duration
	duration             time.Duration
	concurrency          int
	loginUsers           int
	msgRate              float64
	window               int
	senders              int
	resource             string
	serverPID            int
	serverPIDFile        string
	gcURL                string
	jsonOut, label       string
	timeout, loginTimout time.Duration
	drain                time.Duration
	closeWait            time.Duration

	interval time.Duration // time-series sampling
	csvPath  string        // time-series CSV ("" after parse: none)
	progress bool

	// max-message-rate
	stepStart, stepBy float64
	stepDuration      time.Duration
	warmup            time.Duration
	p99Bound          time.Duration
	lossBound         float64
	maxSteps          int

	// presence
	roster           int
	provision        bool
	provisionRate    float64
	provisionTimeout time.Duration

	// muc
	roomSize   int
	mucService string

	// --transport
	transport client.Transport
	webURL    string

	// --profile
	profileURL  string
	profileSecs int
}

func parseConfig(cmd string, args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("hermod-bench "+cmd, flag.ContinueOnError)
	fs.StringVar(&c.server, "server", "127.0.0.1:5222", "c2s address of the server (host:port)")
	fs.StringVar(&c.domain, "domain", "localhost", "XMPP domain of the accounts")
	fs.StringVar(&c.prefix, "user-prefix", "user", "accounts are PREFIX<i>@DOMAIN")
	fs.StringVar(&c.password, "password", "password", "password of every account")
	fs.IntVar(&c.first, "first", 1, "index of the first account")
	fs.IntVar(&c.n, "n", 1000, "sessions to hold (idle, messages), over all shards")
	checkpoints := fs.String("checkpoints", "", "idle: session counts below --n at which to settle and sample too (comma-separated, ascending)")
	fs.IntVar(&c.shards, "shards", 1, "shard processes (each holds at most --max-per-shard sessions)")
	fs.IntVar(&c.perShard, "max-per-shard", defaultPerShard, "sessions one shard process may hold: below its open-file limit (ulimit -n) with room to spare")
	shard := fs.String("shard", "", "i/n: run as shard i of n (set by run)")
	sources := fs.String("sources", "127.0.0.2-127.0.0.5", "local addresses to connect from, in turn: a comma-separated list of addresses and ranges A-B (e.g. 127.0.0.2-127.0.0.41); empty: the kernel's choice")
	fs.BoolVar(&c.startTLS, "starttls", false, "negotiate STARTTLS (certificates are not verified)")
	mech := fs.String("mech", "PLAIN", "SASL mechanism: PLAIN or SCRAM-SHA-256")
	fs.Float64Var(&c.rate, "rate", 1000, "session arrivals per second while logging in (over all shards)")
	fs.IntVar(&c.rampConc, "ramp-concurrency", 64, "logins in flight per shard while ramping up")
	fs.StringVar(&c.scenario, "scenario", "idle", "idle (alias max-users), login, messages, max-message-rate, presence or muc")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "idle: wait after the last login before sampling")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "login, messages: measurement window")
	fs.IntVar(&c.concurrency, "concurrency", 32, "login: concurrent login cycles per shard")
	fs.IntVar(&c.loginUsers, "login-users", 1000, "login: accounts cycled through (split over shards)")
	fs.Float64Var(&c.msgRate, "msg-rate", 0, "messages: total messages per second (0: closed loop with --window in flight); presence: presence changes per second (default 100); muc: groupchat messages per second (default 100)")
	fs.IntVar(&c.window, "window", 1000, "messages: messages in flight per shard in the closed loop")
	fs.IntVar(&c.senders, "senders", 2, "messages: sending goroutines per shard")
	fs.StringVar(&c.resource, "resource", "hb", "resource to bind (idle, messages)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "PID of the server process to sample")
	fs.StringVar(&c.serverPIDFile, "server-pidfile", "", "file holding the server PID (read at start)")
	fs.StringVar(&c.gcURL, "gc-url", "", "idle: URL to GET to make the server collect garbage before a second sample (Hermod: /debug/pprof/heap?gc=1)")
	fs.StringVar(&c.jsonOut, "json", "", "append the result as one JSON line to this file")
	fs.StringVar(&c.label, "label", "", "label recorded with the result (server name, variant)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	fs.DurationVar(&c.loginTimout, "login-timeout", 30*time.Second, "bound on one login")
	fs.DurationVar(&c.closeWait, "close-wait", 2*time.Second, "login: how long a cycle waits for the server to close its stream (0: reset at once after </stream:stream>)")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "messages: wait for messages in flight after the window")
	fs.DurationVar(&c.interval, "interval", time.Second, "time-series sampling interval (progress line, CSV, charts)")
	fs.StringVar(&c.csvPath, "csv", "auto", "time-series CSV; charts (PNG) and profiles are written beside it. auto: ./hermod-bench-<label|scenario>-<UTC time>.csv; none: no CSV, no charts")
	fs.BoolVar(&c.progress, "progress", true, "print a progress line every --interval")
	fs.Float64Var(&c.stepStart, "step-start", 1000, "max-message-rate: total rate of the first step (messages/s)")
	fs.Float64Var(&c.stepBy, "step", 1000, "max-message-rate: rate added at each step")
	fs.DurationVar(&c.stepDuration, "step-duration", 10*time.Second, "max-message-rate: length of each step")
	fs.DurationVar(&c.warmup, "warmup", 0, "max-message-rate: send at --step-start for this long before the first step, unjudged (JIT, caches, TCP windows)")
	fs.DurationVar(&c.p99Bound, "p99-bound", 5*time.Millisecond, "max-message-rate: a step whose p99 latency exceeds this fails")
	fs.Float64Var(&c.lossBound, "loss-bound", 0, "max-message-rate: a step losing more than this fraction of its messages fails")
	fs.IntVar(&c.maxSteps, "max-steps", 30, "max-message-rate: bound on the number of steps")
	fs.IntVar(&c.roster, "roster", 10, "presence: contacts per user (even; ring neighbours i±1..i±roster/2, mutual subscriptions)")
	fs.BoolVar(&c.provision, "provision", true, "presence: create the rosters over XMPP (subscribe, auto-approve) before measuring; false if they exist already")
	fs.Float64Var(&c.provisionRate, "provision-rate", 5000, "presence: subscription requests per second while provisioning (over all shards)")
	fs.DurationVar(&c.provisionTimeout, "provision-timeout", 60*time.Second, "presence: bound on provisioning")
	fs.IntVar(&c.roomSize, "room-size", 10, "muc: occupants per room (users PREFIX<first>.. fill rooms in order)")
	fs.StringVar(&c.mucService, "muc-service", "", "muc: the MUC service JID (empty: found by service discovery on --domain)")
	fs.StringVar(&c.profileURL, "profile", "", "base URL of the server's /debug/pprof (e.g. http://127.0.0.1:28088): fetch a CPU profile during the measured phase and a heap profile at its end, saved beside the CSV")
	fs.IntVar(&c.profileSecs, "profile-seconds", 0, "--profile: CPU profile length (0: the measured phase, at most 60 s)")
	transport := fs.String("transport", "tcp", "tcp (c2s, --server), ws (RFC 7395 WebSocket, --url) or bosh (XEP-0206, --url): every scenario runs over any of them")
	fs.StringVar(&c.webURL, "url", "", "ws, bosh: the endpoint, e.g. ws://127.0.0.1:5280/ws or http://127.0.0.1:5280/bosh")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch *transport {
	case "tcp":
	case "ws", "websocket":
		c.transport = client.WebSocket
	case "bosh":
		c.transport = client.BOSH
	default:
		return nil, fmt.Errorf("--transport %q: tcp, ws or bosh", *transport)
	}
	if c.transport != client.TCP {
		if c.webURL == "" {
			return nil, fmt.Errorf("--transport %s needs --url", *transport)
		}
		if err := checkLoopbackURL(strings.Replace(strings.Replace(c.webURL, "wss://", "https://", 1), "ws://", "http://", 1)); err != nil {
			return nil, fmt.Errorf("--url: %w", err)
		}
		if c.startTLS {
			return nil, errors.New("--starttls is for --transport tcp; use a wss:// or https:// --url")
		}
	}
	if c.scenario == "max-users" {
		c.scenario = "idle"
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.mech = client.Mechanism(strings.ToUpper(*mech))
	if c.mech != client.PLAIN && c.mech != client.SCRAMSHA256 {
		return nil, fmt.Errorf("--mech %q: PLAIN or SCRAM-SHA-256", *mech)
	}
	var err error
	if c.sources, err = parseSources(*sources); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(c.server)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--server %s: loopback targets only", c.server)
	}
	switch c.scenario {
	case "idle", "login", "messages", "max-message-rate":
	case "presence", "muc":
		if c.msgRate == 0 {
			c.msgRate = 100
		}
	default:
		return nil, fmt.Errorf("--scenario %q: idle (max-users), login, messages, max-message-rate, presence or muc", c.scenario)
	}
	if c.interval < 100*time.Millisecond || c.stepStart <= 0 || c.stepBy < 0 || c.stepDuration <= 0 || c.warmup < 0 || c.p99Bound <= 0 ||
		c.lossBound < 0 || c.lossBound >= 1 || c.maxSteps < 1 || c.roster < 0 || c.provisionRate <= 0 || c.roomSize < 2 || c.profileSecs < 0 {
		return nil, errors.New("--interval (at least 100ms), step, roster, room and profile settings must be positive (--loss-bound a fraction below 1)")
	}
	if c.roster%2 == 1 {
		return nil, fmt.Errorf("--roster %d: an even number (ring neighbours on both sides)", c.roster)
	}
	if c.scenario == "presence" && c.roster >= c.n {
		return nil, fmt.Errorf("--roster %d: fewer contacts than users (--n %d)", c.roster, c.n)
	}
	if c.profileURL != "" {
		if err := checkLoopbackURL(c.profileURL); err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
	}
	if c.shards < 1 || c.n < 1 || c.rate <= 0 || c.rampConc < 1 || c.concurrency < 1 || c.loginUsers < 1 ||
		c.window < 1 || c.senders < 1 || c.msgRate < 0 || c.duration <= 0 || c.timeout <= 0 {
		return nil, errors.New("counts, rates and durations must be positive")
	}
	if c.shards > c.n && c.scenario != "login" {
		return nil, errors.New("more shards than sessions")
	}
	if c.perShard < 1 {
		return nil, errors.New("--max-per-shard must be positive")
	}
	if per := (c.n + c.shards - 1) / c.shards; per > c.perShard && c.scenario != "login" {
		return nil, fmt.Errorf("%d sessions per shard: at most %d fit under the open-file limit (--max-per-shard); use --shards %d", per, c.perShard, (c.n+c.perShard-1)/c.perShard)
	}
	for _, f := range strings.Split(*checkpoints, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		prev := 0
		if len(c.checkpoints) > 0 {
			prev = c.checkpoints[len(c.checkpoints)-1]
		}
		if err != nil || v <= prev || v >= c.n || v < c.shards {
			return nil, fmt.Errorf("--checkpoints: %q must be ascending counts between --shards and --n", *checkpoints)
		}
		c.checkpoints = append(c.checkpoints, v)
	}
	if *shard != "" {
		i, n, ok := strings.Cut(*shard, "/")
		si, err1 := strconv.Atoi(i)
		sn, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || sn != c.shards || si < 0 || si >= sn {
			return nil, fmt.Errorf("--shard %q: want i/n with 0 <= i < n = --shards", *shard)
		}
		c.shard = si
	}
	return c, nil
}

// parseSources parses --sources: loopback addresses and ranges A-B of them.
func parseSources(spec string) ([]net.IP, error) {
	var out []net.IP
	for _, s := range strings.Split(spec, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(s, "-")
		a, b := net.ParseIP(lo).To4(), net.ParseIP(hi).To4()
		if !isRange {
			b = a
		}
		if a == nil || b == nil || !a.IsLoopback() || !b.IsLoopback() {
			return nil, fmt.Errorf("--sources: %q is not a loopback IPv4 address or range", s)
		}
		from, to := binary.BigEndian.Uint32(a), binary.BigEndian.Uint32(b)
		if to < from || to-from >= 1<<16 {
			return nil, fmt.Errorf("--sources: range %q is empty or too large", s)
		}
		for v := from; v <= to; v++ {
			ip := make(net.IP, 4)
			binary.BigEndian.PutUint32(ip, v)
			out = append(out, ip)
		}
	}
	return out, nil
}

// span returns the accounts [lo, hi) of shard i when total accounts starting at
// first are split over the shards.
func (c *config) span(i, total int) (lo, hi int) {
	return c.first + i*total/c.shards, c.first + (i+1)*total/c.shards
}

// stages returns the session counts of an idle run: the checkpoints, then n.
func (c *config) stages() []int { return append(append([]int(nil), c.checkpoints...), c.n) }

// share returns how many of total sessions shard i holds.
func (c *config) share(i, total int) int {
	lo, hi := c.span(i, total)
	return hi - lo
}

// login logs account user in from src over the configured transport.
func (c *config) login(ctx context.Context, o *client.Options, src net.IP, user string) (*client.Conn, error) {
	return client.Login(ctx, o, src, user, c.password)
}

// user returns the local part of account i.
func (c *config) user(i int) string { return c.prefix + strconv.Itoa(i) }

// options returns the login options of the scenario.
func (c *config) options(sessions bool) *client.Options {
	o := &client.Options{Addr: c.server, Domain: c.domain, StartTLS: c.startTLS, Mech: c.mech, Transport: c.transport, URL: c.webURL,
		Timeout: c.loginTimout, Cache: &client.ScramCache{}}
	if sessions {
		o.Resource, o.Presence, o.Sync = c.resource, true, true
	}
	return o
}
