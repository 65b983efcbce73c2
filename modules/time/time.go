// Package time is mod_time: Entity Time (XEP-0202) for the served domain. It answers
// <time xmlns='urn:xmpp:time'/> sent to the host with the server's UTC time and its
// numeric offset from UTC, and advertises urn:xmpp:time in the host's disco#info.
//
// It answers for the server only: a query to an account's bare JID gets
// service-unavailable (RFC 6121 8.5.2.1.3: the server answers for the account, and it
// does not know the time zone of a person), and one to a full JID reaches the client.
// It must not keep state: the handler is called concurrently on workers.
package time

import (
	stdtime "time"

	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/stanza"
)

// Name is the module's configuration name.
const Name = "mod_time"

// NS is the XEP-0202 namespace.
const NS = "urn:xmpp:time"

// Options are the module's configuration keys: none yet. Decoding into the empty
// struct still rejects unknown keys with the file and line.
type Options struct{}

// Module answers entity time requests to its host.
type Module struct {
	host *engine.Host
	now  func() stdtime.Time // replaced by tests
}

// New is the module's engine.ModuleFactory.
func New(mc engine.ModuleConfig) (engine.Module, error) {
	var opts Options
	if err := mc.Decode(&opts); err != nil {
		return nil, err
	}
	return &Module{now: stdtime.Now}, nil
}

// Start registers the iq handler and the disco feature.
func (m *Module) Start(h *engine.Host) error {
	m.host = h
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
	case !iq.Payload.Is(NS, "time"):
		iq.Error(stanza.StanzaError{Condition: stanza.BadRequest})
	default:
		iq.Result(AppendTime(nil, m.now()))
	}
}

// AppendTime appends the <time/> payload for t: <tzo/> is t's offset from UTC in the
// TZD form of XEP-0082 ("+01:00", "-06:30"), <utc/> is t in UTC to the second. Any
// goroutine may call it.
func AppendTime(dst []byte, t stdtime.Time) []byte {
	dst = append(dst, "<time xmlns='urn:xmpp:time'><tzo>"...)
	dst = t.AppendFormat(dst, "-07:00")
	dst = append(dst, "</tzo><utc>"...)
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05Z")
	return append(dst, "</utc></time>"...)
}
