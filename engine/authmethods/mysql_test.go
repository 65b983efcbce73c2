package authmethods

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/sasl"
)

const (
	mysqlRoot = "root@tcp(127.0.0.1:3306)/"
	mysqlDB   = "hermod_t_auth"
)

// usersTable creates hermod_t_auth.users with alice (password "secret") in every
// format and returns the DSN of the database. Outside CI it skips when MariaDB is not
// there.
func usersTable(t *testing.T) string {
	t.Helper()
	root, err := sql.Open("mysql", mysqlRoot+"?timeout=2s")
	if err == nil {
		err = root.Ping()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MariaDB on 127.0.0.1:3306: %v", err)
		}
		t.Skipf("MariaDB on 127.0.0.1:3306 not available: %v", err)
	}
	defer root.Close()
	bc, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("secret"))
	salt := []byte("0123456789abcdef")
	k := sasl.DeriveKeys(sasl.SHA256, "secret", salt, 4096)
	b64 := base64.StdEncoding.EncodeToString
	scram := fmt.Sprintf("SCRAM-SHA-256$4096:%s$%s:%s", b64(salt), b64(k.StoredKey), b64(k.ServerKey))
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + mysqlDB,
		"DROP TABLE IF EXISTS " + mysqlDB + ".users",
		"CREATE TABLE " + mysqlDB + ".users (username VARCHAR(64) NOT NULL, server VARCHAR(64) NOT NULL, plain VARCHAR(64), sha VARCHAR(64), bc VARCHAR(80), scram VARCHAR(255), PRIMARY KEY (username, server))",
	} {
		if _, err := root.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err = root.Exec("INSERT INTO "+mysqlDB+".users VALUES (?, ?, ?, ?, ?, ?), ('nopass', 'example.com', NULL, NULL, NULL, NULL), ('corrupt', 'example.com', 'x', 'zz', 'nope', 'SCRAM-SHA-256$1:x$y:z')",
		"alice", "example.com", "secret", strings.ToUpper(hex.EncodeToString(sum[:])), string(bc), scram)
	if err != nil {
		t.Fatal(err)
	}
	return mysqlRoot + mysqlDB + "?timeout=2s"
}

func TestMySQL(t *testing.T) {
	dsn := usersTable(t)
	ctx := context.Background()
	for _, tc := range []struct {
		format, column string
	}{
		{config.PasswordPlain, "plain"}, {config.PasswordSHA256, "sha"}, {config.PasswordBcrypt, "bc"}, {config.PasswordSCRAM, "scram"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			m, err := NewMySQL(config.AuthMySQL{
				DSN:            dsn,
				PasswordQuery:  "SELECT " + tc.column + " FROM users WHERE username = ? AND server = ?",
				QueryArgs:      []string{"user", "server"},
				PasswordFormat: tc.format,
				MaxOpenConns:   2,
				Timeout:        dur(2 * time.Second),
			}, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			checkMethod(t, m, []passwordCase{
				{"alice", "secret", true},
				{"alice", "Secret", false},
				{"bob", "secret", false},
				{"nopass", "", false},
			}, map[string]bool{"alice": true, "bob": false, "nopass": true})
			// A stored value the format cannot read is an error, not a silent no.
			if ok, err := m.CheckPassword(ctx, "corrupt", "x"); tc.format != config.PasswordPlain && (ok || err == nil) {
				t.Errorf("corrupt stored value: %v, %v; want an error", ok, err)
			}
		})
	}
}

// A query that outlives the timeout, and a server that refuses connections, fail the
// check quickly with an error.
func TestMySQLFailures(t *testing.T) {
	dsn := usersTable(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "root@tcp(" + l.Addr().String() + ")/x?timeout=1s"
	l.Close()
	for _, tc := range []struct{ name, dsn, query string }{
		{"slow query", dsn, "SELECT IF(SLEEP(3) = 0, plain, NULL) FROM users WHERE username = ?"},
		{"refused", refused, "SELECT plain FROM users WHERE username = ?"},
		{"bad query", dsn, "SELECT nosuchcolumn FROM users WHERE username = ?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMySQL(config.AuthMySQL{DSN: tc.dsn, PasswordQuery: tc.query, QueryArgs: []string{"user"},
				PasswordFormat: config.PasswordPlain, MaxOpenConns: 1, Timeout: dur(400 * time.Millisecond)}, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			start := time.Now()
			ok, err := m.CheckPassword(context.Background(), "alice", "secret")
			if ok || err == nil {
				t.Fatalf("CheckPassword = %v, %v; want an error", ok, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v with a 400ms timeout", d)
			}
		})
	}
}

func FuzzParseSCRAM(f *testing.F) {
	f.Add("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("SCRAM-SHA-1$1:x$y:z")
	f.Add("$$::")
	f.Fuzz(func(t *testing.T, s string) {
		h, k, err := parseSCRAM(s)
		if err != nil {
			return
		}
		if !h.Valid() || k.Iterations < 1 || k.Iterations > maxSCRAMIterations || len(k.Salt) == 0 ||
			len(k.StoredKey) != h.Size() || len(k.ServerKey) != h.Size() {
			t.Fatalf("parseSCRAM(%q) accepted invalid keys %+v", s, k)
		}
	})
}
