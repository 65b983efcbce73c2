package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/bench/stats"
)

// The driver starts shards as "<own executable> shard ...": in tests that is the test
// binary, which then runs as a shard instead of running tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shard" {
		os.Exit(run(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

func decodeB64(s string) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	return string(b)
}

func TestParseConfig(t *testing.T) {
	ok := [][]string{
		{},
		{"--scenario", "login", "--mech", "scram-sha-256", "--sources", ""},
		{"--n", "19000"},
		{"--n", "38000", "--shards", "2", "--shard", "1/2"},
		{"--scenario", "login", "--shards", "4", "--n", "1"},
		{"--n", "19000", "--checkpoints", "5000,10000", "--shards", "2"},
	}
	for _, args := range ok {
		if _, err := parseConfig("run", args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	bad := map[string][]string{
		"mechanism":           {"--mech", "DIGEST-MD5"},
		"remote target":       {"--server", "192.0.2.1:5222"},
		"remote source":       {"--sources", "10.0.0.1"},
		"too many per shard":  {"--n", "19001"},
		"shard out of range":  {"--shard", "1/1"},
		"shard count differs": {"--shards", "2", "--n", "10", "--shard", "0/3"},
		"scenario":            {"--scenario", "storm"},
		"zero rate":           {"--rate", "0"},
		"positional":          {"extra"},
		"more shards than n":  {"--shards", "3", "--n", "2"},
	}
	for name, args := range bad {
		if _, err := parseConfig("run", args); err == nil {
			t.Errorf("%s: %v accepted", name, args)
		}
	}
}

func TestSpanCoversAccountsOnce(t *testing.T) {
	for _, tc := range []struct{ shards, total int }{{1, 10}, {2, 19001}, {3, 10}, {7, 100000}} {
		c := &config{first: 5, shards: tc.shards}
		next := 5
		for i := 0; i < tc.shards; i++ {
			lo, hi := c.span(i, tc.total)
			if lo != next || hi < lo {
				t.Fatalf("%+v: shard %d spans [%d,%d), expected to start at %d", tc, i, lo, hi, next)
			}
			next = hi
		}
		if next != 5+tc.total {
			t.Fatalf("%+v: spans end at %d", tc, next)
		}
	}
}

func TestErrorCountsBlankAddresses(t *testing.T) {
	var e errorCounts
	for i := 0; i < 30; i++ {
		e.add(&os.PathError{Op: "dial", Path: "127.0.0.2:" + strconv.Itoa(40000+i) + "->127.0.0.1:5222", Err: os.ErrDeadlineExceeded})
	}
	for i := 0; i < 25; i++ {
		e.add(&os.PathError{Op: "kind" + strconv.Itoa(i), Path: "x", Err: os.ErrClosed})
	}
	m := e.snapshot()
	if len(m) != maxKinds+1 || m["(other)"] != 6 {
		t.Fatalf("kinds %d, other %d: %v", len(m), m["(other)"], m)
	}
	if m["dial ADDR->ADDR: i/o timeout"] != 30 {
		t.Fatalf("addresses not blanked: %v", m)
	}
}

// runDriver runs the driver in-process against the fake server, with the test process
// standing in as the sampled server process.
func runDriver(t *testing.T, f *fakeServer, args ...string) *report {
	t.Helper()
	r, err := runDriverErr(t, f, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func runDriverErr(t *testing.T, f *fakeServer, args ...string) (*report, error) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	args = append([]string{"--server", f.addr(), "--server-pid", strconv.Itoa(os.Getpid()), "--json", out,
		"--csv", filepath.Join(dir, "series.csv"), "--interval", "100ms", "--progress=false",
		"--timeout", "60s", "--login-timeout", "5s", "--label", t.Name()}, args...)
	cfg, err := parseConfig("run", args)
	if err != nil {
		t.Fatal(err)
	}
	if err := drive(context.Background(), cfg, args); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r, nil
}

func TestIdleAgainstFakeServer(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "idle", "--n", "60", "--checkpoints", "10,35", "--shards", "2", "--rate", "2000", "--settle", "100ms")
	if r.Connect.OK != 60 || r.Connect.Failed != 0 || len(r.Idle) != 3 {
		t.Fatalf("connect %+v, %d stages", r.Connect, len(r.Idle))
	}
	for k, want := range []int{10, 35, 60} {
		st := r.Idle[k]
		if st.Target != want || st.Connected != want || st.ServerSockets < want || st.After.Server.RSS <= 0 || len(st.After.Harness) != 3 {
			t.Fatalf("stage %d: target %d connected %d sockets %d rss %d harness procs %d",
				k, st.Target, st.Connected, st.ServerSockets, st.After.Server.RSS, len(st.After.Harness))
		}
	}
	if last := r.Idle[2]; last.Alive != 60 || last.Dead != 0 {
		t.Fatalf("alive %d dead %d", last.Alive, last.Dead)
	}
	f.mu.Lock()
	logins := f.logins
	f.mu.Unlock()
	if logins != 60 {
		t.Fatalf("fake server saw %d logins: stages logged someone in twice or not at all", logins)
	}
}

func TestLoginAgainstFakeServer(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "login", "--login-users", "10", "--concurrency", "4", "--duration", "300ms", "--shards", "2")
	if r.Login == nil || r.Login.OK == 0 || r.Login.Failed != 0 {
		t.Fatalf("login %+v", r.Login)
	}
	f.mu.Lock()
	logins := f.logins
	f.mu.Unlock()
	// The fake server saw the warm-up logins and every cycle.
	if int64(logins) != 10+r.Login.OK {
		t.Fatalf("server counted %d logins, harness %d + 10 warm-up", logins, r.Login.OK)
	}
	if r.Login.Latency.Count() != uint64(r.Login.OK) {
		t.Fatalf("latency histogram holds %d cycles, %d ok", r.Login.Latency.Count(), r.Login.OK)
	}
}

func TestLoginFailuresAreCounted(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "idle", "--n", "5", "--password", "wrong", "--settle", "10ms")
	if r.Connect.OK != 0 || r.Connect.Failed != 5 {
		t.Fatalf("connect %+v", r.Connect)
	}
	found := false
	for k, v := range r.Connect.Errors {
		found = found || (strings.Contains(k, "not-authorized") && v == 5)
	}
	if !found {
		t.Fatalf("errors %v", r.Connect.Errors)
	}
}

func TestMessagesAgainstFakeServer(t *testing.T) {
	for _, mode := range [][]string{{"--window", "20"}, {"--msg-rate", "2000"}} {
		t.Run(mode[0], func(t *testing.T) {
			f := startFake(t)
			r := runDriver(t, f, append([]string{"--scenario", "messages", "--n", "40", "--shards", "2", "--duration", "400ms"}, mode...)...)
			m := r.Messages
			if m == nil || m.Sessions != 40 || m.Sent == 0 || m.Received != m.Sent || m.Lost != 0 || m.Bounced != 0 || m.Foreign != 0 {
				t.Fatalf("messages %+v", m)
			}
			if m.Latency.Count() != uint64(m.Received) || m.P50us <= 0 || m.P99us < m.P50us {
				t.Fatalf("latency: %d values for %d messages, p50 %v p99 %v", m.Latency.Count(), m.Received, m.P50us, m.P99us)
			}
			if mode[0] == "--msg-rate" {
				// 2000/s for 0.4 s: the open loop must keep to its schedule.
				if m.Sent < 600 || m.Sent > 900 {
					t.Fatalf("open loop sent %d messages, want about 800", m.Sent)
				}
			}
		})
	}
}

func TestBouncedMessagesAreCountedNotLost(t *testing.T) {
	f := startFake(t, func(f *fakeServer) { f.bounceAll = true })
	r := runDriver(t, f, "--scenario", "messages", "--n", "10", "--duration", "200ms", "--window", "5")
	m := r.Messages
	if m == nil || m.Sent == 0 || m.Bounced != m.Sent || m.Received != 0 || m.Lost != 0 || m.PerSec != 0 {
		t.Fatalf("messages %+v", m)
	}
}

func TestSummarizeMedians(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	for i, perSession := range []float64{3072, 1024, 2048} {
		r := &report{Label: "h-idle", Scenario: "idle", Harness: &harnessFigures{}, Idle: []*idleFigures{
			{Target: 10000, Connected: 10000, RSSPerSession: perSession, ConnectCPUPerLogin: float64(i)},
			{Target: 19000, Connected: 19000, RSSPerSession: 2 * perSession},
		}}
		if err := r.appendJSON(path); err != nil {
			t.Fatal(err)
		}
	}
	for _, rate := range []float64{100, 300} {
		r := &report{Label: "h-msg", Scenario: "messages", Harness: &harnessFigures{}, Messages: &messageFigures{PerSec: rate, Latency: &stats.Histogram{}}}
		if err := r.appendJSON(path); err != nil {
			t.Fatal(err)
		}
	}
	for _, maxRate := range []float64{4000, 6000, 5000} {
		r := &report{Label: "h-steps", Scenario: "max-message-rate", Harness: &harnessFigures{}, Steps: &stepFigures{
			MaxSustained: maxRate, MaxDelivered: maxRate - 1, Steps: []*stepFigure{
				{Rate: maxRate, Sustained: true, Figures: &messageFigures{P99us: maxRate / 2, Latency: &stats.Histogram{}}},
				{Rate: maxRate + 1000, Figures: &messageFigures{P99us: 1e6, Latency: &stats.Histogram{}}},
			}}}
		if err := r.appendJSON(path); err != nil {
			t.Fatal(err)
		}
	}
	r := &report{Label: "h-presence", Scenario: "presence", Harness: &harnessFigures{}, Messages: &messageFigures{CPUPerDlv: 12.5, Latency: &stats.Histogram{}}}
	if err := r.appendJSON(path); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := summarize([]string{path}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| h-idle @10000 | 3 | 10000 | 2.00 (1.00–3.00) |",
		"| h-idle @19000 | 3 | 19000 | 4.00 (2.00–6.00) |",
		"| h-msg | 2 | 0 | 200 (100–300) |",
		"| idle run | runs | sessions held |",
		"| h-steps | 3 | 5000 (4000–6000) | 4999 (3999–5999) | 0 | 2.50 (2.00–3.00) | 2 |",
		"| h-presence | 1 | 0 | 0 | 12.5 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if err := summarize([]string{filepath.Join(t.TempDir(), "missing")}, &out); err == nil {
		t.Error("missing file accepted")
	}
}
