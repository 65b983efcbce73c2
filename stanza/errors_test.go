package stanza

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/valyala/bytebufferpool"
)

// rfcStreamConditions lists RFC 6120 section 4.9.3.1-25 in order.
var rfcStreamConditions = []string{
	"bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone",
	"host-unknown", "improper-addressing", "internal-server-error", "invalid-from",
	"invalid-namespace", "invalid-xml", "not-authorized", "not-well-formed",
	"policy-violation", "remote-connection-failed", "reset", "resource-constraint",
	"restricted-xml", "see-other-host", "system-shutdown", "undefined-condition",
	"unsupported-encoding", "unsupported-feature", "unsupported-stanza-type",
	"unsupported-version",
}

// rfcStanzaConditions lists RFC 6120 section 8.3.3.1-22 in order with the type each
// SHOULD have.
var rfcStanzaConditions = []struct{ name, typ string }{
	{"bad-request", "modify"}, {"conflict", "cancel"}, {"feature-not-implemented", "cancel"},
	{"forbidden", "auth"}, {"gone", "cancel"}, {"internal-server-error", "cancel"},
	{"item-not-found", "cancel"}, {"jid-malformed", "modify"}, {"not-acceptable", "modify"},
	{"not-allowed", "cancel"}, {"not-authorized", "auth"}, {"policy-violation", "modify"},
	{"recipient-unavailable", "wait"}, {"redirect", "modify"}, {"registration-required", "auth"},
	{"remote-server-not-found", "cancel"}, {"remote-server-timeout", "wait"},
	{"resource-constraint", "wait"}, {"service-unavailable", "cancel"},
	{"subscription-required", "auth"}, {"undefined-condition", "cancel"},
	{"unexpected-request", "wait"},
}

func TestStreamConditions(t *testing.T) {
	if int(numStreamConditions)-1 != len(rfcStreamConditions) {
		t.Fatalf("%d stream conditions, RFC 6120 defines %d", numStreamConditions-1, len(rfcStreamConditions))
	}
	for i, name := range rfcStreamConditions {
		c := StreamCondition(i + 1)
		if c.String() != name || !c.Valid() {
			t.Errorf("condition %d = %q, want %q", i+1, c, name)
		}
		if got, ok := ParseStreamCondition(name); !ok || got != c {
			t.Errorf("ParseStreamCondition(%q) = %v, %v", name, got, ok)
		}
		if got, ok := ParseStreamCondition([]byte(name)); !ok || got != c {
			t.Errorf("ParseStreamCondition([]byte %q) = %v, %v", name, got, ok)
		}
		// Serialised, it is one element in the streams-errors namespace.
		e := StreamError{Condition: c}
		doc := e.AppendFramedXML(nil)
		n := decodeErrorElement(t, doc, NSStreams, "error")
		if len(n.children) != 1 || n.children[0].Space != NSStreamErrors || n.children[0].Local != name {
			t.Errorf("%s serialised as %s", name, doc)
		}
	}
	for _, bad := range []string{"", "Bad-Format", "gone", "bad-format "} {
		if _, ok := ParseStreamCondition(bad); ok {
			t.Errorf("ParseStreamCondition(%q) succeeded", bad)
		}
	}
	if StreamCondition(0).String() != "undefined-condition" || StreamCondition(200).Valid() || StreamCondition(0).Valid() {
		t.Error("zero or unknown stream condition mishandled")
	}
}

func TestStanzaConditions(t *testing.T) {
	if int(numStanzaConditions)-1 != len(rfcStanzaConditions) {
		t.Fatalf("%d stanza conditions, RFC 6120 defines %d", numStanzaConditions-1, len(rfcStanzaConditions))
	}
	for i, rc := range rfcStanzaConditions {
		c := StanzaCondition(i + 1)
		if c.String() != rc.name || !c.Valid() {
			t.Errorf("condition %d = %q, want %q", i+1, c, rc.name)
		}
		if c.DefaultType().String() != rc.typ {
			t.Errorf("%s default type %q, want %q", rc.name, c.DefaultType(), rc.typ)
		}
		if got, ok := ParseStanzaCondition(rc.name); !ok || got != c {
			t.Errorf("ParseStanzaCondition(%q) = %v, %v", rc.name, got, ok)
		}
		e := StanzaError{Condition: c}
		doc := e.AppendXML(nil)
		n := decodeErrorElement(t, doc, "", "error")
		if n.attrs["type"] != rc.typ {
			t.Errorf("%s: type=%q, want %q", rc.name, n.attrs["type"], rc.typ)
		}
		if len(n.children) != 1 || n.children[0].Space != NSStanzaErrors || n.children[0].Local != rc.name {
			t.Errorf("%s serialised as %s", rc.name, doc)
		}
	}
	if _, ok := ParseStanzaCondition("see-other-host"); ok {
		t.Error("a stream condition parsed as a stanza condition")
	}
	if StanzaCondition(0).String() != "undefined-condition" || StanzaCondition(0).DefaultType() != TypeCancel {
		t.Error("zero stanza condition mishandled")
	}
}

func TestErrorTypes(t *testing.T) {
	for i, name := range []string{"auth", "cancel", "continue", "modify", "wait"} {
		et := ErrorType(i + 1)
		if et.String() != name {
			t.Errorf("type %d = %q, want %q", i+1, et, name)
		}
		if got, ok := ParseErrorType(name); !ok || got != et {
			t.Errorf("ParseErrorType(%q) = %v, %v", name, got, ok)
		}
	}
	if _, ok := ParseErrorType("error"); ok {
		t.Error("ParseErrorType(error) succeeded")
	}
	if ErrorType(0).String() != "" || ErrorType(77).String() != "" {
		t.Error("zero or unknown error type has a name")
	}
}

func TestStreamErrorXML(t *testing.T) {
	tests := []struct {
		name   string
		e      StreamError
		framed bool
		want   string
	}{
		{"plain", StreamError{Condition: StreamNotWellFormed}, false,
			`<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`},
		{"framed", StreamError{Condition: StreamHostUnknown}, true,
			`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`},
		{"see-other-host", StreamError{Condition: StreamSeeOtherHost, Host: "[2001:db8::1]:5222"}, false,
			`<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::1]:5222</see-other-host></stream:error>`},
		{"host ignored elsewhere", StreamError{Condition: StreamConflict, Host: "x"}, false,
			`<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`},
		{"text and app", StreamError{Condition: StreamPolicyViolation, Text: "too <fast> & loud", Lang: "en",
			App: []byte(`<stanza-too-big xmlns='urn:xmpp:errors'/>`)}, false,
			`<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>` +
				`<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>too &lt;fast&gt; &amp; loud</text>` +
				`<stanza-too-big xmlns='urn:xmpp:errors'/></stream:error>`},
		{"zero", StreamError{}, false,
			`<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`},
	}
	for _, tt := range tests {
		var got []byte
		if tt.framed {
			got = tt.e.AppendFramedXML([]byte("x"))
		} else {
			got = tt.e.AppendXML([]byte("x"))
		}
		if string(got) != "x"+tt.want {
			t.Errorf("%s:\n got %s\nwant x%s", tt.name, got, tt.want)
		}
	}
	// The framed form resolves on its own, text included.
	e := StreamError{Condition: StreamSystemShutdown, Text: "bye", Lang: "en"}
	n := decodeErrorElement(t, e.AppendFramedXML(nil), NSStreams, "error")
	if len(n.children) != 2 || n.children[1].Space != NSStreamErrors || n.children[1].Local != "text" || n.text != "bye" {
		t.Errorf("framed stream error decodes as %+v", n)
	}
}

func TestStanzaErrorXML(t *testing.T) {
	tests := []struct {
		name string
		e    StanzaError
		want string
	}{
		{"default type", StanzaError{Condition: ServiceUnavailable},
			`<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`},
		{"explicit type and by", StanzaError{Type: TypeWait, Condition: PolicyViolation, By: "example.com"},
			`<error type='wait' by='example.com'><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`},
		{"gone", StanzaError{Condition: Gone, URI: "xmpp:romeo@afterlife.example.net?a=1&b=2"},
			`<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:romeo@afterlife.example.net?a=1&amp;b=2</gone></error>`},
		{"redirect", StanzaError{Condition: Redirect, URI: "xmpp:characters@conference.example.org"},
			`<error type='modify'><redirect xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:characters@conference.example.org</redirect></error>`},
		{"uri ignored elsewhere", StanzaError{Condition: Forbidden, URI: "xmpp:x"},
			`<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`},
		{"text lang app", StanzaError{Condition: UndefinedCondition, Text: "it's", Lang: "fr",
			App: []byte(`<unsupported xmlns='http://jabber.org/protocol/pubsub#errors' feature='publish'/>`)},
			`<error type='cancel'><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>` +
				`<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='fr'>it's</text>` +
				`<unsupported xmlns='http://jabber.org/protocol/pubsub#errors' feature='publish'/></error>`},
		{"text without lang", StanzaError{Condition: BadRequest, Text: "a"},
			`<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>a</text></error>`},
		{"by escaped", StanzaError{Type: TypeContinue, Condition: Conflict, By: "a'b"},
			`<error type='continue' by='a&apos;b'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`},
	}
	for _, tt := range tests {
		if got := string(tt.e.AppendXML(nil)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if err := xml.Unmarshal(tt.e.AppendXML(nil), new(struct{})); err != nil {
			t.Errorf("%s: not well-formed: %v", tt.name, err)
		}
	}
}

func TestErrorStrings(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&StreamError{Condition: StreamNotWellFormed}, "stream error: not-well-formed"},
		{&StreamError{Condition: StreamSeeOtherHost, Host: "b.example", Text: "moved"}, "stream error: see-other-host b.example: moved"},
		{&StanzaError{Condition: ItemNotFound}, "stanza error: cancel item-not-found"},
		{&StanzaError{Type: TypeWait, Condition: ItemNotFound, Text: "later"}, "stanza error: wait item-not-found: later"},
	}
	for _, tt := range tests {
		if tt.err.Error() != tt.want {
			t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.want)
		}
	}
	var se *StanzaError
	wrapped := errors.Join(errors.New("roster"), &StanzaError{Condition: NotAllowed})
	if !errors.As(wrapped, &se) || se.Condition != NotAllowed {
		t.Error("errors.As does not find a wrapped *StanzaError")
	}
}

func TestAppendErrorReply(t *testing.T) {
	e := StanzaError{Condition: ServiceUnavailable}
	const errXML = `<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`
	tests := []struct {
		name, raw, want string
	}{
		{"message with payload",
			`<message from='romeo@example.net/orchard' to='juliet@example.com' id='m1' type='chat'><body>hi &amp; bye</body></message>`,
			`<message from='juliet@example.com' to='romeo@example.net/orchard' id='m1' type='error'><body>hi &amp; bye</body>` + errXML + `</message>`},
		{"self-closing iq",
			`<iq from='a@b/c' to='b' type='get' id='q'/>`,
			`<iq from='b' to='a@b/c' id='q' type='error'>` + errXML + `</iq>`},
		{"iq with child and end-tag whitespace",
			`<iq from='a@b/c' type='set' id='q'><query xmlns='jabber:iq:roster'><item jid='x'/></query></iq >`,
			`<iq to='a@b/c' id='q' type='error'><query xmlns='jabber:iq:roster'><item jid='x'/></query>` + errXML + `</iq>`},
		{"lone start tag: no payload",
			`<presence from='a' type='subscribe'>`,
			`<presence to='a' type='error'>` + errXML + `</presence>`},
		{"ws framing keeps xmlns",
			`<message xmlns='jabber:client' to='x'/>`,
			`<message xmlns='jabber:client' from='x' type='error'>` + errXML + `</message>`},
		{"never answer an error", `<message type='error' from='a' to='b'><error type='cancel'/></message>`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHeader(t, tt.raw)
			got := AppendErrorReply([]byte("pre"), []byte(tt.raw), h, e)
			if string(got) != "pre"+tt.want {
				t.Fatalf("\n got %s\nwant pre%s", got, tt.want)
			}
			if tt.want == "" {
				return
			}
			if err := xml.Unmarshal(got[3:], new(struct{})); err != nil {
				t.Errorf("reply not well-formed: %v", err)
			}
			rh := mustHeader(t, tt.want)
			if !rh.IsError() || !bytes.Equal(rh.ID, h.ID) {
				t.Errorf("reply header %+v", rh)
			}
			var bb bytebufferpool.ByteBuffer
			WriteErrorReply(&bb, []byte(tt.raw), h, e)
			if bb.String() != tt.want {
				t.Errorf("WriteErrorReply = %s", bb.B)
			}
		})
	}
}

// errNode is what decodeErrorElement reports about an error element.
type errNode struct {
	attrs    map[string]string
	children []xml.Name
	text     string // character data of the last child
}

// decodeErrorElement decodes doc with namespace resolution and checks that its root
// element is {space}local.
func decodeErrorElement(t *testing.T, doc []byte, space, local string) errNode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	n := errNode{attrs: map[string]string{}}
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return n
			}
			t.Fatalf("decode %s: %v", doc, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if tok.Name.Space != space || tok.Name.Local != local {
					t.Fatalf("root %v in %s", tok.Name, doc)
				}
				for _, a := range tok.Attr {
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if depth == 2 {
				n.children = append(n.children, tok.Name)
				n.text = ""
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 2 {
				n.text += strings.TrimSpace(string(tok))
			}
		}
	}
}
