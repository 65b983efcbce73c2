package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hermod-im/hermod/bench/client"
)

// maxPerShard keeps a shard under the 20,000 open files a process may hold.
const maxPerShard = 19000

// config is every flag of run and shard; run passes its own arguments on to its shards.
type config struct {
	server, domain       string
	prefix, password     string
	first                int
	n                    int
	checkpoints          []int
	shards               int
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
	fs.IntVar(&c.shards, "shards", 1, "shard processes (each holds at most 19000 sessions)")
	shard := fs.String("shard", "", "i/n: run as shard i of n (set by run)")
	sources := fs.String("sources", "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5", "local addresses to connect from, in turn (empty: kernel's choice)")
	fs.BoolVar(&c.startTLS, "starttls", false, "negotiate STARTTLS (certificates are not verified)")
	mech := fs.String("mech", "PLAIN", "SASL mechanism: PLAIN or SCRAM-SHA-256")
	fs.Float64Var(&c.rate, "rate", 1000, "session arrivals per second while logging in (over all shards)")
	fs.IntVar(&c.rampConc, "ramp-concurrency", 64, "logins in flight per shard while ramping up")
	fs.StringVar(&c.scenario, "scenario", "idle", "idle, login or messages")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "idle: wait after the last login before sampling")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "login, messages: measurement window")
	fs.IntVar(&c.concurrency, "concurrency", 32, "login: concurrent login cycles per shard")
	fs.IntVar(&c.loginUsers, "login-users", 1000, "login: accounts cycled through (split over shards)")
	fs.Float64Var(&c.msgRate, "msg-rate", 0, "messages: total messages per second (0: closed loop with --window in flight)")
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
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.mech = client.Mechanism(strings.ToUpper(*mech))
	if c.mech != client.PLAIN && c.mech != client.SCRAMSHA256 {
		return nil, fmt.Errorf("--mech %q: PLAIN or SCRAM-SHA-256", *mech)
	}
	for _, s := range strings.Split(*sources, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("--sources: %q is not a loopback address", s)
		}
		c.sources = append(c.sources, ip)
	}
	host, _, err := net.SplitHostPort(c.server)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--server %s: loopback targets only", c.server)
	}
	switch c.scenario {
	case "idle", "login", "messages":
	default:
		return nil, fmt.Errorf("--scenario %q: idle, login or messages", c.scenario)
	}
	if c.shards < 1 || c.n < 1 || c.rate <= 0 || c.rampConc < 1 || c.concurrency < 1 || c.loginUsers < 1 ||
		c.window < 1 || c.senders < 1 || c.msgRate < 0 || c.duration <= 0 || c.timeout <= 0 {
		return nil, errors.New("counts, rates and durations must be positive")
	}
	if c.shards > c.n && c.scenario != "login" {
		return nil, errors.New("more shards than sessions")
	}
	if per := (c.n + c.shards - 1) / c.shards; per > maxPerShard && c.scenario != "login" {
		return nil, fmt.Errorf("%d sessions per shard: at most %d fit under the open-file limit; use --shards %d", per, maxPerShard, (c.n+maxPerShard-1)/maxPerShard)
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

// user returns the local part of account i.
func (c *config) user(i int) string { return c.prefix + strconv.Itoa(i) }

// options returns the login options of the scenario.
func (c *config) options(sessions bool) *client.Options {
	o := &client.Options{Addr: c.server, Domain: c.domain, StartTLS: c.startTLS, Mech: c.mech,
		Timeout: c.loginTimout, Cache: &client.ScramCache{}}
	if sessions {
		o.Resource, o.Presence, o.Sync = c.resource, true, true
	}
	return o
}
