package offline

import (
	"fmt"
	"time"

	"github.com/hermod-im/hermod/stanza"
)

// Namespaces the storage decision looks at.
const (
	nsChatStates = "http://jabber.org/protocol/chatstates" // XEP-0085
	nsHints      = "urn:xmpp:hints"                        // XEP-0334
	nsDelay      = "urn:xmpp:delay"                        // XEP-0203
)

// decision is what happens to a message no resource can take.
type decision int

const (
	store  decision = iota // keep it for the next login
	drop                   // discard it silently: nothing worth keeping
	bounce                 // not for offline storage: the engine answers service-unavailable
)

// decide applies XEP-0160 section 4 and XEP-0334 to a chat or normal message, parsed
// from raw in jabber:client:
//   - <store/> (XEP-0334) asks for storage whatever the content;
//   - <no-store/> asks for none: the message is dropped;
//   - a message with nothing but chat states (XEP-0085), hints and a <thread/> is
//     dropped, as XEP-0160 says chat states SHOULD NOT be stored: bouncing every
//     "is typing" to the sender would be noise.
//
// Anything else (a body, a subject, any other extension: encrypted payloads, receipts,
// invitations) is stored.
func decide(raw []byte) decision {
	el, err := stanza.ParseIn(raw, stanza.NSClient)
	if err != nil {
		return bounce
	}
	defer el.Release()
	if el.Child(nsHints, "store") != nil {
		return store
	}
	if el.Child(nsHints, "no-store") != nil {
		return drop
	}
	for _, c := range el.Children() {
		switch string(c.Space()) {
		case nsChatStates, nsHints:
			continue
		case stanza.NSClient:
			if string(c.Local()) == "thread" {
				continue
			}
		}
		return store
	}
	return drop
}

// appendDelay appends raw, a message whose header h was parsed from it, with
// <delay xmlns='urn:xmpp:delay' from='domain' stamp='...'>Offline Storage</delay>
// added as its last child (XEP-0203, with the text of XEP-0160's example). The stamp is
// UTC to the millisecond (XEP-0082).
func appendDelay(dst, raw []byte, h *stanza.Header, domain string, stamp time.Time) ([]byte, error) {
	var head, tail []byte
	if h.SelfClosing {
		head = raw[:h.TagEnd-2] // without "/>"
	} else {
		inner, err := h.Inner(raw)
		if err != nil {
			return nil, fmt.Errorf("offline: add delay: %w", err)
		}
		end := h.TagEnd + len(inner)
		head, tail = raw[:end], raw[end:]
	}
	dst = append(dst, head...)
	if h.SelfClosing {
		dst = append(dst, '>')
	}
	dst = append(dst, "<delay xmlns='urn:xmpp:delay' from='"...)
	dst = stanza.EscapeAttr(dst, domain)
	dst = append(dst, "' stamp='"...)
	dst = stamp.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	dst = append(dst, "'>Offline Storage</delay>"...)
	if h.SelfClosing {
		dst = append(dst, "</"...)
		dst = append(dst, raw[1:h.NameEnd]...)
		return append(dst, '>'), nil
	}
	return append(dst, tail...), nil
}

// priorityOf reads the <priority/> of a presence as the engine does.
func priorityOf(raw []byte) int { return int(stanza.PresencePriority(raw)) }
