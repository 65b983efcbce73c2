package embedded

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

func privacyCases() map[string]backends.PrivacySettings {
	return map[string]backends.PrivacySettings{
		"empty list": {Lists: []backends.PrivacyList{{Name: "empty"}}},
		"blocking": {Default: "urn:xmpp:blocking", Lists: []backends.PrivacyList{
			{Name: "urn:xmpp:blocking", Items: []backends.PrivacyItem{
				{Type: backends.PrivacyJID, Value: "romeo@montague.net", Deny: true, Order: 0},
				{Type: backends.PrivacyJID, Value: "iago@shakespeare.lit", Deny: true, Order: 1},
			}},
		}},
		"every field": {Default: "public", Lists: []backends.PrivacyList{
			{Name: "private", Items: []backends.PrivacyItem{
				{Type: backends.PrivacySubscription, Value: "both", Order: 10},
				{Deny: true, Order: 15},
			}},
			{Name: "public", Items: []backends.PrivacyItem{
				{Type: backends.PrivacyJID, Value: "tybalt@example.com", Deny: true, Order: 1, Stanzas: backends.PrivacyMessage | backends.PrivacyPresenceOut},
				{Type: backends.PrivacyGroup, Value: "Enemies", Deny: true, Order: 300, Stanzas: backends.PrivacyIQ},
				{Type: backends.PrivacySubscription, Value: "none", Deny: true, Order: 1 << 31, Stanzas: backends.PrivacyPresenceIn},
				{Order: 4294967295},
			}},
		}},
	}
}

func TestPrivacyRecordRoundTrip(t *testing.T) {
	for name, s := range privacyCases() {
		rec := appendPrivacy(nil, &s)
		got, err := decodePrivacy(rec)
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("%s: round trip gave\n %+v\nwant\n %+v", name, got, s)
		}
	}
}

func TestPrivacyRecordCorrupt(t *testing.T) {
	good := privacyCases()["every field"]
	rec := appendPrivacy(nil, &good)
	cases := map[string][]byte{
		"empty":           nil,
		"unknown format":  append([]byte{9}, rec[1:]...),
		"truncated":       rec[:len(rec)-1],
		"trailing":        append(append([]byte(nil), rec...), 0),
		"bad flags":       appendPrivacy(nil, &backends.PrivacySettings{Lists: []backends.PrivacyList{{Name: "x", Items: []backends.PrivacyItem{{Type: 3, Value: "sometimes", Order: 1}}}}}),
		"missing default": appendPrivacy(nil, &backends.PrivacySettings{Default: "nope", Lists: []backends.PrivacyList{{Name: "x"}}}),
		"huge count":      {privacyFormat, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, b := range cases {
		if _, err := decodePrivacy(b); !errors.Is(err, errCorruptPrivacy) {
			t.Errorf("%s: error %v, want errCorruptPrivacy", name, err)
		}
	}
}

func FuzzDecodePrivacy(f *testing.F) {
	for _, s := range privacyCases() {
		f.Add(appendPrivacy(nil, &s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		s, err := decodePrivacy(rec)
		if err != nil {
			if !errors.Is(err, errCorruptPrivacy) {
				t.Fatalf("error not wrapping errCorruptPrivacy: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoder accepted invalid settings: %v", err)
		}
		again := appendPrivacy(nil, &s)
		back, err := decodePrivacy(again)
		if err != nil {
			t.Fatalf("re-encoded record refused: %v", err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("re-encoding changed the settings")
		}
		if len(again) > len(rec) {
			t.Fatalf("re-encoding grew the record from %d to %d bytes", len(rec), len(again))
		}
	})
}
