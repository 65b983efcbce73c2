package procstat

import "testing"

// FuzzParsers runs every /proc and ss parser over arbitrary text: errors are fine,
// panics are not, and accepted figures are never negative where the kernel cannot
// report negative values.
func FuzzParsers(f *testing.F) {
	f.Add([]byte("VmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   90000 kB\nThreads:\t37\n"))
	f.Add([]byte("4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 3 4 20 0 9 0 123 0 0\n"))
	f.Add([]byte("sockets: used 34\nTCP: inuse 14 orphan 1 tw 46 alloc 17 mem 37\n"))
	f.Add([]byte("TCP 78 78 2368 13 8 : tunables 0 0 0\nsock_inode_cache 171 171 832 19 4\n"))
	f.Add([]byte("0 0 127.0.0.1:5222 127.0.0.2:40000\n\t skmem:(r0,rb131072,t0,tb2626560,f4096,w0,o0,bl0,d0)\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Proc
		_ = parseStatus(in, &p)
		_, _ = parseStatCPU(in)
		_, _ = parseSockstat(in)
		_, _ = parseSlab(in)
		if m, err := parseSkmem(in); err == nil && m.Sockets < 0 {
			t.Fatalf("negative socket count from %q", in)
		}
	})
}
