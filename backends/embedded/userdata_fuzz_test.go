package embedded

import (
	"bytes"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// FuzzDecodeOffline feeds arbitrary bytes to the decoders of the offline message
// record and meta value: they must never panic, and what they accept must encode back
// to a value that decodes to the same.
func FuzzDecodeOffline(f *testing.F) {
	f.Add(appendOfflineRecord(nil, time.UnixMilli(1_700_000_000_123), []byte("<message/>")))
	f.Add(appendOfflineRecord(nil, time.UnixMilli(-5), []byte("x")))
	f.Add(offlineMeta{next: 7, count: 3}.encode())
	f.Add([]byte{offlineFormat})
	f.Add([]byte{offlineFormat, 0x80})
	f.Fuzz(func(t *testing.T, v []byte) {
		var m backends.OfflineMessage
		if err := decodeOfflineRecord(v, &m); err == nil {
			if len(m.Raw) == 0 {
				t.Fatalf("decodeOfflineRecord(%x) accepted an empty stanza", v)
			}
			var again backends.OfflineMessage
			if err := decodeOfflineRecord(appendOfflineRecord(nil, m.Stamp, m.Raw), &again); err != nil ||
				!again.Stamp.Equal(m.Stamp) || !bytes.Equal(again.Raw, m.Raw) {
				t.Fatalf("record %x: decoded %v %q, re-encoded and decoded %v %q, %v", v, m.Stamp, m.Raw, again.Stamp, again.Raw, err)
			}
		}
		// The meta value lives under a key of its own; feed the same bytes to it.
		if meta, err := readOfflineMetaValue(v); err == nil {
			if got, err := readOfflineMetaValue(meta.encode()); err != nil || got != meta {
				t.Fatalf("meta %x: %+v, re-encoded %+v, %v", v, meta, got, err)
			}
		}
	})
}

// FuzzDecodeLastLogout does the same for the last logout record.
func FuzzDecodeLastLogout(f *testing.F) {
	f.Add(appendLastLogout(nil, backends.LastLogout{At: time.Unix(1_700_000_000, 0), Status: "Heading Home"}))
	f.Add(appendLastLogout(nil, backends.LastLogout{At: time.Unix(-1, 0)}))
	f.Add([]byte{lastFormat})
	f.Fuzz(func(t *testing.T, v []byte) {
		l, err := decodeLastLogout(v)
		if err != nil {
			return
		}
		again, err := decodeLastLogout(appendLastLogout(nil, l))
		if err != nil || !again.At.Equal(l.At) || again.Status != l.Status {
			t.Fatalf("record %x: decoded %+v, re-encoded and decoded %+v, %v", v, l, again, err)
		}
	})
}
