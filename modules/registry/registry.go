// Package registry lists the modules a Hermod binary can enable, by configuration
// name. It is the one place that imports every module, so that the engine never does.
package registry

import (
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/modules/pingbot"
	"github.com/hermod-im/hermod/modules/presence"
	"github.com/hermod-im/hermod/modules/privacy"
	"github.com/hermod-im/hermod/modules/roster"
)

// All returns the module constructors by name. Each call returns a new map.
func All() map[string]engine.ModuleFactory {
	return map[string]engine.ModuleFactory{
		pingbot.Name:  pingbot.New,
		presence.Name: presence.New,
		privacy.Name:  privacy.New,
		roster.Name:   roster.New,
	}
}
