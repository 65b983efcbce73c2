package main

import (
	"bytes"
	"strconv"
	"testing"
)

// FuzzParseStamp: any text either is no stamp or gives back the number it carries.
func FuzzParseStamp(f *testing.F) {
	for _, s := range []string{"hb 1700000000000000000 1", "hb 1 2", "hb  3", "hb x 1", "hello", "hb -5 0", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ts, ok := parseStamp(in)
		if !ok {
			return
		}
		if !bytes.HasPrefix(in, []byte(stampPrefix+strconv.FormatInt(ts, 10))) && !bytes.HasPrefix(in, []byte(stampPrefix+"+")) &&
			!bytes.HasPrefix(in, []byte(stampPrefix+"0")) && !bytes.HasPrefix(in, []byte(stampPrefix+"-0")) {
			t.Fatalf("%q parsed as %d", in, ts)
		}
	})
}

// FuzzParseSources: whatever is accepted is loopback and a bounded list.
func FuzzParseSources(f *testing.F) {
	for _, s := range []string{"127.0.0.2-127.0.0.5", "127.0.0.9", "", "127.0.0.1-127.0.255.255", "10.0.0.1", "127.0.0.3-127.0.0.2,127.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ips, err := parseSources(spec)
		if err != nil {
			return
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				t.Fatalf("%q gave %v", spec, ip)
			}
		}
	})
}

// FuzzMutualContacts: roster results from a server never crash the count, and it
// never exceeds the contacts a user has.
func FuzzMutualContacts(f *testing.F) {
	f.Add([]byte(`<iq><query><item jid='user2@localhost' subscription='both'/><item jid="user3@x" subscription="both"/></query></iq>`))
	f.Add([]byte(`<item <item jid='user' subscription='both'`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := &presenceRun{cfg: &config{first: 1, n: 10, roster: 4, prefix: "user"}}
		ring, all := p.mutualContacts(1, raw)
		if ring < 0 || ring > all || all > bytes.Count(raw, []byte("<item ")) {
			t.Fatalf("%d, %d mutual contacts in %q", ring, all, raw)
		}
	})
}
