package redis

import (
	"fmt"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Defaults of Options.
const (
	DefaultAddr      = "127.0.0.1:6379"
	DefaultPrefix    = "hermod:"
	DefaultTTL       = 30 * time.Second
	DefaultTimeout   = 2 * time.Second
	DefaultShards    = 4
	DefaultQueueSize = 8192
	DefaultMaxBatch  = 512
)

// Options configure a Registry. The zero value of each field means its default.
type Options struct {
	// Addr is the server's host:port; DefaultAddr when empty.
	Addr string
	// Username and Password authenticate (AUTH); empty for none.
	Username, Password string
	// DB is the logical database number.
	DB int
	// Prefix starts every key (DefaultPrefix when empty), so that registries of several
	// clusters, or test runs, can share a server.
	Prefix string
	// TTL is how long a node's entries outlive its last Refresh (DefaultTTL). Refresh
	// at least every TTL/3. At least one millisecond.
	TTL time.Duration
	// Timeout bounds one round trip, dial included (DefaultTimeout). A call that runs
	// out of it fails with ErrUnavailable.
	Timeout time.Duration
	// Shards is the number of writer goroutines, each with its own pipeline and queue
	// (DefaultShards).
	Shards int
	// QueueSize is how many writes may wait, over all shards (DefaultQueueSize).
	QueueSize int
	// MaxBatch is the most writes one round trip carries (DefaultMaxBatch). A batch runs
	// as one script, during which the server serves nobody else: about 10 µs per write,
	// 5 ms for 512. 1 makes every write its own round trip, for comparison.
	MaxBatch int
	// PoolSize is the number of connections go-redis may open; 0 for 2 + Shards.
	PoolSize int
}

// withDefaults returns o with defaults filled in, or an error for a nonsensical value.
func (o Options) withDefaults() (Options, error) {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Shards == 0 {
		o.Shards = DefaultShards
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.PoolSize == 0 {
		o.PoolSize = 2 + o.Shards
	}
	switch {
	case o.TTL < time.Millisecond:
		return o, fmt.Errorf("redis: ttl %v below 1ms: %w", o.TTL, backends.ErrInvalid)
	case o.Timeout < 0, o.Shards < 0, o.QueueSize < 0, o.MaxBatch < 0, o.PoolSize < 0, o.DB < 0:
		return o, fmt.Errorf("redis: negative option: %w", backends.ErrInvalid)
	case o.QueueSize < o.Shards:
		return o, fmt.Errorf("redis: queue size %d below %d shards: %w", o.QueueSize, o.Shards, backends.ErrInvalid)
	}
	return o, nil
}
