package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	in := "Name:\tbeam.smp\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   90000 kB\nThreads:\t37\n"
	var p Proc
	if err := parseStatus([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.RSS != 102400<<10 || p.RSSAnon != 90000<<10 || p.HWM != 204800<<10 || p.Threads != 37 {
		t.Fatalf("got %+v", p)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tx kB\n", "VmRSS:\t1 kB\nThreads:\tmany\n"} {
		if err := parseStatus([]byte(bad), &Proc{}); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a ')' of its own.
	in := "4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 3 4 20 0 9 0 123 0 0\n"
	got, err := parseStatCPU([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := 325 * time.Second / UserHZ; got != want {
		t.Fatalf("cpu %v, want %v", got, want)
	}
	for _, bad := range []string{"1 (x S 1 2", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 a b c\n"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	p, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.RSS <= 0 || p.Threads <= 0 || p.FDs <= 0 {
		t.Fatalf("implausible sample of the test process: %+v", p)
	}
	if _, err := ReadProc(-1); err == nil {
		t.Fatal("pid -1 accepted")
	}
}

func TestParseSockstat(t *testing.T) {
	in := "sockets: used 34\nTCP: inuse 14 orphan 1 tw 46 alloc 17 mem 37\nUDP: inuse 0 mem 0\n"
	s, err := parseSockstat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if (s != Sockstat{InUse: 14, Orphan: 1, TW: 46, Alloc: 17, MemPages: 37}) {
		t.Fatalf("got %+v", s)
	}
	for _, bad := range []string{"UDP: inuse 0\n", "TCP: inuse\n", "TCP: inuse x\n"} {
		if _, err := parseSockstat([]byte(bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestParseSlab(t *testing.T) {
	in := "slabinfo - version: 2.1\n" +
		"TCP                   78     78   2368   13    8 : tunables    0    0    0 : slabdata      6      6      0\n" +
		"sock_inode_cache     171    171    832   19    4 : tunables    0    0    0 : slabdata      9      9      0\n" +
		"TCPv6                 1      1   2500   13    8 : tunables    0    0    0 : slabdata      6      6      0\n"
	s, err := parseSlab([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.TCPObjs != 78 || s.TCPBytes != 78*2368 || s.InodeObjs != 171 || s.Bytes() != 78*2368+171*832 {
		t.Fatalf("got %+v", s)
	}
	if _, err := parseSlab([]byte("TCP 1 1 10 1 1\n")); err == nil {
		t.Error("missing sock_inode_cache accepted")
	}
}

func TestParseSkmem(t *testing.T) {
	in := "0 0 127.0.0.1:5222 127.0.0.2:40000\n\t skmem:(r0,rb131072,t0,tb2626560,f4096,w0,o0,bl0,d0)\n" +
		"0 0 127.0.0.1:5222 127.0.0.2:40001\n\t skmem:(r768,rb131072,t10,tb2626560,f0,w2,o8,bl0,d3)\n"
	m, err := parseSkmem([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Sockets != 2 || m.Bytes != 4096+768+10+2+8 {
		t.Fatalf("got %+v", m)
	}
	if _, err := parseSkmem([]byte("skmem:(r1,t2")); err == nil {
		t.Error("unterminated skmem accepted")
	}
}
