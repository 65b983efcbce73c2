package embedded

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

func rosterRecordCases() map[string]backends.RosterItem {
	return map[string]backends.RosterItem{
		"bare":      {Contact: "a@b"},
		"typical":   {Contact: "nurse@example.com", Name: "Nurse", Groups: []string{"Servants"}, Subscription: backends.SubTo},
		"flags":     {Contact: "x@y", Subscription: backends.SubFrom, Ask: true, Approved: true},
		"both":      {Contact: "romeo@example.net", Subscription: backends.SubBoth},
		"unicode":   {Contact: "ünï@exämple.com", Name: "Ünïcødé ❤", Groups: []string{"Friends", "Lovers", "<&'\">"}},
		"name only": {Contact: "n@example.com", Name: "N"},
		"limits": {Contact: strings.Repeat("c", backends.MaxJIDLen), Name: strings.Repeat("n", backends.MaxRosterNameLen),
			Groups: manyGroups(backends.MaxGroups)},
	}
}

func manyGroups(n int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = strings.Repeat("g", i+1)
	}
	return g
}

func sameRosterItem(a, b backends.RosterItem) bool {
	return a.Contact == b.Contact && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.Ask == b.Ask && a.Approved == b.Approved
}

func TestRosterRecordRoundTrip(t *testing.T) {
	var scratch []byte
	for name, it := range rosterRecordCases() {
		rec := appendRosterItem(nil, &it)
		got, grown, err := decodeRosterItem([]byte(it.Contact), rec, scratch)
		scratch = grown
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !sameRosterItem(got, it) {
			t.Errorf("%s: round trip gave %+v, want %+v", name, got, it)
		}
		// The decoded item must not alias the record or the scratch buffer.
		clear(rec)
		clear(scratch)
		if !sameRosterItem(got, it) {
			t.Errorf("%s: decoded item aliases the record or the scratch buffer", name)
		}
	}
}

func TestRosterRecordSize(t *testing.T) {
	it := rosterRecordCases()["typical"]
	if n := len(appendRosterItem(nil, &it)); n > 20 {
		t.Errorf("typical item record is %d bytes, want at most 20", n)
	}
}

func TestRosterRecordCorrupt(t *testing.T) {
	good := rosterRecordCases()["typical"]
	rec := appendRosterItem(nil, &good)
	dup := appendRosterItem(nil, &backends.RosterItem{Contact: "a@b", Groups: []string{"x", "y"}})
	dup[len(dup)-1] = 'x'
	cases := map[string][]byte{
		"empty":           {},
		"format only":     {rosterItemFormat},
		"unknown format":  append([]byte{9}, rec[1:]...),
		"unknown flag":    append([]byte{rosterItemFormat, 0x10}, rec[2:]...),
		"truncated":       rec[:len(rec)-1],
		"trailing byte":   append(slices.Clone(rec), 0),
		"huge name":       binary.AppendUvarint([]byte{rosterItemFormat, 0}, backends.MaxRosterNameLen+1),
		"too many groups": binary.AppendUvarint([]byte{rosterItemFormat, 0, 0}, backends.MaxGroups+1),
		"empty group":     {rosterItemFormat, 0, 0, 1, 0},
		"duplicate group": dup,
		"bad varint":      {rosterItemFormat, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for name, rec := range cases {
		if _, _, err := decodeRosterItem([]byte("a@b"), rec, nil); !errors.Is(err, errCorruptRoster) {
			t.Errorf("%s: error %v, want errCorruptRoster", name, err)
		}
	}
}

func TestPendingRecord(t *testing.T) {
	for _, stanza := range [][]byte{nil, []byte("<presence type='subscribe'/>"), make([]byte, backends.MaxPendingStanza)} {
		rec := appendPending(nil, stanza)
		got, err := decodePending(rec)
		if err != nil || string(got) != string(stanza) {
			t.Fatalf("pending round trip of %d bytes: %d bytes, %v", len(stanza), len(got), err)
		}
	}
	for name, rec := range map[string][]byte{
		"empty": {}, "unknown format": {7, 'x'}, "too large": make([]byte, backends.MaxPendingStanza+2),
	} {
		if len(rec) > 0 && name == "too large" {
			rec[0] = rosterPendingFormat
		}
		if _, err := decodePending(rec); !errors.Is(err, errCorruptRoster) {
			t.Errorf("%s: error %v, want errCorruptRoster", name, err)
		}
	}
}

// FuzzDecodeRosterItem feeds arbitrary records to the decoder: it must not panic, and
// whatever it accepts must be a valid item that encodes and decodes to itself.
func FuzzDecodeRosterItem(f *testing.F) {
	for _, it := range rosterRecordCases() {
		f.Add([]byte(it.Contact), appendRosterItem(nil, &it))
	}
	f.Add([]byte("a@b"), []byte{rosterItemFormat, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, contact, rec []byte) {
		it, _, err := decodeRosterItem(contact, rec, nil)
		if err != nil {
			if !errors.Is(err, errCorruptRoster) {
				t.Fatalf("error %v does not wrap errCorruptRoster", err)
			}
			return
		}
		if len(contact) > 0 && len(contact) <= backends.MaxJIDLen {
			if err := it.Validate(); err != nil {
				t.Fatalf("decoder accepted an invalid item %+v: %v", it, err)
			}
		}
		again, _, err := decodeRosterItem(contact, appendRosterItem(nil, &it), nil)
		if err != nil || !sameRosterItem(again, it) {
			t.Fatalf("re-encoding %+v gave %+v, %v", it, again, err)
		}
	})
}
