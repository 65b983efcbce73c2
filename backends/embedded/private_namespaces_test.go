package embedded

import (
	"slices"
	"testing"

	"github.com/hermod-im/hermod/backends"
)

func TestPrivateNamespaces(t *testing.T) {
	st, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	set := func(user string, namespaces ...string) {
		t.Helper()
		var items []backends.PrivateItem
		for _, ns := range namespaces {
			items = append(items, backends.PrivateItem{Namespace: ns, XML: []byte("<x xmlns='" + ns + "'/>")})
		}
		if err := st.SetPrivateXML(ctx, "a.example", user, items); err != nil {
			t.Fatal(err)
		}
	}
	set("u", "storage:bookmarks", "urn:x", "a:b")
	set("uu", "urn:other") // a user whose name extends u's must not leak into u's list
	set("v", "urn:v")
	tests := []struct {
		domain, user string
		want         []string
	}{
		{"a.example", "u", []string{"a:b", "storage:bookmarks", "urn:x"}},
		{"a.example", "uu", []string{"urn:other"}},
		{"a.example", "w", nil},
		{"b.example", "u", nil},
	}
	for _, tt := range tests {
		got, err := st.PrivateNamespaces(ctx, tt.domain, tt.user)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("PrivateNamespaces(%s, %s) = %q, %v; want %q", tt.domain, tt.user, got, err, tt.want)
		}
	}
	if err := st.DeletePrivateXML(ctx, "a.example", "u"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.PrivateNamespaces(ctx, "a.example", "u"); err != nil || len(got) != 0 {
		t.Errorf("after delete: %q, %v", got, err)
	}
	if _, err := st.PrivateNamespaces(ctx, "a.example", ""); err == nil {
		t.Error("an empty user was accepted")
	}
}
