package accounts

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/sasl"
)

// FuzzParseCSV: the import parser never panics; it either rejects the document with
// an *admin.ImportError whose lines exist, or returns distinct, complete rows.
func FuzzParseCSV(f *testing.F) {
	f.Add("a@example.com,pw\nb@example.com,\"p,w\"\n")
	f.Add("jid,password\r\nA@Example.com,x\n")
	f.Add("jid,scram-sha-256\na@example.com,SCRAM-SHA-256$4096:AAAAAAAAAAAAAAAAAAAAAA==$" + strings.Repeat("A", 43) + "=:" + strings.Repeat("A", 43) + "=\n")
	f.Add("jid,scram-sha-1,scram-sha-512\n")
	f.Add("\"a@example.com\",\"\"\"\"\n")
	f.Add("a@example.com,1\na@example.com,2\n")
	f.Fuzz(func(t *testing.T, doc string) {
		m, err := New(Options{Store: memory.New(), Iterations: func(string) int { return 1 }})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := m.parseCSV(strings.NewReader(doc))
		if err != nil {
			var ie *admin.ImportError
			if !errors.As(err, &ie) || len(ie.Rows) == 0 {
				t.Fatalf("error %v is not an ImportError", err)
			}
			lines := strings.Count(doc, "\n") + 1
			for _, r := range ie.Rows {
				if r.Line < 1 || r.Line > lines {
					t.Fatalf("line %d outside a %d-line document", r.Line, lines)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			k := r.user + "@" + r.domain
			if r.user == "" || r.domain == "" || seen[k] {
				t.Fatalf("bad or duplicate row %+v", r)
			}
			seen[k] = true
			if r.password == "" && r.creds.SHA1 == nil && r.creds.SHA256 == nil && r.creds.SHA512 == nil {
				t.Fatalf("row without password or keys: %+v", r)
			}
		}
	})
}

// FuzzParseRFC5803: never panics; what it accepts formats back to keys it reads equal.
func FuzzParseRFC5803(f *testing.F) {
	f.Add("SCRAM-SHA-1$4096:QSXCR+Q6sek8bf92$6dlGYMOdZcOPutkcNY8U2g7vK9Y=:D+CSWLOshSulAsxiupA+qs2/fTE=", 1)
	f.Add("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=", 2)
	f.Add("SCRAM-SHA-512$1:AA==$:", 3)
	f.Fuzz(func(t *testing.T, s string, hi int) {
		h := []sasl.Hash{sasl.SHA1, sasl.SHA256, sasl.SHA512}[(hi%3+3)%3]
		k, err := ParseRFC5803(s, h)
		if err != nil {
			return
		}
		k2, err := ParseRFC5803(FormatRFC5803(h, k), h)
		if err != nil || !reflect.DeepEqual(k, k2) {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}
