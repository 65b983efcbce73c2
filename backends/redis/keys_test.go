package redis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

func TestMemberRoundTrip(t *testing.T) {
	for _, tc := range []struct{ domain, user, resource string }{
		{"example.com", "alice", "phone"},
		{"a:b", "1:c", "2:d"},
		{"x", "y", ""},
		{"", "", ""},
		{"é", "\x00", "|"},
		{strings.Repeat("d", backends.MaxPartLen), strings.Repeat("u", backends.MaxPartLen), "r"},
	} {
		m := member(tc.domain, tc.user, tc.resource)
		d, u, r, err := parseMember(m)
		if err != nil || d != tc.domain || u != tc.user || r != tc.resource {
			t.Errorf("parseMember(member(%q, %q, %q)) = %q, %q, %q, %v", tc.domain, tc.user, tc.resource, d, u, r, err)
		}
	}
}

func TestUserKeysDistinct(t *testing.T) {
	k := newKeyspace("p:")
	pairs := [][2]string{{"ab", "c"}, {"a", "bc"}, {"1:a", "b"}, {"1", ":ab"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		key := k.user(p[0], p[1])
		if q, dup := seen[key]; dup {
			t.Fatalf("%v and %v share key %q", p, q, key)
		}
		seen[key] = p
	}
}

func TestEntryRoundTrip(t *testing.T) {
	for _, s := range []backends.Session{
		{Node: "n1", Priority: 0, Available: false, Since: time.UnixMilli(0)},
		{Node: "node with spaces", Priority: -128, Available: true, Since: time.UnixMilli(1_760_000_000_123)},
		{Node: "n", Priority: 127, Since: time.UnixMilli(-5)},
	} {
		var got backends.Session
		if err := decodeEntry(encodeEntry(&s), &got); err != nil {
			t.Fatalf("decodeEntry(%q): %v", encodeEntry(&s), err)
		}
		if got.Node != s.Node || got.Priority != s.Priority || got.Available != s.Available || !got.Since.Equal(s.Since) {
			t.Errorf("round trip of %+v gave %+v", s, got)
		}
		if entryNode(encodeEntry(&s)) != s.Node {
			t.Errorf("entryNode(%q) = %q", encodeEntry(&s), entryNode(encodeEntry(&s)))
		}
	}
}

func TestDecodeBad(t *testing.T) {
	for _, v := range []string{"", "n", "n|1", "n|1|2", "|1|2|3", "n|2|0|0", "n|1|128|0", "n|1|x|0", "n|1|0|x", "n|1|0|1|"} {
		var s backends.Session
		if err := decodeEntry(v, &s); !errors.Is(err, errBadEntry) {
			t.Errorf("decodeEntry(%q) = %v, want errBadEntry", v, err)
		}
	}
	for _, m := range []string{"", "x", ":", "-1:a0:", "5:ab", "1:a", "1:a9:b", "+1:a0:", "123456:"} {
		if _, _, _, err := parseMember(m); !errors.Is(err, errBadMember) {
			t.Errorf("parseMember(%q) = %v, want errBadMember", m, err)
		}
	}
}

func FuzzParseMember(f *testing.F) {
	f.Add("11:example.com5:alicephone")
	f.Add("0:0:")
	f.Add("3:a:b1:|x")
	f.Fuzz(func(t *testing.T, m string) {
		d, u, r, err := parseMember(m)
		if err != nil {
			return
		}
		if again := member(d, u, r); again != m && len(again) > len(m) {
			t.Fatalf("member(parseMember(%q)) = %q grew", m, again)
		}
	})
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add("n1|1|5|1760000000000")
	f.Add("a|0|-128|0")
	f.Fuzz(func(t *testing.T, v string) {
		var s backends.Session
		if decodeEntry(v, &s) != nil {
			return
		}
		var again backends.Session
		if err := decodeEntry(encodeEntry(&s), &again); err != nil || again != s {
			t.Fatalf("re-encoding %q: %+v vs %+v, %v", v, again, s, err)
		}
	})
}
