// Command hermod is the Hermod XMPP server and its administration tool.
//
//	hermod [serve] [--config FILE] [--domain D] [--c2s ADDR] [--c2s-tls ADDR]
//	               [--http ADDR] [--admin ADDR] [--data DIR]
//	hermod check-config FILE
//	hermod user add JID PASSWORD      (PASSWORD "-" reads it from standard input)
//	hermod user del JID
//	hermod user passwd JID PASSWORD
//	hermod user list DOMAIN
//	hermod user import FILE.csv       (FILE "-" is standard input)
//	hermod roster import FILE.csv     (rows owner_jid,contact_jid,subscription[,name[,groups]])
//	hermod db migrate [--config FILE]
//	hermod db export [--config FILE] --out FILE
//	hermod db import [--config FILE] FILE
//
// The user commands go through a running server's admin API with --admin ADDR, and
// otherwise open the embedded store in --data DIR directly, or else the stores the
// configuration's [backends] names (by default the embedded store in ./hermod-data),
// which for the embedded store only works while no server has it open. roster import
// opens the stores the same ways (not --admin): it is for provisioning a stopped server.
//
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
//
// This package only wires things together: the command functions parse arguments,
// load configuration and call the packages that do the work (engine, engine/config,
// engine/admin, engine/admin/accounts, engine/admin/rosters, backends/embedded). They
// take their standard streams as arguments and never call os.Exit, so tests run them
// in-process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// stdio are a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// usageError is a command-line or configuration problem: exit code 2. config
// problems print no usage text: the file, not the command line, is wrong.
type usageError struct {
	err    error
	config bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

const usageText = `usage:
  hermod [serve] [--config FILE] [--domain D] [--c2s ADDR] [--c2s-tls ADDR]
                 [--http ADDR] [--admin ADDR] [--data DIR]
  hermod check-config FILE
  hermod user add JID PASSWORD        PASSWORD "-" reads it from standard input
  hermod user del JID
  hermod user passwd JID PASSWORD
  hermod user list DOMAIN
  hermod user import FILE.csv         FILE "-" reads standard input
  hermod roster import FILE.csv       rows owner_jid,contact_jid,subscription[,name[,g1;g2]]
                                      (subscription none, to, from or both); FILE "-" reads
                                      standard input; [--batch N] items per write
  hermod db migrate [--config FILE]   apply the MySQL schema migrations
  hermod db export [--config FILE] --out FILE [--private-ns NS,...]
  hermod db import [--config FILE] FILE [--workers N] [--batch N]
user commands take --admin ADDR (a running server's admin listener), --data DIR
(open that embedded store directly) or --config FILE (open the stores its
[backends] names). roster import takes --data DIR or --config FILE and needs the
server stopped. db commands open the stores [backends] names; export and
import need the server stopped.
`

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, io stdio) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCommand(ctx, args, io)
	case "check-config":
		err = checkConfigCommand(args, io)
	case "user":
		err = userCommand(ctx, args, io)
	case "roster":
		err = rosterCommand(ctx, args, io)
	case "db":
		err = dbCommand(ctx, args, io)
	case "help", "-h", "--help":
		fmt.Fprint(io.out, usageText)
		return exitOK
	default:
		err = usagef("unknown command %q", cmd)
	}
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(io.err, "hermod %s: %v\n", cmd, err)
		if !ue.config {
			fmt.Fprint(io.err, usageText)
		}
		return exitUsage
	}
	fmt.Fprintf(io.err, "hermod %s: %v\n", cmd, err)
	return exitRuntime
}
