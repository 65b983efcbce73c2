package engine

import (
	"github.com/valyala/bytebufferpool"

	"github.com/hermod-im/hermod/stanza"
)

const (
	nsPing = "urn:xmpp:ping"
)

// serverStanza handles a stanza addressed to the served domain itself.
func (c *conn) serverStanza(raw []byte, h *stanza.Header) {
	switch h.Kind {
	case stanza.IQ:
		c.serverIQ(raw, h, false)
	case stanza.Message:
		// RFC 6120 10.3.1: the server may ignore messages to itself; an error would
		// only invite a loop with automated senders.
	case stanza.Presence:
		// Presence to the server is for components and subscriptions to the domain,
		// neither of which exists yet: ignore (10.3.2).
	}
}

// serverIQ answers an iq addressed to the server, or to an account on the account's
// behalf (ownAccount: sent by the account itself without 'to'). Results and errors
// addressed to the server are consumed silently (RFC 6120 8.2.3).
func (c *conn) serverIQ(raw []byte, h *stanza.Header, ownAccount bool) {
	typ := string(h.Type)
	if typ == "result" || typ == "error" {
		return
	}
	el, err := stanza.ParseIn(raw, nsClient)
	if err != nil {
		c.replyError(raw, h, stanza.BadRequest)
		return
	}
	children := el.Children()
	if len(children) != 1 {
		// 8.2.3: a get or set carries exactly one payload element.
		el.Release()
		c.replyError(raw, h, stanza.BadRequest)
		return
	}
	ns := string(children[0].Space())
	if ns != nsPing && ns != nsSession && ns != nsBind && c.dispatchIQ(h, el, children[0]) {
		return // the module's worker owns el now
	}
	defer el.Release()
	switch {
	case ns == nsPing && typ == "get":
		c.replyResult(h, nil)
	case ns == nsSession && typ == "set" && ownAccount:
		// RFC 3921's session establishment, kept for old clients (RFC 6121 appendix E).
		c.replyResult(h, nil)
	case ns == nsBind && ownAccount:
		c.replyError(raw, h, stanza.NotAllowed)
	default:
		c.replyError(raw, h, stanza.ServiceUnavailable)
	}
}

// replyResult answers an iq with type='result' from the address it was sent to.
func (c *conn) replyResult(h *stanza.Header, payload []byte) {
	bb := bytebufferpool.Get()
	bb.B = stanza.AppendIQResult(bb.B, h, payload)
	c.writeStanza(bb.B)
	bytebufferpool.Put(bb)
}

// preAuthIQ offers an iq sent before authentication to the modules that handle such
// requests (in-band registration). It reports whether one took it.
func (c *conn) preAuthIQ(raw []byte) bool {
	if c.host == nil || len(c.host.preAuthIQ) == 0 {
		return false
	}
	var h stanza.Header
	if stanza.ParseHeader(raw, &h) != nil || !validIQ(&h) || (string(h.Type) != "get" && string(h.Type) != "set") {
		return false
	}
	el, err := stanza.ParseIn(raw, nsClient)
	if err != nil {
		return false
	}
	if children := el.Children(); len(children) == 1 && c.dispatchIQ(&h, el, children[0]) {
		return true
	}
	el.Release()
	return false
}
