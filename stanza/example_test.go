package stanza_test

import (
	"fmt"

	"github.com/hermod-im/hermod/stanza"
)

// The router stamps the sender's full JID on a stanza a client sent, without decoding
// or building anything.
func ExampleAppendRewrite() {
	raw := []byte(`<message to='juliet@example.com' type='chat'><body>Art thou not Romeo?</body></message>`)
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Kind, string(h.To), string(h.Type))
	out := stanza.AppendRewrite(nil, raw, &h, []byte("romeo@example.net/orchard"), nil)
	fmt.Println(string(out))
	// Output:
	// message juliet@example.com chat
	// <message from='romeo@example.net/orchard' to='juliet@example.com' type='chat'><body>Art thou not Romeo?</body></message>
}

// Answering an iq: the result swaps to and from and keeps the id.
func ExampleAppendIQResult() {
	raw := []byte(`<iq from='juliet@example.com/balcony' to='example.com' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(stanza.AppendIQResult(nil, &h, nil)))
	// Output:
	// <iq from='example.com' to='juliet@example.com/balcony' id='p1' type='result'/>
}

// Answering a message to an unknown user: the reply carries the original payload and
// the error; a stanza that is itself an error is never answered.
func ExampleAppendErrorReply() {
	raw := []byte(`<message from='romeo@example.net/orchard' to='nobody@example.com' id='m1'><body>hi</body></message>`)
	var h stanza.Header
	if err := stanza.ParseHeader(raw, &h); err != nil {
		fmt.Println(err)
		return
	}
	if h.IsError() {
		return // drop it
	}
	e := stanza.StanzaError{Condition: stanza.ServiceUnavailable}
	fmt.Println(string(stanza.AppendErrorReply(nil, raw, &h, e)))
	// Output:
	// <message from='nobody@example.com' to='romeo@example.net/orchard' id='m1' type='error'><body>hi</body><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>
}

func ExampleStreamError() {
	e := stanza.StreamError{Condition: stanza.StreamSeeOtherHost, Host: "b.example.com"}
	fmt.Println(string(e.AppendXML(nil)))
	fmt.Println(e.Error())
	// Output:
	// <stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>b.example.com</see-other-host></stream:error>
	// stream error: see-other-host b.example.com
}

// Building a stanza the server generates; every value is escaped.
func ExampleBuilder() {
	var b stanza.Builder
	b.Reset(nil)
	b.Start("message").Attr("to", "juliet@example.com").Attr("type", "headline")
	b.Start("body").Text("Server restarts at 10:00 <UTC> & lasts 5'").End()
	b.Start("x").Xmlns("jabber:x:oob").Start("url").Text("https://example.com/?a=1&b=2").End().End()
	b.End()
	out, err := b.Finish()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// <message to='juliet@example.com' type='headline'><body>Server restarts at 10:00 &lt;UTC&gt; &amp; lasts 5'</body><x xmlns='jabber:x:oob'><url>https://example.com/?a=1&amp;b=2</url></x></message>
}

func ExampleEscapeAttr() {
	dst := []byte("<item name='")
	dst = stanza.EscapeAttr(dst, `Tybalt's "cousin" & co`)
	dst = append(dst, "'/>"...)
	fmt.Println(string(dst))
	// Output:
	// <item name='Tybalt&apos;s &quot;cousin&quot; &amp; co'/>
}

// A module reads a payload from a parsed tree and builds its answer as a tree.
func ExampleParse() {
	raw := []byte(`<iq type='set' id='b1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='council@conference.example.com' name='The &amp; Council'/></storage></query></iq>`)
	iq, err := stanza.ParseIn(raw, stanza.NSClient)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iq.Release()
	conf := iq.Find("storage:bookmarks", "conference")
	name, _ := conf.Attr("", "name")
	fmt.Println(name)

	reply := stanza.NewElement(stanza.NSClient, "iq")
	defer reply.Release()
	reply.SetAttr("", "type", "result").SetAttr("", "id", "b1")
	reply.NewChild("jabber:iq:private", "query").AddChild(conf.Parent())
	fmt.Println(string(reply.AppendXMLIn(nil, stanza.NSClient)))
	// Output:
	// The & Council
	// <iq type='result' id='b1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='council@conference.example.com' name='The &amp; Council'/></storage></query></iq>
}
