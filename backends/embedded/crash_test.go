package embedded

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// crashDirEnv, when set, turns the test binary into the writer that TestCrash kills.
const crashDirEnv = "HERMOD_EMBEDDED_CRASH_DIR"

// TestCrash kills a process that is writing with 8 goroutines and checks that every write
// it acknowledged is in the file, that the file is consistent, and that the counts match
// the records. It shows that a write returns only after its commit, whatever group it was
// in; it cannot show that the fsync reached the disk (the page cache survives a killed
// process), which bbolt's commit does and TestOpenLayout checks is not disabled.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashWriter(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	lines := bufio.NewScanner(out)
	for len(acked) < 300 && lines.Scan() {
		acked = append(acked, lines.Text())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // acknowledged between our last read and the kill
		acked = append(acked, lines.Text())
	}
	_ = cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("the writer acknowledged only %d writes before it ended", len(acked))
	}

	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer s.Close()
	err = s.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt consistency check: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range acked {
		if _, err := s.Account(t.Context(), "example.org", u); err != nil {
			t.Fatalf("acknowledged write %s lost: %v", u, err)
		}
	}
	n, err := s.CountAccounts(t.Context(), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	listed := walkAll(t, s, "example.org")
	if n != len(listed) || n < len(acked) {
		t.Fatalf("count %d, %d records, %d acknowledged", n, len(listed), len(acked))
	}
	t.Logf("%d acknowledged, %d on disk after the kill", len(acked), n)
}

func walkAll(t *testing.T, s *Store, domain string) []string {
	var all []string
	after := ""
	for {
		page, err := s.ListAccounts(t.Context(), domain, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1]
	}
}

// crashWriter writes until it is killed, printing each user once its write returned.
func crashWriter(dir string) {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Never outlive a parent that failed to kill us.
	time.AfterFunc(time.Minute, func() { os.Exit(2) })
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				user := fmt.Sprintf("w%d-%06d", w, i)
				if err := s.CreateAccount(context.Background(), testAccount("example.org", user)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintln(out, user)
				_ = out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
