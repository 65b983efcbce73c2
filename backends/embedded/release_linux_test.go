package embedded

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// rssFileKiB reads the process's resident file-backed memory.
func rssFileKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("RssFile %q: %v", v, err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseMemory: after reads fault the file's pages in, ReleaseMemory takes them
// out of the resident set, and the data reads back unchanged.
func TestReleaseMemory(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n, size = 2048, 4000 // about 8 MiB of values, one page each
	val := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("release-test"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := b.Put([]byte(fmt.Sprint(i)), val(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		t.Helper()
		err := s.db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("release-test"))
			for i := range n {
				if !bytes.Equal(b.Get([]byte(fmt.Sprint(i))), val(i)) {
					return fmt.Errorf("value %d changed", i)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	before := rssFileKiB(t)
	if err := s.ReleaseMemory(); err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	t.Logf("RssFile %d KiB -> %d KiB", before, after)
	if before-after < 4<<10 {
		t.Errorf("RssFile fell by %d KiB, want at least 4 MiB of the file's 8", before-after)
	}
	readAll()
}
