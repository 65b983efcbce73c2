package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The rosters command writes the presence scenario's ring rosters (contacts of
// account i: i±1 .. i±roster/2 among --n accounts from --first, wrapping around, all
// with subscription both) in a server's own bulk format, so that large runs need no
// provisioning over XMPP (1.9 million subscription handshakes for 19,000 users of 100
// contacts):
//
//	hermod    CSV for `hermod roster import FILE` (owner_jid,contact_jid,subscription)
//	piefxis   XEP-0227 XML for ejabberd's `ejabberdctl import_piefxis FILE`; each
//	          <user> carries --password, so the import creates the accounts (it
//	          stops at a user that exists); with --password "" the users must exist
//	          and only their rosters are written
//	prosody   per-user roster files (DIR/<host>/roster/<user>.dat) under Prosody's
//	          data_path --out, which Prosody reads when the user logs in
//
// The layout is computed by the same function as the presence scenario's
// (config.contacts), so both agree by construction.

const rostersUsage = `usage: hermod-bench rosters --n N --roster R --format hermod|piefxis|prosody --out PATH
         [--first 1] [--prefix user] [--domain localhost] [--password password]
`

// rosterGen is a parsed rosters command line.
type rosterGen struct {
	ring     config // n, first, roster, prefix, domain: what contacts() reads
	format   string
	out      string
	password string
}

func parseRosterGen(args []string) (*rosterGen, error) {
	g := &rosterGen{}
	fs := flag.NewFlagSet("hermod-bench rosters", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&g.ring.n, "n", 0, "accounts in the ring")
	fs.IntVar(&g.ring.roster, "roster", 0, "contacts per user (even, below --n)")
	fs.IntVar(&g.ring.first, "first", 1, "index of the first account")
	fs.StringVar(&g.ring.prefix, "prefix", "user", "accounts are PREFIX<i>@DOMAIN")
	fs.StringVar(&g.ring.prefix, "user-prefix", "user", "the same as --prefix (the run command's name)")
	fs.StringVar(&g.ring.domain, "domain", "localhost", "XMPP domain of the accounts")
	fs.StringVar(&g.format, "format", "", "hermod (CSV), piefxis (XEP-0227 XML) or prosody (roster .dat files)")
	fs.StringVar(&g.out, "out", "", "file to write (hermod, piefxis; - for standard output) or Prosody's data directory (prosody)")
	fs.StringVar(&g.password, "password", "password", "piefxis: every account's password (empty: the accounts exist, write rosters only)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case g.ring.n < 2 || g.ring.first < 0:
		return nil, errors.New("--n must be at least 2 and --first not negative")
	case g.ring.roster < 2 || g.ring.roster%2 == 1 || g.ring.roster >= g.ring.n:
		return nil, fmt.Errorf("--roster %d: an even number from 2 to below --n %d (ring neighbours on both sides)", g.ring.roster, g.ring.n)
	case g.ring.prefix == "" || strings.ContainsAny(g.ring.prefix, "@/,\"'<>& ") || g.ring.domain == "" || strings.ContainsAny(g.ring.domain, "@/,\"'<>& "):
		return nil, errors.New("--prefix and --domain must be non-empty and plain (no @ / , quotes, <>& or spaces)")
	case g.out == "":
		return nil, errors.New("--out is required")
	}
	switch g.format {
	case "hermod", "piefxis":
	case "prosody":
		if g.out == "-" {
			return nil, errors.New("--format prosody writes a directory: --out DIR")
		}
	default:
		return nil, fmt.Errorf("--format %q: hermod, piefxis or prosody", g.format)
	}
	return g, nil
}

// rostersCommand runs `hermod-bench rosters` and returns the exit code.
func rostersCommand(args []string, stdout, stderr io.Writer) int {
	g, err := parseRosterGen(args)
	if err != nil {
		fmt.Fprintf(stderr, "hermod-bench rosters: %v\n%s", err, rostersUsage)
		return 2
	}
	items, err := g.write(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "hermod-bench rosters: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "hermod-bench rosters: %d rosters, %d items (%s) in %s\n", g.ring.n, items, g.format, g.out)
	return 0
}

// contacts returns the sorted account indexes of account a's contacts.
func (g *rosterGen) contacts(a int) []int {
	cs := g.ring.contacts(a)
	slices.Sort(cs)
	return cs
}

func (g *rosterGen) jid(i int) string { return g.ring.user(i) + "@" + g.ring.domain }

// write writes the rosters and returns the number of items.
func (g *rosterGen) write(stdout io.Writer) (int, error) {
	if g.format == "prosody" {
		return g.writeProsody()
	}
	var w io.Writer = stdout
	var f *os.File
	if g.out != "-" {
		var err error
		if f, err = os.Create(g.out); err != nil {
			return 0, err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var items int
	if g.format == "hermod" {
		items = g.writeCSV(bw)
	} else {
		items = g.writePIEFXIS(bw)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write %s: %w", g.out, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return 0, fmt.Errorf("write %s: %w", g.out, err)
		}
	}
	return items, nil
}

// writeCSV writes the import format of `hermod roster import`.
func (g *rosterGen) writeCSV(w *bufio.Writer) int {
	items := 0
	w.WriteString("owner_jid,contact_jid,subscription\n")
	for a := g.ring.first; a < g.ring.first+g.ring.n; a++ {
		owner := g.jid(a)
		for _, c := range g.contacts(a) {
			w.WriteString(owner)
			w.WriteByte(',')
			w.WriteString(g.jid(c))
			w.WriteString(",both\n")
			items++
		}
	}
	return items
}

// writePIEFXIS writes XEP-0227 (urn:xmpp:pie:0) as ejabberd's import_piefxis reads
// it: one <host>, a <user> per account with its roster query.
func (g *rosterGen) writePIEFXIS(w *bufio.Writer) int {
	items := 0
	w.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n")
	w.WriteString("  <host jid='" + g.ring.domain + "'>\n")
	pw := ""
	if g.password != "" {
		pw = " password='" + escapeAttr(g.password) + "'"
	}
	for a := g.ring.first; a < g.ring.first+g.ring.n; a++ {
		w.WriteString("    <user name='" + g.ring.user(a) + "'" + pw + ">\n      <query xmlns='jabber:iq:roster'>\n")
		for _, c := range g.contacts(a) {
			w.WriteString("        <item jid='" + g.jid(c) + "' subscription='both'/>\n")
			items++
		}
		w.WriteString("      </query>\n    </user>\n")
	}
	w.WriteString("  </host>\n</server-data>\n")
	return items
}

func escapeAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;").Replace(s)
}

// writeProsody writes Prosody 0.12's roster store files (mod_roster, the internal
// "roster" store of datamanager): DATA/<host>/roster/<user>.dat, a Lua table of the
// items keyed by JID and, under [false], the roster's metadata.
func (g *rosterGen) writeProsody() (int, error) {
	dir := filepath.Join(g.out, prosodyEncode(g.ring.domain), "roster")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	items := 0
	var b strings.Builder
	for a := g.ring.first; a < g.ring.first+g.ring.n; a++ {
		b.Reset()
		b.WriteString("return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t};\n")
		for _, c := range g.contacts(a) {
			b.WriteString("\t[\"" + g.jid(c) + "\"] = {\n\t\t[\"subscription\"] = \"both\";\n\t\t[\"groups\"] = {};\n\t};\n")
			items++
		}
		b.WriteString("};\n")
		p := filepath.Join(dir, prosodyEncode(g.ring.user(a))+".dat")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return items, err
		}
	}
	return items, nil
}

// prosodyEncode is Prosody's datamanager encoding of a host or user in a path: every
// byte but [A-Za-z0-9] as %xx (lower-case hex).
func prosodyEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteString(strconv.FormatUint(uint64(c)|0x100, 16)[1:])
	}
	return b.String()
}
