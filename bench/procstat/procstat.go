// Package procstat samples what the load harness reports about a server process and
// the kernel: resident memory and CPU time from /proc/PID, TCP socket memory from
// /proc/net/sockstat, socket slab objects from /proc/slabinfo, and per-socket buffer
// memory from `ss -tm`. Linux only.
//
// It reads and never writes: it must not signal, trace or otherwise disturb the
// process it measures. Every function may be called from any goroutine.
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// UserHZ is the unit of the CPU times in /proc/PID/stat. The kernel fixes USER_HZ at
// 100 in its user ABI on every architecture Go supports on Linux.
const UserHZ = 100

// PageSize returns the kernel page size in bytes: the unit of the "mem" counters of
// /proc/net/sockstat.
func PageSize() int64 { return int64(os.Getpagesize()) }

// Proc is one sample of a process.
type Proc struct {
	PID     int           `json:"pid"`
	RSS     int64         `json:"rss_bytes"`      // VmRSS
	RSSAnon int64         `json:"rss_anon_bytes"` // RssAnon: heap and stacks, without mapped files
	HWM     int64         `json:"hwm_bytes"`      // VmHWM: peak RSS
	Threads int           `json:"threads"`
	CPU     time.Duration `json:"cpu_ns"` // utime + stime
	FDs     int           `json:"fds"`    // open file descriptors, -1 if unreadable
}

// ReadProc samples process pid.
func ReadProc(pid int) (Proc, error) {
	p := Proc{PID: pid, FDs: -1}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, fmt.Errorf("procstat: %w", err)
	}
	if err := parseStatus(status, &p); err != nil {
		return p, fmt.Errorf("procstat: /proc/%d/status: %w", pid, err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, fmt.Errorf("procstat: %w", err)
	}
	if p.CPU, err = parseStatCPU(stat); err != nil {
		return p, fmt.Errorf("procstat: /proc/%d/stat: %w", pid, err)
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		p.FDs = len(ents)
	}
	return p, nil
}

// parseStatus reads the kB fields of /proc/PID/status that Proc holds.
func parseStatus(b []byte, p *Proc) error {
	found := 0
	for line := range bytes.Lines(b) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "VmRSS":
			dst = &p.RSS
		case "RssAnon":
			dst = &p.RSSAnon
		case "VmHWM":
			dst = &p.HWM
		case "Threads":
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return fmt.Errorf("Threads: %w", err)
			}
			p.Threads = n
			continue
		default:
			continue
		}
		f := strings.Fields(string(v))
		if len(f) != 2 || f[1] != "kB" {
			return fmt.Errorf("%s: unexpected value %q", k, bytes.TrimSpace(v))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		*dst = n << 10
		found++
	}
	if found < 1 || p.RSS == 0 {
		return errors.New("no VmRSS (a kernel thread or a zombie?)")
	}
	return nil
}

// parseStatCPU returns utime+stime from /proc/PID/stat. The command name (field 2)
// may hold spaces and parentheses, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no ')' after the command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields after the command name", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("utime/stime: %w", err)
	}
	return time.Duration(ut+st) * time.Second / UserHZ, nil
}

// Sockstat is the TCP line of /proc/net/sockstat.
type Sockstat struct {
	InUse    int64 `json:"inuse"`
	Orphan   int64 `json:"orphan"`
	TW       int64 `json:"tw"`
	Alloc    int64 `json:"alloc"`
	MemPages int64 `json:"mem_pages"` // pages charged to TCP buffers, every socket of the machine
}

// MemBytes returns the TCP buffer memory in bytes.
func (s Sockstat) MemBytes() int64 { return s.MemPages * PageSize() }

// ReadSockstat samples /proc/net/sockstat.
func ReadSockstat() (Sockstat, error) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return Sockstat{}, fmt.Errorf("procstat: %w", err)
	}
	s, err := parseSockstat(b)
	if err != nil {
		return s, fmt.Errorf("procstat: /proc/net/sockstat: %w", err)
	}
	return s, nil
}

func parseSockstat(b []byte) (Sockstat, error) {
	var s Sockstat
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("TCP:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f)%2 != 0 {
			return s, fmt.Errorf("odd TCP line %q", bytes.TrimSpace(line))
		}
		for i := 0; i < len(f); i += 2 {
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return s, fmt.Errorf("TCP %s: %w", f[i], err)
			}
			switch f[i] {
			case "inuse":
				s.InUse = n
			case "orphan":
				s.Orphan = n
			case "tw":
				s.TW = n
			case "alloc":
				s.Alloc = n
			case "mem":
				s.MemPages = n
			}
		}
		return s, nil
	}
	return s, errors.New("no TCP line")
}

// Slab is the memory of the kernel object caches every TCP socket needs (struct
// tcp_sock, its socket inode), machine-wide.
type Slab struct {
	TCPObjs     int64 `json:"tcp_objs"`
	TCPBytes    int64 `json:"tcp_bytes"`
	InodeObjs   int64 `json:"sock_inode_objs"`
	InodeBytes  int64 `json:"sock_inode_bytes"`
	Unavailable bool  `json:"unavailable,omitempty"` // /proc/slabinfo needs root
}

// Bytes returns the memory of both caches.
func (s Slab) Bytes() int64 { return s.TCPBytes + s.InodeBytes }

// ReadSlab samples /proc/slabinfo. Without permission it returns Unavailable and no
// error.
func ReadSlab() (Slab, error) {
	b, err := os.ReadFile("/proc/slabinfo")
	if errors.Is(err, os.ErrPermission) {
		return Slab{Unavailable: true}, nil
	}
	if err != nil {
		return Slab{}, fmt.Errorf("procstat: %w", err)
	}
	s, err := parseSlab(b)
	if err != nil {
		return s, fmt.Errorf("procstat: /proc/slabinfo: %w", err)
	}
	return s, nil
}

func parseSlab(b []byte) (Slab, error) {
	var s Slab
	seen := 0
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		if len(f) < 4 || (f[0] != "TCP" && f[0] != "sock_inode_cache") {
			continue
		}
		active, err1 := strconv.ParseInt(f[1], 10, 64)
		size, err2 := strconv.ParseInt(f[3], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return s, fmt.Errorf("%s: %w", f[0], err)
		}
		if f[0] == "TCP" {
			s.TCPObjs, s.TCPBytes = active, active*size
		} else {
			s.InodeObjs, s.InodeBytes = active, active*size
		}
		seen++
	}
	if seen != 2 {
		return s, errors.New("no TCP or sock_inode_cache line")
	}
	return s, nil
}

// SocketMem sums the skmem figures that `ss -tm` reports for established TCP sockets
// whose local port is port: the receive and send buffers in use and queued, the
// forward allocation and option memory. That is the buffer memory of the server's own
// sockets, without the struct sock itself (see Slab).
type SocketMem struct {
	Sockets int   `json:"sockets"`
	Bytes   int64 `json:"bytes"`
}

// ReadSocketMem runs ss for the sockets bound to local port port.
func ReadSocketMem(port int) (SocketMem, error) {
	out, err := exec.Command("ss", "-tmnH", "state", "established", "( sport = :"+strconv.Itoa(port)+" )").Output()
	if err != nil {
		return SocketMem{}, fmt.Errorf("procstat: ss -tm: %w", err)
	}
	m, err := parseSkmem(out)
	if err != nil {
		return m, fmt.Errorf("procstat: ss -tm: %w", err)
	}
	return m, nil
}

func parseSkmem(b []byte) (SocketMem, error) {
	var m SocketMem
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "skmem:(")
		if i < 0 {
			continue
		}
		body, _, ok := strings.Cut(line[i+len("skmem:("):], ")")
		if !ok {
			return m, fmt.Errorf("unterminated skmem in %q", line)
		}
		for _, kv := range strings.Split(body, ",") {
			j := 0
			for j < len(kv) && (kv[j] < '0' || kv[j] > '9') {
				j++
			}
			name, num := kv[:j], kv[j:]
			switch name {
			case "r", "t", "f", "w", "o":
				n, err := strconv.ParseInt(num, 10, 64)
				if err != nil {
					return m, fmt.Errorf("skmem %s: %w", name, err)
				}
				m.Bytes += n
			}
		}
		m.Sockets++
	}
	return m, sc.Err()
}
