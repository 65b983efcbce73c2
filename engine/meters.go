package engine

import (
	"github.com/hermod-im/hermod/engine/metrics"
	"github.com/hermod-im/hermod/stanza"
)

// metricKind maps a stanza kind to its counter index.
// stanzaOut counts b, a stanza written or queued for a client, in
// hermod_stanzas_sent_total by its kind, which the first letter of its name tells
// (the engine writes these names without a prefix).
func stanzaOut(m *metrics.Metrics, b []byte) {
	k := metrics.Other
	if len(b) > 1 {
		switch b[1] {
		case 'm':
			k = metrics.Message
		case 'p':
			k = metrics.Presence
		case 'i':
			k = metrics.IQ
		}
	}
	m.StanzaOut(k)
}

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
