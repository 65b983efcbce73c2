package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// privateServer is a mariadbd of the test's own, on a free loopback port, that the
// test may kill and restart on the same data directory.
type privateServer struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	logFile *os.File
}

// findBinary looks for name on PATH and in /usr/sbin, /usr/bin.
func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startPrivateServer installs a data directory and starts mariadbd on it. It skips t
// when the binaries are absent, except under CI=true.
func startPrivateServer(t *testing.T) *privateServer {
	t.Helper()
	server, install := findBinary("mariadbd"), findBinary("mariadb-install-db")
	if server == "" || install == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("mariadbd or mariadb-install-db not found; the fault test needs them")
		}
		t.Skip("mariadbd or mariadb-install-db not found: the fault test needs a private server")
	}
	dir := t.TempDir()
	args := []string{"--no-defaults", "--auth-root-authentication-method=normal", "--datadir=" + filepath.Join(dir, "data"),
		"--skip-test-db", "--innodb-buffer-pool-size=16M"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	ps := &privateServer{t: t, bin: server, dir: dir, port: port, logFile: logFile}
	t.Cleanup(func() {
		ps.kill()
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("mariadbd log:\n%s", b)
			}
		}
	})
	ps.start()
	return ps
}

func (ps *privateServer) dsn(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", ps.port, db)
}

// start runs mariadbd and waits until it accepts connections.
func (ps *privateServer) start() {
	t := ps.t
	t.Helper()
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(ps.dir, "data"),
		"--socket=" + filepath.Join(ps.dir, "sock"), "--pid-file=" + filepath.Join(ps.dir, "pid"),
		fmt.Sprintf("--port=%d", ps.port), "--bind-address=127.0.0.1", "--skip-grant-tables",
		"--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=16M"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	ps.cmd = exec.Command(ps.bin, args...)
	ps.cmd.Stdout, ps.cmd.Stderr = ps.logFile, ps.logFile
	if err := ps.cmd.Start(); err != nil {
		t.Fatalf("start mariadbd: %v", err)
	}
	ps.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(ps.cmd, ps.exited)
	addr := fmt.Sprintf("127.0.0.1:%d", ps.port)
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			if createDatabaseAt(ps.dsn(""), "hermod_fault") == nil {
				return
			}
		}
		select {
		case <-ps.exited:
			t.Fatalf("mariadbd exited at start")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not accept connections within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL, as a crash would, and waits for it.
func (ps *privateServer) kill() {
	if ps.cmd == nil || ps.cmd.Process == nil {
		return
	}
	ps.cmd.Process.Kill()
	<-ps.exited
	ps.cmd = nil
}

// faultWriter appends offline messages to its own account and records those
// acknowledged, and the errors of the calls that failed with how long they took.
type faultWriter struct {
	acked   []uint64 // Seqs of acknowledged appends
	slowest time.Duration
	failed  int
	other   []error // failures that are not ErrUnavailable
}

// TestFaultServerKilled hangs, then kills the server under concurrent writes: calls
// fail promptly (within QueryTimeout) with ErrUnavailable, the store recovers when the server is back on the same data
// directory, and every write acknowledged before the crash is there.
func TestFaultServerKilled(t *testing.T) {
	ps := startPrivateServer(t)
	const queryTimeout = 2 * time.Second
	s, err := Open(t.Context(), Options{DSN: ps.dsn("hermod_fault"), Migrate: true, MaxOpenConns: 8,
		QueryTimeout: queryTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const dom = "fault.example"

	const writers = 8
	ws := make([]faultWriter, writers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			fw := &ws[w]
			user := fmt.Sprint("w", w)
			for i := 0; i < 100_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				begin := time.Now()
				seqs, err := s.AppendOffline(context.Background(), []backends.OfflineMessage{offlineMsg(dom, user, w, i)}, 0)
				took := time.Since(begin)
				if err == nil {
					fw.acked = append(fw.acked, seqs[0])
					continue
				}
				fw.failed++
				fw.slowest = max(fw.slowest, took)
				if !errors.Is(err, backends.ErrUnavailable) {
					fw.other = append(fw.other, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)

	// A server that hangs (SIGSTOP) fails calls after QueryTimeout, not later.
	if err := ps.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err = s.Account(t.Context(), dom, "nobody")
	if took := time.Since(begin); !errors.Is(err, backends.ErrUnavailable) || took > queryTimeout+time.Second {
		t.Errorf("Account on a hung server: %v after %v, want ErrUnavailable after about %v", err, took, queryTimeout)
	}
	if err := ps.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	ps.kill()

	// While the server is down, reads and writes fail fast with ErrUnavailable.
	time.Sleep(200 * time.Millisecond)
	for name, call := range map[string]func() error{
		"Account": func() error { _, err := s.Account(t.Context(), dom, "nobody"); return err },
		"Roster":  func() error { _, _, err := s.Roster(t.Context(), dom, "nobody"); return err },
		"SetVCard": func() error {
			return s.SetVCard(t.Context(), dom, "nobody", []byte("<vCard xmlns='vcard-temp'/>"))
		},
		"SetLastLogout": func() error {
			return s.SetLastLogout(t.Context(), dom, "nobody", backends.LastLogout{At: time.Now()})
		},
	} {
		begin := time.Now()
		err := call()
		if !errors.Is(err, backends.ErrUnavailable) {
			t.Errorf("%s while the server is down: %v, want ErrUnavailable", name, err)
		}
		if took := time.Since(begin); took > queryTimeout+time.Second {
			t.Errorf("%s while the server is down took %v", name, took)
		}
	}
	time.Sleep(300 * time.Millisecond)
	ps.start()

	// The store recovers by itself: a write succeeds within a few seconds.
	recovered := false
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := s.AppendOffline(t.Context(), []backends.OfflineMessage{offlineMsg(dom, "probe", 0, 0)}, 0); err == nil {
			recovered = true
			break
		}
	}
	if !recovered {
		t.Fatal("the store did not recover within 15s of the server's restart")
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	failed := 0
	for w := range ws {
		fw := &ws[w]
		failed += fw.failed
		if len(fw.other) > 0 {
			t.Errorf("writer %d: %d failures not wrapping ErrUnavailable, first: %v", w, len(fw.other), fw.other[0])
		}
		if fw.slowest > queryTimeout+time.Second {
			t.Errorf("writer %d: a failing call took %v", w, fw.slowest)
		}
		stored, err := s.OfflineMessages(t.Context(), dom, fmt.Sprint("w", w), 100_000)
		if err != nil {
			t.Fatal(err)
		}
		have := map[uint64]bool{}
		for _, m := range stored {
			have[m.Seq] = true
		}
		for _, seq := range fw.acked {
			if !have[seq] {
				t.Fatalf("writer %d: acknowledged message with Seq %d lost", w, seq)
			}
		}
		if len(stored) < len(fw.acked) {
			t.Fatalf("writer %d: %d messages stored, %d acknowledged", w, len(stored), len(fw.acked))
		}
	}
	total := 0
	for w := range ws {
		total += len(ws[w].acked)
	}
	t.Logf("%d appends acknowledged, %d failed during the outage", total, failed)
	if st := s.Stats(); st.Unavailable < int64(failed) || st.Batches == 0 {
		t.Errorf("Stats() = %+v after %d unavailable failures", st, failed)
	}
	if failed == 0 {
		t.Error("no write failed while the server was down: the test did not test anything")
	}
}

// createDatabaseAt creates database name on the server of dsn.
func createDatabaseAt(dsn, name string) error {
	if !strings.HasSuffix(dsn, "/") {
		return fmt.Errorf("dsn %q names a database", dsn)
	}
	return createDatabaseOn(dsn, name)
}
