package engine

import (
	"github.com/hermod-im/hermod/engine/metrics"
	"github.com/hermod-im/hermod/stanza"
)

// metricKind maps a stanza kind to its counter index.
// stanzaOut counts b, a stanza written or queued for a client, in
// hermod_stanzas_sent_total by its kind (the engine writes the names without a
// prefix, so b[1] is the name's first letter).
func stanzaOut(m *metrics.Metrics, b []byte) {
	k := metrics.Other
	if len(b) > 1 {
		k = kindByInitial(b[1])
	}
	m.StanzaOut(k)
}

// kindByInitial is the kind of a jabber:client stanza named with first letter c.
func kindByInitial(c byte) metrics.StanzaKind {
	switch c {
	case 'm':
		return metrics.Message
	case 'p':
		return metrics.Presence
	case 'i':
		return metrics.IQ
	}
	return metrics.Other
}

// writeStanza writes a stanza the engine itself answers with (iq results and
// errors, the bind result, a presence replayed) and counts it. On the loop.
func (c *conn) writeStanza(b []byte) {
	stanzaOut(c.srv.metrics, b)
	c.write(b)
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
