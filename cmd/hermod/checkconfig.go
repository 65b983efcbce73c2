package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/modules/registry"
)

// checkConfigCommand runs `hermod check-config FILE`: it parses and validates the
// file, checks that the certificate files it names are readable, builds the modules it
// enables (which checks their options), and prints either a summary or every problem
// with its line (and an excerpt of the file around it).
func checkConfigCommand(args []string, io stdio) error {
	fs := newFlagSet("check-config")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("check-config takes FILE")
	}
	c, err := config.Load(pos[0])
	if err == nil {
		err = c.CheckFiles()
	}
	if err == nil {
		// The modules decode their own tables: build each, start none.
		err = engine.CheckModules(c, registry.All())
	}
	if err != nil {
		var list config.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintln(io.err, e.Error())
				if e.Context != "" {
					fmt.Fprintln(io.err, indent(e.Context))
				}
			}
			return &usageError{err: fmt.Errorf("%s: %d problem(s)", pos[0], len(list)), config: true}
		}
		return configError(err)
	}
	fmt.Fprintf(io.out, "%s: OK\n%s", pos[0], summary(c))
	return nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// summary describes what a configuration will do, for a human to double-check.
func summary(c *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  hosts:     %s\n", strings.Join(c.General.Hosts, ", "))
	fmt.Fprintf(&b, "  data_dir:  %s\n", c.General.DataDir)
	for _, l := range c.Listen.C2S {
		fmt.Fprintf(&b, "  c2s:       %s port %d, tls %s\n", l.Address, l.Port, l.TLS)
	}
	for _, l := range c.Listen.HTTP {
		fmt.Fprintf(&b, "  http:      %s port %d, tls %s\n", l.Address, l.Port, l.TLS)
	}
	admin := c.Admin.Address
	if admin == "" {
		admin = "disabled"
	}
	fmt.Fprintf(&b, "  admin:     %s\n", admin)
	fmt.Fprintf(&b, "  certs:     %d\n", len(c.CertificateEntries()))
	if names := c.ModuleNames(); len(names) > 0 {
		fmt.Fprintf(&b, "  modules:   %s\n", strings.Join(names, ", "))
	}
	return b.String()
}
