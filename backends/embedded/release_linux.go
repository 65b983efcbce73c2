package embedded

import (
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// ReleaseMemory drops the store file's pages from the process's resident set
// (madvise MADV_DONTNEED on bbolt's read-only shared mapping). The data stays in the
// kernel's page cache, so the next read of a dropped page is a minor fault, not disk
// I/O. Every login reads an account record, a roster and more; without this, a server
// that logged in N users keeps their pages resident for good, about 0.7 KiB per user
// without rosters and 14 KiB with 100 contacts (BENCHMARKS.md), counted as its RSS
// although the kernel may drop them at will.
//
// It runs inside a read transaction: bbolt remaps the file only under the write
// side of the lock a read transaction holds, so the range stays mapped throughout.
func (s *Store) ReleaseMemory() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		data, size := s.db.Info().Data, tx.Size()
		if data == 0 || size <= 0 {
			return nil
		}
		// The raw call takes the mapping's address as the uintptr bbolt gives.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, data, uintptr(size), unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("embedded: release mapped pages: %w", errno)
		}
		return nil
	})
}
