package engine

import (
	"github.com/hermod-im/hermod/engine/metrics"
	"github.com/hermod-im/hermod/stanza"
)

// metricKind maps a stanza kind to its counter index.
func metricKind(k stanza.Kind) metrics.StanzaKind {
	switch k {
	case stanza.Message:
		return metrics.Message
	case stanza.Presence:
		return metrics.Presence
	case stanza.IQ:
		return metrics.IQ
	}
	return metrics.Other
}
