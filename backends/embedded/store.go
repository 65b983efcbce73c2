package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// Defaults of Options.
const (
	DefaultFileName    = "hermod.db"
	DefaultLockTimeout = 2 * time.Second
	DefaultMaxBatch    = 256
)

// schemaVersion is the layout this build reads and writes. Opening a file with an older
// version migrates it in place inside one transaction; a newer version is refused, so that
// a downgrade cannot corrupt data it does not understand.
const schemaVersion = 1

// Bucket and key names. These slices are never modified.
var (
	bucketMeta          = []byte("meta")
	bucketAccounts      = []byte("accounts")
	bucketAccountCounts = []byte("account_counts")
	keySchema           = []byte("schema")
)

// Options tune Open. The zero value is ready to use.
type Options struct {
	// FileName is the database file inside the data directory; DefaultFileName if empty.
	FileName string

	// LockTimeout bounds the wait for the file lock when another process has the
	// database open (a second server on the same data directory): Open then fails instead
	// of hanging. DefaultLockTimeout if zero.
	LockTimeout time.Duration

	// MaxBatch caps how many concurrent write calls share one transaction and one fsync;
	// DefaultMaxBatch if zero. Larger groups amortise the sync further but make every
	// caller in the group wait for the slowest write.
	MaxBatch int

	// InitialMmapSize is the initial size of the memory map in bytes. A map large enough
	// for the whole file spares the remaps (which wait for every open read) as the file
	// grows; 0 lets bbolt grow it.
	InitialMmapSize int
}

// Store is a backends.Store in one bbolt file. All methods are safe for concurrent use
// from any goroutine; all may block on disk I/O and must not be called on an event loop.
type Store struct {
	db   *bbolt.DB
	path string

	// mu guards closed against sends on ops: writers hold it shared while they hand over
	// an operation, Close holds it exclusively while it closes ops.
	mu      sync.RWMutex
	closed  bool
	ops     chan *writeOp
	stopped chan struct{} // closed when the committer has drained ops
	stats   commitStats
}

var _ backends.Store = (*Store)(nil)

// Open opens (creating if needed) the store in directory dir, creating dir with mode 0700
// and the file with mode 0600: it holds credentials. It fails if another process holds the
// file for longer than Options.LockTimeout, if the file is not a Hermod database, or if it
// was written by a newer Hermod. It starts one goroutine, the committer, which Close stops.
func Open(dir string, opts Options) (*Store, error) {
	if opts.FileName == "" {
		opts.FileName = DefaultFileName
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data directory: %w", err)
	}
	path := filepath.Join(dir, opts.FileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         opts.LockTimeout,
		FreelistType:    bbolt.FreelistMapType, // O(1) page allocation in a large file
		InitialMmapSize: opts.InitialMmapSize,
	})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("embedded: open %s: locked by another process for %v: %w", path, opts.LockTimeout, err)
		}
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	if err := db.Update(initSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		path:    path,
		ops:     make(chan *writeOp, opts.MaxBatch),
		stopped: make(chan struct{}),
	}
	go s.commitLoop(opts.MaxBatch)
	return s, nil
}

// initSchema creates the buckets of a new file, checks the version of an existing one,
// and is where migrations from older versions will run.
func initSchema(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		// A file without our meta bucket must be empty, or it is somebody else's.
		var foreign []byte
		_ = tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			foreign = name
			return errors.New("stop")
		})
		if foreign != nil {
			return fmt.Errorf("not a Hermod database (has bucket %q but no schema version)", foreign)
		}
		var err error
		if meta, err = tx.CreateBucket(bucketMeta); err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		if err := meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	}
	v := meta.Get(keySchema)
	if len(v) != 4 {
		return fmt.Errorf("unreadable schema version %x", v)
	}
	switch version := binary.BigEndian.Uint32(v); {
	case version > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this build's %d: refusing to open", version, schemaVersion)
	case version < schemaVersion:
		// Version 1 is the first layout: nothing older exists yet. Migrations from
		// version N to N+1 go here, each inside this transaction.
		return fmt.Errorf("schema version %d has no migration", version)
	}
	for _, name := range [][]byte{bucketAccounts, bucketAccountCounts} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close waits for the writes already handed over, then closes the file. Later calls
// return ErrClosed. It may be called more than once; only the first does anything.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close %s: %w", s.path, err)
	}
	return nil
}

// view runs a read-only transaction, translating a closed database and a done context.
func (s *Store) view(ctx context.Context, what string, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: %s: %w", what, err)
	}
	err := s.db.View(fn)
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return fmt.Errorf("embedded: %s: %w", what, backends.ErrClosed)
	}
	return err
}
