package accounts

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/sasl"
)

func fastManager(t *testing.T, mod func(*Options)) (*Manager, backends.Store) {
	return newManager(t, func(o *Options) {
		o.Iterations = func(string) int { return 2 }
		if mod != nil {
			mod(o)
		}
	})
}

func users(t *testing.T, st backends.Accounts, domain string) string {
	t.Helper()
	u, err := st.ListAccounts(context.Background(), domain, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(u, ",")
}

func TestImportPasswords(t *testing.T) {
	var progress []string
	m, st := newManager(t, func(o *Options) {
		o.BatchSize = 2
		o.Workers = 3
		o.Progress = func(done, total int) { progress = append(progress, fmt.Sprintf("%d/%d", done, total)) }
	})
	doc := "jid,password\r\nAlice@example.com,one\n\nbob@example.com,\"pa,ss \"\"q\"\"\"\ncarol@example.org, spaced \n"
	res, err := m.ImportUsers(context.Background(), strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 3 {
		t.Errorf("imported %d", res.Imported)
	}
	if got := strings.Join(progress, " "); got != "2/3 3/3" {
		t.Errorf("progress %s", got)
	}
	ctx := context.Background()
	for _, c := range []struct{ domain, user, pw string }{
		{"example.com", "alice", "one"}, {"example.com", "bob", `pa,ss "q"`}, {"example.org", "carol", " spaced "},
	} {
		a, err := st.Account(ctx, c.domain, c.user)
		if err != nil {
			t.Fatal(err)
		}
		verify(t, a.Credentials, c.pw, 4096)
	}
}

func TestImportWithoutHeaderOverwrites(t *testing.T) {
	m, st := fastManager(t, nil)
	ctx := context.Background()
	if err := m.AddUser(ctx, "a@example.com", "old"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ImportUsers(ctx, strings.NewReader("a@example.com,new\nb@example.com,x\n")); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Account(ctx, "example.com", "a")
	verify(t, a.Credentials, "new", 2)
	if got := users(t, st, "example.com"); got != "a,b" {
		t.Errorf("users %s", got)
	}
}

// Precomputed keys import verbatim and cost no PBKDF2.
func TestImportPrecomputed(t *testing.T) {
	m, st := fastManager(t, nil)
	c1, err := m.Derive("pw1", 4096)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := m.Derive("pw2", 8192)
	doc := "JID, scram-sha-512 ,scram-sha-256,scram-sha-1\n" +
		"a@example.com," + FormatRFC5803(sasl.SHA512, c1.SHA512) + "," + FormatRFC5803(sasl.SHA256, c1.SHA256) + "," + FormatRFC5803(sasl.SHA1, c1.SHA1) + "\n" +
		"b@example.com,," + FormatRFC5803(sasl.SHA256, c2.SHA256) + ",\n"
	if _, err := m.ImportUsers(context.Background(), strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Account(context.Background(), "example.com", "a")
	if !reflect.DeepEqual(a.Credentials, c1) {
		t.Errorf("a's keys changed on import")
	}
	b, _ := st.Account(context.Background(), "example.com", "b")
	if b.Credentials.SHA1 != nil || b.Credentials.SHA512 != nil || !reflect.DeepEqual(b.Credentials.SHA256, c2.SHA256) {
		t.Errorf("b's keys = %+v", b.Credentials)
	}
}

// A bad document writes nothing and names every bad line.
func TestImportErrors(t *testing.T) {
	good := "ok@example.com,pw\n"
	k, _ := (&Manager{o: Options{Rand: zeroReader{}}}).Derive("pw", 2)
	sha256Keys := FormatRFC5803(sasl.SHA256, k.SHA256)
	tests := []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"field count", good + "a@example.com,pw,extra\n", 2, "3 fields, want 2"},
		{"bad jid", good + "not a jid,pw\n", 2, "not a valid JID"},
		{"no local", "example.com,pw\n", 1, "no user part"},
		{"unserved", good + good[:0] + "a@elsewhere.example,pw\n", 2, "not served"},
		{"empty password", good + "a@example.com,\n", 2, "password is empty"},
		{"duplicate", good + "x@example.com,1\nOK@example.com,2\n", 3, "already on line 1"},
		{"bad quote", good + "a@example.com,\"unterminated\n", 2, "quote"},
		{"unknown column", "jid,pass\n" + good, 1, "unknown column"},
		{"mixed columns", "jid,password,scram-sha-1\n", 1, "not both"},
		{"repeated column", "jid,scram-sha-1,SCRAM-SHA-1\n", 1, "twice"},
		{"header only jid", "jid\n", 1, "no column"},
		{"empty", "", 1, "no accounts"},
		{"header and nothing", "jid,password\n", 1, "no accounts"},
		{"wrong hash column", "jid,scram-sha-1\na@example.com," + sha256Keys + "\n", 2, "scram-sha-1 column"},
		{"no keys", "jid,scram-sha-256,scram-sha-1\na@example.com,,\n", 2, "no keys"},
		{"bad base64", "jid,scram-sha-256\na@example.com,SCRAM-SHA-256$4096:!!$AAAA:AAAA\n", 2, "not base64"},
		{"short key", "jid,scram-sha-256\na@example.com,SCRAM-SHA-256$4096:AAAA$AAAA:AAAA\n", 2, "SHA-256 keys"},
		{"bad iterations", "jid,scram-sha-256\na@example.com,SCRAM-SHA-256$many:AAAA$AAAA:AAAA\n", 2, "iteration count"},
		{"no dollar", "jid,scram-sha-256\na@example.com,SCRAM-SHA-256\n", 2, "must look like"},
		{"no colon", "jid,scram-sha-256\na@example.com,SCRAM-SHA-256$4096$AAAA:AAAA\n", 2, "missing ':'"},
		{"no second dollar", "jid,scram-sha-256\na@example.com,SCRAM-SHA-256$4096:AAAA\n", 2, "missing '$'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st := fastManager(t, nil)
			_, err := m.ImportUsers(context.Background(), strings.NewReader(tt.doc))
			var ie *admin.ImportError
			if !errors.As(err, &ie) || !errors.Is(err, admin.ErrInvalid) {
				t.Fatalf("ImportUsers = %v, want *admin.ImportError", err)
			}
			r := ie.Rows[0]
			if r.Line != tt.line || !strings.Contains(r.Msg, tt.msg) {
				t.Errorf("first row error = line %d %q, want line %d containing %q", r.Line, r.Msg, tt.line, tt.msg)
			}
			if got := users(t, st, "example.com"); got != "" {
				t.Errorf("rejected import wrote %s", got)
			}
		})
	}
}

func TestImportErrorCap(t *testing.T) {
	m, _ := fastManager(t, nil)
	var b strings.Builder
	for i := 0; i < admin.MaxRowErrors+5; i++ {
		b.WriteString("bad\n")
	}
	_, err := m.ImportUsers(context.Background(), strings.NewReader(b.String()))
	var ie *admin.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != admin.MaxRowErrors || ie.More != 5 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(ie.Error(), "and 5 more") {
		t.Errorf("Error() lacks the overflow: %s", ie.Error()[:80])
	}
}

func TestImportCancelled(t *testing.T) {
	m, st := fastManager(t, func(o *Options) { o.BatchSize = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	m.o.Progress = func(done, total int) { cancel() }
	res, err := m.ImportUsers(ctx, strings.NewReader("a@example.com,1\nb@example.com,2\nc@example.com,3\n"))
	if !errors.Is(err, context.Canceled) || res.Imported != 1 {
		t.Fatalf("ImportUsers = %+v, %v", res, err)
	}
	if got := users(t, st, "example.com"); got != "a" {
		t.Errorf("written %s, want the first batch only", got)
	}
}

func TestRFC5803RoundTrip(t *testing.T) {
	m, _ := fastManager(t, nil)
	c, _ := m.Derive("pw", 4096)
	for _, x := range []struct {
		h sasl.Hash
		k *backends.ScramKeys
	}{{sasl.SHA1, c.SHA1}, {sasl.SHA256, c.SHA256}, {sasl.SHA512, c.SHA512}} {
		s := FormatRFC5803(x.h, x.k)
		if !strings.HasPrefix(s, "SCRAM-"+x.h.String()+"$4096:") {
			t.Errorf("format %s", s)
		}
		k, err := ParseRFC5803(s, x.h)
		if err != nil || !reflect.DeepEqual(k, x.k) {
			t.Errorf("round trip of %s: %v", x.h, err)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
