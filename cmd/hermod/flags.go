package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/hermod-im/hermod/engine/config"
)

// newFlagSet returns a flag set that reports errors instead of exiting or printing.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args allowing flags before, between and after positional
// arguments (`hermod user add JID PW --admin ADDR`); "--" ends the flags. It returns
// the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("%s: help requested", fs.Name())
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse consumed "--" itself when it was the first non-flag argument.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// loadConfig loads path, or returns Default() when path is "". Errors are
// configuration errors (exit 2), printed as one line per problem.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, configError(err)
	}
	return c, nil
}

func configError(err error) error {
	return &usageError{err: fmt.Errorf("invalid configuration:\n%w", err), config: true}
}

// listenAddr splits a --c2s/--http style address into an IP and a port:
// "127.0.0.1:5222", ":5222" (every IPv4 address), "[::]:5222".
func listenAddr(s string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not ADDR:PORT: %w", s, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port must be a number from 1 to 65535", s)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("%q: listen on an IP address, not a name", s)
	}
	return host, port, nil
}

// overrides are the serve flags that replace parts of the configuration file.
type overrides struct {
	domains                        []string
	c2s, c2sTLS, http, admin, data *string // nil: flag not given; "none" disables a listener
}

// register declares the serve flags on fs.
func (o *overrides) register(fs *flag.FlagSet) {
	fs.Var(stringsFlag{&o.domains}, "domain", "XMPP domain to serve instead of general.hosts (repeatable, comma-separated)")
	fs.Var(optString{&o.c2s}, "c2s", "ADDR:PORT of the client listener (STARTTLS), or none")
	fs.Var(optString{&o.c2sTLS}, "c2s-tls", "ADDR:PORT of the direct-TLS client listener, or none")
	fs.Var(optString{&o.http}, "http", "ADDR:PORT of the WebSocket/BOSH listener, or none")
	fs.Var(optString{&o.admin}, "admin", "HOST:PORT of the admin listener, or none")
	fs.Var(optString{&o.data}, "data", "data directory (general.data_dir)")
}

// stringsFlag collects a repeatable, comma-separated flag.
type stringsFlag struct{ v *[]string }

func (f stringsFlag) String() string {
	if f.v == nil {
		return ""
	}
	return strings.Join(*f.v, ",")
}

func (f stringsFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*f.v = append(*f.v, p)
		}
	}
	return nil
}

// apply writes the overrides into c. Listener flags replace every listener of their
// kind with one at ADDR that keeps the settings of the first such listener in the
// file (or the defaults); "none" removes them. The caller validates c afterwards.
func (o *overrides) apply(c *config.Config) error {
	if len(o.domains) > 0 {
		c.General.Hosts = append([]string(nil), o.domains...)
	}
	if o.data != nil {
		c.General.DataDir = *o.data
	}
	if o.admin != nil {
		c.Admin.Address = *o.admin
		if *o.admin == "none" {
			c.Admin.Address = ""
		}
	}
	replaceC2S := func(addr string, direct bool) error {
		base := config.DefaultC2S()
		if direct {
			base.TLS, base.Port = config.TLSDirect, config.DefaultC2SDirectPort
		}
		var keep []config.C2S
		found := false
		for _, l := range c.Listen.C2S {
			if (l.TLS == config.TLSDirect) != direct {
				keep = append(keep, l)
			} else if !found {
				base, found = l, true
			}
		}
		if addr != "none" {
			host, port, err := listenAddr(addr)
			if err != nil {
				return err
			}
			base.Address, base.Port = host, port
			keep = append(keep, base)
		}
		c.Listen.C2S = keep
		return nil
	}
	if o.c2s != nil {
		if err := replaceC2S(*o.c2s, false); err != nil {
			return usagef("--c2s: %v", err)
		}
	}
	if o.c2sTLS != nil {
		if err := replaceC2S(*o.c2sTLS, true); err != nil {
			return usagef("--c2s-tls: %v", err)
		}
	}
	if o.http != nil {
		base := config.DefaultHTTP()
		if len(c.Listen.HTTP) > 0 {
			base = c.Listen.HTTP[0]
		}
		c.Listen.HTTP = nil
		if *o.http != "none" {
			host, port, err := listenAddr(*o.http)
			if err != nil {
				return usagef("--http: %v", err)
			}
			base.Address, base.Port = host, port
			c.Listen.HTTP = []config.HTTP{base}
		}
	}
	return nil
}

// optString is a flag.Value that records whether it was set.
type optString struct{ p **string }

func (f optString) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return **f.p
}

func (f optString) Set(s string) error {
	*f.p = &s
	return nil
}
