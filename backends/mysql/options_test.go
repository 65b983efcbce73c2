package mysql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

func TestParseDSN(t *testing.T) {
	bad := map[string]string{
		"":                          "empty DSN",
		"   ":                       "empty DSN",
		"root@tcp(127.0.0.1:3306)/": "names no database",
		"root@tcp(127.0.0.1:3306)/h?multiStatements=true": "multiStatements",
		"root@tcp(127.0.0.1:3306)/h?timeout=soon":         "DSN",
		"no-slash-here":         "DSN",
		"root:secret@pipe(x)/h": "network",
	}
	for dsn, want := range bad {
		_, err := ParseDSN(dsn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDSN(%q) = %v, want an error saying %q", dsn, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseDSN(%q) error repeats the password: %v", dsn, err)
		}
	}
	cfg, err := ParseDSN("hermod:pw@tcp(db.internal:3307)/hermod?charset=latin1&timeout=7s")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DBName != "hermod" || cfg.Addr != "db.internal:3307" || cfg.Timeout != 7*time.Second {
		t.Errorf("ParseDSN lost fields: %+v", cfg)
	}
	if !cfg.ClientFoundRows || !cfg.InterpolateParams || cfg.Collation != "utf8mb4_bin" ||
		cfg.Params["tx_isolation"] != "'READ-COMMITTED'" || cfg.Params["charset"] != "" {
		t.Errorf("ParseDSN did not apply the store's settings: %+v", cfg)
	}
	cfg, _ = ParseDSN("root@tcp(127.0.0.1:3306)/h")
	if cfg.Timeout != DefaultDialTimeout {
		t.Errorf("dial timeout %v, want the default %v", cfg.Timeout, DefaultDialTimeout)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{MaxOpenConns: 4, MaxIdleConns: 10, Pipeline: PipelineOptions{MaxDelay: -time.Second}}.withDefaults()
	if o.MaxOpenConns != 4 || o.MaxIdleConns != 4 || o.QueryTimeout != DefaultQueryTimeout ||
		o.ConnMaxLifetime != DefaultConnMaxLifetime || o.Logger == nil {
		t.Errorf("withDefaults = %+v", o)
	}
	if p := o.Pipeline; p.MaxBatchRows != DefaultMaxBatchRows || p.QueueSize != DefaultQueueSize || p.MaxDelay != 0 {
		t.Errorf("pipeline defaults = %+v", p)
	}
}

func TestOpenUnreachable(t *testing.T) {
	// A port nothing listens on: Open fails fast with ErrUnavailable.
	start := time.Now()
	_, err := Open(t.Context(), Options{DSN: "root@tcp(127.0.0.1:1)/hermod"})
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Open on a closed port: %v, want ErrUnavailable", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("Open on a closed port took %v", time.Since(start))
	}
}

func TestPrivacyItemsCodec(t *testing.T) {
	items := []backends.PrivacyItem{
		{Type: backends.PrivacyFallThrough, Deny: true, Order: 0},
		{Type: backends.PrivacyJID, Value: "romeo@example.net/orchard", Order: 1, Stanzas: backends.PrivacyMessage | backends.PrivacyIQ},
		{Type: backends.PrivacyGroup, Value: "Ünïcødé", Order: 1 << 31, Stanzas: backends.PrivacyAllKinds},
		{Type: backends.PrivacySubscription, Value: "both", Order: 7, Deny: true},
	}
	got, err := decodeItems(encodeItems(items))
	if err != nil || len(got) != len(items) {
		t.Fatalf("decode(encode) = %v, %v", got, err)
	}
	for i := range items {
		if got[i] != items[i] {
			t.Errorf("item %d: %+v, want %+v", i, got[i], items[i])
		}
	}
	if got, err := decodeItems(encodeItems(nil)); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {0}, {itemsFormat, 1}, {itemsFormat, 1, 0, 0, 0, 0, 0, 0, 0, 5, 'a'}} {
		if _, err := decodeItems(bad); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeItems(%x) = %v, want errCorrupt", bad, err)
		}
	}
}

func FuzzDecodeItems(f *testing.F) {
	f.Add(encodeItems([]backends.PrivacyItem{{Type: backends.PrivacyJID, Value: "a@b", Order: 3}}))
	f.Add([]byte{itemsFormat})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := decodeItems(b)
		if err != nil {
			return
		}
		if again := encodeItems(items); string(again) != string(b) {
			t.Fatalf("encode(decode(%x)) = %x", b, again)
		}
	})
}
