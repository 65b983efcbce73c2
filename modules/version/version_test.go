package version

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/enginetest"
)

func TestBuildVersion(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"tagged", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261126193810-a26a2950f00d+dirty"}}, "v0.0.0-20261126193810-a26a2950f00d+dirty"},
		{"devel with revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "a26a2950f00dcafe", "vcs.modified", "false")}, "devel-a26a2950f00d"},
		{"devel, modified", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.modified", "true", "vcs.revision", "abc")}, "devel-abc-dirty"},
		{"nothing known", debug.BuildInfo{}, "devel"},
	} {
		if got := buildVersion(&c.bi); got != c.want {
			t.Errorf("%s: buildVersion = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSoftwareVersion(t *testing.T) {
	const errNS = " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
	for _, tc := range []struct {
		name string
		opts map[string]any
		send string
		want string
	}{
		{"defaults: no <os/>", nil,
			"<iq type='get' to='localhost' id='version_1'><query xmlns='jabber:iq:version'/></iq>",
			"<iq type='result' id='version_1' to='romeo@localhost/orchard' from='localhost'><query xmlns='jabber:iq:version'>" +
				"<name>Hermod</name><version>" + BuildVersion() + "</version></query></iq>"},
		{"configured, with <os/> and escaping", map[string]any{"name": "Hermod <test>", "version": "1.0 & more", "show_os": true},
			"<iq type='get' to='localhost' id='v2'><query xmlns='jabber:iq:version'/></iq>",
			"<iq type='result' id='v2' to='romeo@localhost/orchard' from='localhost'><query xmlns='jabber:iq:version'>" +
				"<name>Hermod &lt;test&gt;</name><version>1.0 &amp; more</version><os>" + runtime.GOOS + " " + runtime.GOARCH + "</os></query></iq>"},
		{"set is not allowed", nil,
			"<iq type='set' to='localhost' id='v3'><query xmlns='jabber:iq:version'/></iq>",
			"<iq type='error' id='v3' to='romeo@localhost/orchard' from='localhost'><error type='cancel'><not-allowed" + errNS},
		{"an account's bare JID", nil,
			"<iq type='get' to='romeo@localhost' id='v4'><query xmlns='jabber:iq:version'/></iq>",
			"<iq type='error' id='v4' to='romeo@localhost/orchard' from='romeo@localhost'><error type='cancel'><service-unavailable" + errNS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := enginetest.Start(t, enginetest.WithModule(Name, New, tc.opts))
			ts.AddUser("romeo", "secret")
			c := ts.Login(t, "romeo", "secret", "orchard")
			c.Send(tc.send)
			if got := c.ReadUntil("</iq>"); got != tc.want {
				t.Fatalf("\n got  %s\n want %s", got, tc.want)
			}
		})
	}
}

func TestUnknownOption(t *testing.T) {
	// A typo must stop start-up rather than be ignored.
	cfg := config.Default()
	cfg.Modules = map[string]map[string]any{Name: {"shw_os": true}}
	_, err := New(engine.ModuleConfig{Name: Name, Host: "localhost", Decode: func(v any) error { return cfg.DecodeModule(Name, v) }})
	if err == nil {
		t.Fatal("New accepted an unknown option")
	}
}
