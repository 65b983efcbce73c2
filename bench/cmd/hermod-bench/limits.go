package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/hermod-im/hermod/bench/client"
)

// limits are the machine's bounds on how many connections one run can open.
type limits struct {
	ports  int    // ephemeral ports per (source address, destination) pair
	nofile uint64 // hard RLIMIT_NOFILE of this process (shards inherit it)
}

// readLimits reads the ephemeral port range and the open-file limit.
func readLimits() (limits, error) {
	var l limits
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return l, fmt.Errorf("limits: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return l, fmt.Errorf("limits: ip_local_port_range %q", b)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return l, fmt.Errorf("limits: ip_local_port_range %q", b)
	}
	l.ports = hi - lo + 1
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return l, fmt.Errorf("limits: RLIMIT_NOFILE: %w", err)
	}
	l.nofile = rl.Max
	return l, nil
}

// fdReserve is what a shard needs besides its sessions' sockets: standard files,
// pipes, the Go runtime's epoll and timers, HTTP connections of the web transports.
const fdReserve = 200

// check says whether the run fits: every shard under the open-file limit, and no
// (source address, server address) pair asked for more connections than it has
// ephemeral ports. It explains how to make the run fit (docs/tuning.md has more).
func (l limits) check(c *config) error {
	if c.scenario == "login" {
		return nil // cycles: few sockets at a time
	}
	per := (c.n + c.shards - 1) / c.shards
	fds := uint64(per) + fdReserve
	if c.transport == client.BOSH {
		fds = 2*uint64(per) + fdReserve // up to two HTTP requests per session
	}
	if fds > l.nofile {
		return fmt.Errorf("%d sessions per shard need about %d open files, the hard limit (ulimit -Hn) is %d: use --shards %d or raise the limit (docs/tuning.md)",
			per, fds, l.nofile, (c.n+int(l.nofile)-fdReserve-1)/max(int(l.nofile)-fdReserve, 1))
	}
	if c.transport != client.TCP {
		return nil // the web endpoint may be behind the same address: not checked
	}
	srcs := max(len(c.sources), 1)
	if c.n > srcs*l.ports {
		need := (c.n + l.ports - 1) / l.ports
		return fmt.Errorf("%d sessions to one server address need %d source addresses at %d ephemeral ports each, --sources has %d: use --sources 127.0.0.2-127.0.%d (or more), or widen net.ipv4.ip_local_port_range (docs/tuning.md)",
			c.n, need, l.ports, srcs, min(need+1, 254))
	}
	return nil
}
