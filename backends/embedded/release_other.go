//go:build !linux

package embedded

// ReleaseMemory does nothing where madvise(MADV_DONTNEED) on a file mapping is not
// known to keep the data (it is on Linux: release_linux.go).
func (s *Store) ReleaseMemory() error { return nil }
