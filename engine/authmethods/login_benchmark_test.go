package authmethods_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hermod-im/hermod/engine/authmethods"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/enginetest"
)

const benchSecret = "an HMAC secret of at least 32 bytes!"

// benchCase is one method configured for user alice@localhost.
type benchCase struct {
	name     string
	password string
	setup    func(b *testing.B, c *config.Config) // configures the method, may skip
}

func benchCases(b *testing.B) []benchCase {
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(benchSecret))
	if err != nil {
		b.Fatal(err)
	}
	return []benchCase{
		{"internal", "secret", func(b *testing.B, c *config.Config) { c.Auth.Methods = []string{"internal"} }},
		{"jwt", token, func(b *testing.B, c *config.Config) {
			c.Auth.Methods = []string{"jwt"}
			c.Auth.JWT.Secret = benchSecret
		}},
		{"http", "secret", func(b *testing.B, c *config.Config) {
			svc := passwordService(b, 0)
			c.Auth.Methods = []string{"http"}
			c.Auth.HTTP.BaseURL = svc.URL
		}},
		{"external", "secret", func(b *testing.B, c *config.Config) {
			py, err := exec.LookPath("python3")
			if err != nil {
				b.Skip("python3 not found")
			}
			script := filepath.Join(b.TempDir(), "auth.py")
			if err := os.WriteFile(script, []byte(aliceExtauth), 0o600); err != nil {
				b.Fatal(err)
			}
			c.Auth.Methods = []string{"external"}
			c.Auth.External.Program = py
			c.Auth.External.Args = []string{script}
			c.Auth.External.Instances = 4
		}},
		{"mysql", "secret", func(b *testing.B, c *config.Config) {
			dsn, err := benchUsersTable()
			if err != nil {
				b.Skipf("MariaDB: %v", err)
			}
			c.Auth.Methods = []string{"mysql"}
			c.Auth.MySQL.DSN = dsn
			c.Auth.MySQL.PasswordQuery = "SELECT plain FROM bench_users WHERE username = ? AND server = ?"
			c.Auth.MySQL.QueryArgs = []string{"user", "server"}
		}},
	}
}

// BenchmarkLogin measures complete PLAIN logins (TCP connect, stream header, SASL
// PLAIN over the listener without TLS, success) through the engine with each method,
// from parallel clients on loopback. The logins/s metric is the throughput.
func BenchmarkLogin(b *testing.B) {
	for _, bc := range benchCases(b) {
		b.Run(bc.name, func(b *testing.B) {
			ts := enginetest.Start(b, enginetest.WithConfig(func(c *config.Config) { bc.setup(b, c) }))
			if bc.name == "internal" {
				ts.AddUser("alice", "secret")
			}
			auth := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + bc.password))
			// Warm up: every external instance started, pools filled.
			for range 16 {
				if err := plainLogin(ts.Plain, auth); err != nil {
					b.Fatalf("warm-up login: %v", err)
				}
			}
			b.SetParallelism(4)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := plainLogin(ts.Plain, auth); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
		})
	}
}

// plainLogin runs one PLAIN authentication on a new connection and closes it.
func plainLogin(addr, auth string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(enginetest.StreamOpen + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + auth + "</auth>")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		s := got.String()
		switch {
		case strings.Contains(s, "<success"):
			return nil
		case strings.Contains(s, "<failure"):
			return fmt.Errorf("login failed: %s", s[strings.Index(s, "<failure"):])
		case err != nil:
			return fmt.Errorf("login: %w (got %q)", err, s)
		}
	}
}

// BenchmarkCheckPassword measures one method's password check alone, in parallel.
func BenchmarkCheckPassword(b *testing.B) {
	for _, bc := range benchCases(b) {
		if bc.name == "internal" {
			continue // its cost is PBKDF2, measured by the sasl package's benchmarks
		}
		b.Run(bc.name, func(b *testing.B) {
			c := config.Default()
			bc.setup(b, c)
			set, err := authmethods.New(c.Auth, "localhost", nil, []byte(benchSecret), slogDiscard())
			if err != nil {
				b.Fatal(err)
			}
			defer set.Close()
			for range 16 { // warm up: every external instance started, pools filled
				if ok, err := set.Chain.CheckPassword(context.Background(), "alice", bc.password); !ok || err != nil {
					b.Fatalf("warm-up check: %v, %v", ok, err)
				}
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ok, err := set.Chain.CheckPassword(context.Background(), "alice", bc.password)
					if err == nil && !ok {
						err = errors.New("refused")
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
