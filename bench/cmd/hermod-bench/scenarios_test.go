package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMaxMessageRateSteps(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "max-message-rate", "--n", "20", "--shards", "2", "--step-start", "400", "--step", "400",
		"--step-duration", "300ms", "--max-steps", "3", "--p99-bound", "1s", "--drain", "2s", "--warmup", "200ms")
	st := r.Steps
	if st == nil || len(st.Steps) != 3 {
		t.Fatalf("steps %+v", st)
	}
	for k, s := range st.Steps {
		if !s.Sustained || s.Rate != float64(400*(k+1)) || s.Figures.Received != s.Figures.Sent || s.Figures.Sent < int64(0.95*s.Rate*0.3) {
			t.Fatalf("step %d: %+v %+v", k, s, s.Figures)
		}
	}
	if st.MaxSustained != 1200 || !strings.Contains(st.StoppedBecause, "max-steps") {
		t.Fatalf("max %v, stopped %q", st.MaxSustained, st.StoppedBecause)
	}
	if _, phases, err := readCSV(r.CSV); err != nil || !slices.Contains(phases, "warmup") || !slices.Contains(phases, "step-3") {
		t.Fatalf("time-series phases %v: %v", phases, err)
	}
	b, err := os.ReadFile(stepsCSVPath(r.CSV))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 4 {
		t.Fatalf("steps CSV has %d lines:\n%s", lines, b)
	}
}

func TestMaxMessageRateStopsAtBound(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "max-message-rate", "--n", "10", "--step-start", "200", "--step-duration", "200ms",
		"--p99-bound", "1ns", "--drain", "1s")
	st := r.Steps
	if st == nil || len(st.Steps) != 1 || st.Steps[0].Sustained || st.MaxSustained != 0 || !strings.Contains(st.StoppedBecause, "p99") {
		t.Fatalf("steps %+v", st)
	}
}

func TestStepCommandRoundTrip(t *testing.T) {
	rate, d, err := parseStep(stepCommand(1500.5, 3*time.Second))
	if err != nil || rate != 1500.5 || d != 3*time.Second {
		t.Fatalf("%v %v %v", rate, d, err)
	}
	for _, bad := range []string{"step", "step 100", "step x 1", "step 100 0", "go 1 2", "step -1 5"} {
		if _, _, err := parseStep(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestJudge(t *testing.T) {
	c := &config{p99Bound: time.Millisecond, lossBound: 0.01, stepDuration: time.Second}
	for _, tc := range []struct {
		name string
		f    messageFigures
		want string // substring of the verdict; "" sustained
	}{
		{"ok", messageFigures{Sent: 1000, Received: 995, Lost: 5, P99us: 900}, ""},
		{"slow", messageFigures{Sent: 1000, Received: 1000, P99us: 1500}, "p99"},
		{"lossy", messageFigures{Sent: 1000, Received: 980, Lost: 20, P99us: 100}, "lost 20"},
		{"pushed back", messageFigures{Sent: 900, Received: 900, P99us: 100}, "pushed back"},
		{"dropped", messageFigures{Sent: 1000, Received: 1000, Dropped: 1}, "dropped"},
		{"nothing", messageFigures{Sent: 1000}, "nothing delivered"},
	} {
		got := c.judge(&tc.f, 1000)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: verdict %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestContactsAreMutualRingNeighbours(t *testing.T) {
	c := &config{first: 1, n: 10, roster: 4}
	for a := 1; a <= 10; a++ {
		got := c.contacts(a)
		if len(got) != 4 || slices.Contains(got, a) {
			t.Fatalf("contacts of %d: %v", a, got)
		}
		for _, b := range got {
			if b < 1 || b > 10 || !slices.Contains(c.contacts(b), a) {
				t.Fatalf("contacts of %d: %v; %d is not mutual", a, got, b)
			}
		}
		for b := 1; b <= 10; b++ {
			if c.isContact(a, b) != slices.Contains(got, b) {
				t.Fatalf("isContact(%d, %d) disagrees with contacts %v", a, b, got)
			}
		}
	}
}

func TestMutualContactsIgnoresOtherItems(t *testing.T) {
	p := &presenceRun{cfg: &config{first: 1, n: 10, roster: 4, prefix: "user"}}
	raw := []byte(`<iq type='result' id='rg0'><query xmlns='jabber:iq:roster'>` +
		`<item jid='user2@localhost' subscription='both'/>` + // contact, mutual
		`<item subscription="both" jid="user10@localhost"/>` + // contact (wraps), mutual
		`<item jid='user3@localhost' subscription='to'/>` + // contact, one way
		`<item jid='user6@localhost' subscription='both'/>` + // not a contact in this run
		`<item jid='user42@localhost' subscription='both'/>` + // outside the run
		`<item jid='bot@localhost' subscription='both'/>` + // not an account
		`</query></iq>`)
	if ring, all := p.mutualContacts(1, raw); ring != 2 || all != 3 {
		t.Fatalf("mutual contacts %d of the ring, %d in all; want 2, 3", ring, all)
	}
}

func TestPresenceAgainstFakeServer(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "presence", "--n", "12", "--shards", "2", "--roster", "4", "--msg-rate", "300", "--duration", "300ms")
	if p := r.Prepared; p == nil || p.Want != 48 || p.Got != 48 {
		t.Fatalf("prepared %+v", r.Prepared)
	}
	m := r.Messages
	if m == nil || m.Sent < 60 || m.Expected != 4*m.Sent || m.Received != m.Expected || !selfCopies(m) || m.Lost != 0 || m.CPUPerDlv < 0 {
		t.Fatalf("presence %+v", m)
	}
}

// selfCopies reports whether the sender's own copies came back: the fake server
// reflects every one, but the drain waits for the others' copies only, so the last
// few may still be on their way.
func selfCopies(m *messageFigures) bool { return m.Self <= m.Sent && m.Self >= m.Sent*9/10 }

func TestMUCAgainstFakeServer(t *testing.T) {
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "muc", "--n", "10", "--shards", "2", "--room-size", "4", "--msg-rate", "300", "--duration", "300ms")
	if p := r.Prepared; p == nil || p.Want != 10 || p.Got != 10 || !strings.Contains(p.What, "conference.localhost") {
		t.Fatalf("prepared %+v", r.Prepared)
	}
	f.mu.Lock()
	rooms := len(f.rooms)
	f.mu.Unlock()
	m := r.Messages
	if rooms != 3 || m == nil || m.Sent < 60 || m.Received != m.Expected || !selfCopies(m) || m.Lost != 0 || m.Expected < 2*m.Sent {
		t.Fatalf("%d rooms, muc %+v", rooms, m)
	}
}

func TestMUCWithoutServiceFailsClearly(t *testing.T) {
	f := startFake(t, func(f *fakeServer) { f.noMUC = true })
	_, err := runDriverErr(t, f, "--scenario", "muc", "--n", "4", "--duration", "100ms")
	if err == nil || !strings.Contains(err.Error(), "offers no MUC service") {
		t.Fatalf("error %v", err)
	}
}

func TestFailedRunKeepsItsTimeSeries(t *testing.T) {
	f := startFake(t, func(f *fakeServer) { f.silentRooms = true })
	csv := filepath.Join(t.TempDir(), "failed.csv")
	_, err := runDriverErr(t, f, "--scenario", "muc", "--n", "4", "--provision-timeout", "500ms", "--csv", csv)
	if err == nil || !strings.Contains(err.Error(), "occupants joined") {
		t.Fatalf("error %v", err)
	}
	cols, phases, err := readCSV(csv)
	if err != nil || len(phases) < 2 || !slices.Contains(phases, "join") || slices.Max(cols["online"]) != 4 {
		t.Fatalf("time series of the failed run: phases %v, online %v: %v", phases, cols["online"], err)
	}
}

func TestChartsAndProfiles(t *testing.T) {
	var cpuSecs string
	pprof := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/debug/pprof/profile":
			cpuSecs = r.URL.Query().Get("seconds")
			_, _ = w.Write([]byte("cpu-profile"))
		case "/debug/pprof/heap":
			_, _ = w.Write([]byte("heap-profile"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer pprof.Close()
	f := startFake(t)
	r := runDriver(t, f, "--scenario", "messages", "--n", "10", "--msg-rate", "500", "--duration", "600ms",
		"--profile", pprof.URL, "--profile-seconds", "1")
	if cpuSecs != "1" || len(r.Profiles) != 2 {
		t.Fatalf("profile seconds %q, files %v", cpuSecs, r.Profiles)
	}
	for i, want := range []string{"cpu-profile", "heap-profile"} {
		if b, err := os.ReadFile(r.Profiles[i]); err != nil || string(b) != want {
			t.Fatalf("%s: %q %v", r.Profiles[i], b, err)
		}
	}
	cols, phases, err := readCSV(r.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) < 3 || !slices.Contains(phases, "run") || len(cols["server_rss_mib"]) != len(phases) || slices.Max(cols["server_rss_mib"]) <= 0 {
		t.Fatalf("series: phases %v, rss %v", phases, cols["server_rss_mib"])
	}
	if slices.Max(cols["delivered_per_s"]) <= 0 || slices.Max(cols["online"]) != 10 {
		t.Fatalf("series: delivered %v, online %v", cols["delivered_per_s"], cols["online"])
	}
	if len(r.Charts) < 4 {
		t.Fatalf("charts %v", r.Charts)
	}
	for _, c := range r.Charts {
		b, err := os.ReadFile(c)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Fatalf("%s is not a PNG: %v", c, err)
		}
		if err := os.Remove(c); err != nil {
			t.Fatal(err)
		}
	}
	// The plot subcommand redraws them from the CSV alone.
	if code := run(t.Context(), []string{"plot", r.CSV}); code != 0 {
		t.Fatalf("plot exited %d", code)
	}
	for _, c := range r.Charts {
		if _, err := os.Stat(c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadCSVRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"empty": "", "text": "t_s,online\n1,x\n"} {
		p := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := plotCSV(p, ""); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestProfileURLMustBeLoopback(t *testing.T) {
	for _, u := range []string{"http://192.0.2.1:8088", "ftp://127.0.0.1/", "http://example.com"} {
		if _, err := parseConfig("run", []string{"--profile", u}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := parseConfig("run", []string{"--profile", "http://127.0.0.1:28088"}); err != nil {
		t.Error(err)
	}
}

func TestParseSources(t *testing.T) {
	got, err := parseSources("127.0.0.2-127.0.0.4, 127.0.1.9,127.0.0.255-127.0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, ip := range got {
		s = append(s, ip.String())
	}
	if want := "127.0.0.2 127.0.0.3 127.0.0.4 127.0.1.9 127.0.0.255 127.0.1.0"; strings.Join(s, " ") != want {
		t.Fatalf("got %v, want %s", s, want)
	}
	for _, bad := range []string{"10.0.0.1", "127.0.0.5-127.0.0.2", "127.0.0.1-10.0.0.1", "::1", "127.0.0.1-127.1.0.1", "x"} {
		if _, err := parseSources(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLimitsCheck(t *testing.T) {
	l := limits{ports: 28232, nofile: 20000}
	for _, tc := range []struct {
		args []string
		want string // "" fits
	}{
		{[]string{"--n", "19000"}, ""},
		{[]string{"--n", "400000", "--shards", "22", "--sources", "127.0.0.2-127.0.0.16"}, ""},
		{[]string{"--n", "400000", "--shards", "22"}, "source addresses"},
		{[]string{"--n", "1000000", "--shards", "53", "--sources", "127.0.0.2-127.0.0.37"}, ""},
		{[]string{"--n", "19900", "--max-per-shard", "19900"}, "open files"},
		{[]string{"--n", "10000", "--transport", "bosh", "--url", "http://127.0.0.1:5280/bosh"}, "open files"},
		{[]string{"--scenario", "login", "--n", "400000", "--max-per-shard", "400000"}, ""},
	} {
		c, err := parseConfig("run", tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err = l.check(c)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
