package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/hermod-im/hermod/backends/memory"
)

// gz compresses lines, one per string, into an export-like file.
func gz(t testing.TB, lines ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, l := range lines {
		if _, err := io.WriteString(zw, l+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeLines returns the lines after the header of an export.
func decodeLines(t *testing.T, f []byte) []line {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	var h header
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	var out []line
	for {
		var l line
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
}

const (
	hdr  = `{"format":"hermod-export","version":1,"domains":["a.example"]}`
	acct = `{"t":"account","domain":"a.example","user":"%s","account":{"created":1700000000}}`
)

func acctLine(u string) string { return strings.Replace(acct, "%s", u, 1) }

func TestImportMalformed(t *testing.T) {
	good := gz(t, hdr, acctLine("u"), `{"t":"end","end":{"accounts":1,"rosters":0,"roster_items":0,"pending_in":0,"offline_messages":0,"vcards":0,"private_items":0,"privacy_users":0,"privacy_lists":0,"last_logouts":0}}`)
	end1 := `{"t":"end","end":{"accounts":1}}`
	tests := []struct {
		name string
		file []byte
		want string // "" = succeeds
	}{
		{"good", good, ""},
		{"not gzip", []byte(hdr), "not a gzip stream"},
		{"cut short", good[:len(good)-12], "unexpected EOF"},
		{"no trailer", gz(t, hdr, acctLine("u")), "without its trailer"},
		{"other format", gz(t, `{"format":"other","version":1}`), `not a Hermod export`},
		{"newer version", gz(t, `{"format":"hermod-export","version":2}`), "version 2"},
		{"trailer counts", gz(t, hdr, acctLine("u"), acctLine("v"), end1), "disagree"},
		{"after trailer", gz(t, hdr, acctLine("u"), end1, acctLine("v")), "after the trailer"},
		{"unknown domain", gz(t, hdr, strings.Replace(acctLine("u"), "a.example", "b.example", 1), end1), "not in the header"},
		{"out of order", gz(t, hdr, acctLine("v"), acctLine("u"), end1), "out of order"},
		{"twice", gz(t, hdr, acctLine("u"), acctLine("u"), end1), "out of order"},
		{"orphan record", gz(t, hdr, `{"t":"vcard","domain":"a.example","user":"u","vcard":"PHYvPg=="}`, end1), "not after its account"},
		{"other user's record", gz(t, hdr, acctLine("u"), `{"t":"vcard","domain":"a.example","user":"w","vcard":"PHYvPg=="}`, end1), "not after its account"},
		{"unknown kind", gz(t, hdr, acctLine("u"), `{"t":"muc","domain":"a.example","user":"u"}`, end1), `unknown or empty record "muc"`},
		{"bad subscription", gz(t, hdr, acctLine("u"), `{"t":"roster","domain":"a.example","user":"u","roster":{"version":1,"items":[{"contact":"c@x","subscription":"some"}]}}`,
			`{"t":"end","end":{"accounts":1,"rosters":1,"roster_items":1}}`), `unknown subscription "some"`},
		{"invalid for the store", gz(t, hdr, acctLine("u"), `{"t":"last","domain":"a.example","user":"u","last":{"at":1,"status":"`+strings.Repeat("x", 5000)+`"}}`,
			`{"t":"end","end":{"accounts":1,"last_logouts":1}}`), "invalid argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(t.Context(), memory.New(), bytes.NewReader(tt.file), ImportOptions{})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Import: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Import: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzImport feeds arbitrary line sequences after a valid header: Import must fail
// or succeed, never panic or hang.
func FuzzImport(f *testing.F) {
	f.Add(acctLine("u") + "\n" + `{"t":"end","end":{"accounts":1}}`)
	f.Add(acctLine("u") + "\n" + `{"t":"privacy","domain":"a.example","user":"u","privacy":{"default":"x","lists":[{"name":"x","items":[{"order":1,"stanzas":255}]}]}}` + "\n" + `{"t":"end","end":{"accounts":1,"privacy_users":1,"privacy_lists":1}}`)
	f.Add(acctLine("u") + "\n" + `{"t":"offline","domain":"a.example","user":"u","offline":[{"stamp":-1,"raw":""}]}` + "\n" + `{"t":"end","end":{"accounts":1,"offline_messages":1}}`)
	f.Fuzz(func(t *testing.T, body string) {
		file := gz(t, hdr, body)
		_, _ = Import(t.Context(), memory.New(), bytes.NewReader(file), ImportOptions{Workers: 2, BatchSize: 2})
	})
}
