package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/embedded"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/admin/accounts"
	"github.com/hermod-im/hermod/engine/stores"
	"github.com/hermod-im/hermod/stanza/jid"
)

// listPage is the page size `user list` walks a domain with.
const listPage = 1000

// userArgs is the number of positional arguments of each user subcommand.
var userArgs = map[string]struct {
	n     int
	names string
}{
	"add":    {2, "JID PASSWORD"},
	"del":    {1, "JID"},
	"passwd": {2, "JID PASSWORD"},
	"list":   {1, "DOMAIN"},
	"import": {1, "FILE.csv"},
}

// userCommand runs `hermod user SUB ...`.
func userCommand(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("user")
	adminAddr := fs.String("admin", "", "HOST:PORT of a running server's admin listener")
	dataDir := fs.String("data", "", "data directory of the embedded store (default: the config's data_dir)")
	cfgPath := fs.String("config", "", "configuration file (hosts, scram_iterations, data_dir)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing subcommand: add, del, passwd, list or import")
	}
	sub, pos := pos[0], pos[1:]
	spec, ok := userArgs[sub]
	if !ok {
		return usagef("unknown subcommand %q: add, del, passwd, list or import", sub)
	}
	if len(pos) != spec.n {
		return usagef("user %s takes %s", sub, spec.names)
	}
	if *adminAddr != "" && (*dataDir != "" || *cfgPath != "") {
		return usagef("--admin talks to a running server, which has its own configuration and data: drop --data and --config")
	}

	var users admin.Users
	if *adminAddr != "" {
		users = admin.NewClient(*adminAddr, nil)
	} else {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		var store backends.Store
		if *dataDir != "" {
			store, err = embedded.Open(*dataDir, embedded.Options{})
		} else {
			store, err = stores.Open(ctx, cfg, slog.New(slog.DiscardHandler)) // the stores [backends] names
		}
		if err != nil {
			if errors.Is(err, bbolt.ErrTimeout) {
				return fmt.Errorf("%w\n(a running server holds this data directory: use --admin ADDR)", err)
			}
			return err
		}
		defer store.Close()
		o := accounts.ForConfig(cfg, store)
		if *cfgPath == "" {
			o.Hosts = nil // no configuration: any domain
		}
		o.Progress = progressPrinter(io.err, time.Now(), "accounts")
		users, err = accounts.New(o)
		if err != nil {
			return err
		}
	}

	err = runUser(ctx, users, sub, pos, io)
	if err != nil && *adminAddr != "" && !admin.IsRemote(err) {
		err = fmt.Errorf("%w\n(is a server running with its admin listener on %s?)", err, *adminAddr)
	}
	return err
}

func runUser(ctx context.Context, users admin.Users, sub string, pos []string, io stdio) error {
	if sub != "list" && sub != "import" {
		// Report the account in its normal form, the one the server will know it by.
		if j, err := jid.Parse(pos[0]); err == nil {
			pos[0] = j.String()
		}
	}
	switch sub {
	case "add", "passwd":
		pw, err := password(pos[1], io.in)
		if err != nil {
			return err
		}
		if sub == "add" {
			if err := users.AddUser(ctx, pos[0], pw); err != nil {
				return err
			}
			fmt.Fprintf(io.out, "added %s\n", pos[0])
			return nil
		}
		if err := users.SetPassword(ctx, pos[0], pw); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "password of %s changed\n", pos[0])
	case "del":
		if err := users.DeleteUser(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "deleted %s\n", pos[0])
	case "list":
		return listAll(ctx, users, pos[0], io.out)
	case "import":
		return importFile(ctx, users, pos[0], io)
	}
	return nil
}

// password returns arg, or the first line of standard input when arg is "-" (so the
// password stays out of the process list and the shell history).
func password(arg string, in io.Reader) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

func listAll(ctx context.Context, users admin.Users, domain string, out io.Writer) error {
	w := bufio.NewWriter(out)
	after := ""
	for {
		page, err := users.ListUsers(ctx, domain, after, listPage)
		if err != nil {
			return err
		}
		for _, u := range page {
			fmt.Fprintf(w, "%s@%s\n", u, domain)
		}
		if len(page) < listPage {
			break
		}
		after = page[len(page)-1]
	}
	return w.Flush()
}

func importFile(ctx context.Context, users admin.Users, name string, io stdio) error {
	in := io.in
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in = f
	}
	start := time.Now()
	res, err := users.ImportUsers(ctx, bufio.NewReaderSize(in, 64<<10))
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Fprintf(io.out, "imported %d accounts in %v (%.0f accounts/s)\n", res.Imported, d.Round(time.Millisecond), float64(res.Imported)/d.Seconds())
	return nil
}

// progressPrinter reports a long import of what (accounts, roster items) on w every
// few seconds.
func progressPrinter(w io.Writer, start time.Time, what string) func(done, total int) {
	last := start
	return func(done, total int) {
		now := time.Now()
		if done < total && now.Sub(last) < 3*time.Second {
			return
		}
		last = now
		rate := float64(done) / now.Sub(start).Seconds()
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(w, "imported %d/%d %s (%.0f/s, %v left)\n", done, total, what, rate, eta.Round(time.Second))
	}
}
