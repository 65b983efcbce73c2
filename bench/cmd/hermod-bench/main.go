// Command hermod-bench is the load harness of issue 3: it drives any XMPP server
// (Hermod, ejabberd, Prosody) over the wire and reports what the server process and
// the kernel spent.
//
//	hermod-bench run   [flags]   the driver: starts --shards shard processes, samples
//	                             the server (--server-pid) and prints/records results
//	hermod-bench shard [flags]   one shard (started by run; --shard i/n)
//	hermod-bench summarize FILE  medians per --label of the --json results, as
//	                             Markdown tables
//	hermod-bench plot FILE.csv   redraw the charts (PNG) of a run from its CSV
//	hermod-bench rosters [flags] write the presence scenario's ring rosters in
//	                             Hermod's, ejabberd's (XEP-0227) or Prosody's bulk
//	                             format (rosters.go)
//
// Scenarios (--scenario):
//
//	idle      log --n users in at --rate per second (PLAIN or SCRAM, plaintext or
//	          STARTTLS, resource bound, initial presence, a ping to sync), hold them
//	          for --settle, sample the server's RSS and CPU, /proc/net/sockstat,
//	          /proc/slabinfo and ss -tm, then ping every session to prove it alive.
//	          With --checkpoints (e.g. 10000) it stops at each count on the way to
//	          --n, settles and samples there too: one ramp gives 10k and 19k figures.
//	login     connect-authenticate-bind-close cycles by --concurrency workers per
//	          shard for --duration over --login-users accounts; logins per second and
//	          per server CPU-second.
//	messages  log --n users in, then send one-to-one chat messages to random online
//	          peers of the same shard for --duration: closed loop with --window
//	          messages in flight per shard (--msg-rate 0: the maximum rate), or open
//	          loop at --msg-rate per second in total; delivered/s, loss, latency from a
//	          send timestamp carried in the body.
//	max-message-rate  the messages open loop in steps (--step-start, --step,
//	          --step-duration) until p99 passes --p99-bound or more than --loss-bound
//	          is lost; the highest sustained rate, a table and a CSV per step.
//	presence  users with --roster mutual contacts (provisioned over XMPP) change
//	          presence at --msg-rate per second; delivered presence/s, latency,
//	          server CPU per delivered stanza.
//	muc       rooms of --room-size occupants (XEP-0045) on the MUC service found by
//	          disco, groupchat at --msg-rate per second; delivered/s and latency.
//
// Every run samples the server and the harness each --interval: a progress line on
// stderr, and at the end a CSV of the time series (--csv) with PNG charts beside it
// (CPU, RSS, latency percentiles, rates, sessions online). --profile fetches Hermod's
// CPU and heap profiles during the measured phase.
//
// A process may hold at most 20,000 open files here, so each shard holds at most
// 19,000 sessions; run more shards for more sessions. Shards connect from the local
// addresses in --sources in turn (each gives about 28,000 ports towards one server
// address). Every phase is bounded by a count and a time; --timeout bounds the run.
//
// The harness imports nothing of the server: it is a client (package client), and it
// must stay one.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

const usage = `usage:
  hermod-bench run   [flags]    drive a benchmark (see -h for the flags)
  hermod-bench shard [flags]    one shard process (started by run)
  hermod-bench summarize FILE...  medians per label of --json results, as Markdown
  hermod-bench plot FILE.csv...   redraw a run's charts (PNG, beside the CSV)
  hermod-bench rosters --n N --roster R --format hermod|piefxis|prosody --out PATH
                                  write ring rosters for a server's bulk import
`

func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	if cmd == "plot" {
		if len(args) == 0 {
			fmt.Fprint(os.Stderr, usage)
			return 2
		}
		for _, p := range args {
			files, err := plotCSV(p, strings.TrimSuffix(filepath.Base(p), ".csv"))
			for _, f := range files {
				fmt.Println(f)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "hermod-bench: %v\n", err)
				return 1
			}
		}
		return 0
	}
	if cmd == "rosters" {
		return rostersCommand(args, os.Stdout, os.Stderr)
	}
	if cmd == "summarize" {
		if err := summarize(args, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "hermod-bench: %v\n", err)
			return 1
		}
		return 0
	}
	cfg, err := parseConfig(cmd, args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hermod-bench %s: %v\n", cmd, err)
		return 2
	}
	switch cmd {
	case "run":
		err = drive(ctx, cfg, args)
	case "shard":
		err = runShard(ctx, cfg, os.Stdin, os.Stdout)
	default:
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hermod-bench %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
