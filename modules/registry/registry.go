// Package registry lists the modules a Hermod binary can enable, by configuration
// name. It is the one place that imports every module, so that the engine never does.
package registry

import (
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/modules/carbons"
	"github.com/hermod-im/hermod/modules/disco"
	"github.com/hermod-im/hermod/modules/last"
	"github.com/hermod-im/hermod/modules/offline"
	"github.com/hermod-im/hermod/modules/pingbot"
	"github.com/hermod-im/hermod/modules/presence"
	"github.com/hermod-im/hermod/modules/privacy"
	"github.com/hermod-im/hermod/modules/private"
	"github.com/hermod-im/hermod/modules/register"
	"github.com/hermod-im/hermod/modules/roster"
	"github.com/hermod-im/hermod/modules/sessions"
	xmpptime "github.com/hermod-im/hermod/modules/time"
	"github.com/hermod-im/hermod/modules/vcard"
	"github.com/hermod-im/hermod/modules/version"
)

// All returns the module constructors by name. Each call returns a new map.
func All() map[string]engine.ModuleFactory {
	return map[string]engine.ModuleFactory{
		carbons.Name:  carbons.New,
		disco.Name:    disco.New,
		last.Name:     last.New,
		offline.Name:  offline.New,
		private.Name:  private.New,
		register.Name: register.New,
		xmpptime.Name: xmpptime.New,
		vcard.Name:    vcard.New,
		version.Name:  version.New,
		pingbot.Name:  pingbot.New,
		presence.Name: presence.New,
		privacy.Name:  privacy.New,
		roster.Name:   roster.New,
		sessions.Name: sessions.New,
	}
}
