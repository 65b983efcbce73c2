// Package version is mod_version: Software Version (XEP-0092) for the served domain. It
// answers <query xmlns='jabber:iq:version'/> sent to the host with the server's name and
// version, and its operating system only when configured to (the XEP's security
// considerations: the OS helps an attacker), and advertises jabber:iq:version in the
// host's disco#info.
//
// It answers for the server only: a query to an account's bare JID gets
// service-unavailable (the server does not know which client a person runs; a full JID
// reaches the client itself). It must not keep mutable state: the handler is called
// concurrently on workers.
package version

import (
	"runtime"
	"runtime/debug"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_version"

// NS is the XEP-0092 namespace.
const NS = "jabber:iq:version"

// Options are the module's configuration keys.
type Options struct {
	// Name is the software name; default "Hermod".
	Name string `toml:"name"`
	// Version is the version string; default the version the binary was built as
	// (BuildVersion).
	Version string `toml:"version"`
	// ShowOS adds <os/> (operating system and architecture); default false.
	ShowOS bool `toml:"show_os"`
}

// Module answers software version requests to its host.
type Module struct {
	reply []byte // the whole <query/>, built once
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	opts := Options{Name: "Hermod"}
	if err := mc.Decode(&opts); err != nil {
		return nil, err
	}
	if opts.Version == "" {
		opts.Version = BuildVersion()
	}
	var b stanza.Builder
	b.Start("query").Xmlns(NS)
	b.Start("name").Text(opts.Name).End()
	b.Start("version").Text(opts.Version).End()
	if opts.ShowOS {
		b.Start("os").Text(runtime.GOOS + " " + runtime.GOARCH).End()
	}
	b.End()
	reply, err := b.Finish()
	if err != nil {
		return nil, err
	}
	return &Module{reply: reply}, nil
}

// Start registers the iq handler and the disco feature.
func (m *Module) Start(h *engine.Host) error {
	h.AddFeature(NS)
	h.HandleIQ(NS, m.handle)
	return nil
}

// Stop does nothing: the module holds no resources.
func (m *Module) Stop() error { return nil }

// handle runs on a worker.
func (m *Module) handle(iq *engine.IQ) {
	switch {
	case iq.ToAbsent || iq.To.Localpart() != "":
		iq.Error(stanza.StanzaError{Condition: stanza.ServiceUnavailable})
	case iq.Type != "get":
		iq.Error(stanza.StanzaError{Condition: stanza.NotAllowed})
	case !iq.Payload.Is(NS, "query"):
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
	default:
		iq.Result(m.reply)
	}
}

// BuildVersion returns the version the running binary was built as: the main module's
// version when it has one (a tagged build, or the pseudo-version the go command stamps
// from version control), else "devel" followed by the VCS revision when known. Any
// goroutine may call it.
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return buildVersion(bi)
}

func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(12, len(rev))] + dirty
}
