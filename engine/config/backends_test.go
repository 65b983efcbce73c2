package config

import (
	"testing"
)

func TestBackendsFor(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want map[string]string // kind -> engine; kinds left out are "embedded"
		uses []string
	}{
		{"defaults", "", nil, []string{BackendEmbedded}},
		{"default mysql", "[backends]\ndefault = \"mysql\"\n[backends.mysql]\ndsn = \"u@tcp(127.0.0.1)/h\"\n",
			map[string]string{KindAccounts: BackendMySQL, KindRosters: BackendMySQL, KindOffline: BackendMySQL,
				KindVCard: BackendMySQL, KindPrivate: BackendMySQL, KindPrivacy: BackendMySQL, KindLast: BackendMySQL},
			[]string{BackendMySQL}},
		{"overrides", "[backends]\naccounts = \"mysql\"\nlast = \"memory\"\n[backends.mysql]\ndsn = \"u@tcp(127.0.0.1)/h\"\n",
			map[string]string{KindAccounts: BackendMySQL, KindLast: BackendMemory},
			[]string{BackendEmbedded, BackendMySQL, BackendMemory}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "hermod.toml")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range Kinds() {
				want := tt.want[k]
				if want == "" {
					want = BackendEmbedded
				}
				if got := c.Backends.For(k); got != want {
					t.Errorf("For(%q) = %q, want %q", k, got, want)
				}
			}
			for _, e := range []string{BackendEmbedded, BackendMySQL, BackendMemory} {
				want := false
				for _, u := range tt.uses {
					want = want || u == e
				}
				if got := c.Backends.Uses(e); got != want {
					t.Errorf("Uses(%q) = %v, want %v", e, got, want)
				}
			}
		})
	}
	if got := Default().Backends.For("archive"); got != "" {
		t.Errorf("For(unknown kind) = %q, want \"\"", got)
	}
}

// The tables of an engine nothing uses are not checked: a left-over or half-written
// [backends.mysql] must not stop a server on the embedded store.
func TestUnusedEngineTablesIgnored(t *testing.T) {
	doc := "[backends.mysql]\nmax_open_conns = 0\nquery_timeout = \"0s\"\n[backends.redis]\naddress = \"\"\n"
	if _, err := Parse([]byte(doc), "hermod.toml"); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}
