package xmlscan_test

import (
	"errors"
	"fmt"

	"github.com/hermod-im/hermod/xmlscan"
)

// The read loop of a connection: append what arrives, take tokens until
// ErrNeedMore, route complete stanzas, and drop what the scanner no longer
// needs.
func Example() {
	reads := []string{
		`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`,
		`<message to='juliet@example.com' type='chat'><body>Hi &amp; bye</bo`,
		`dy></message> <presence/>`,
		`</stream:stream>`,
	}
	sc := xmlscan.New(xmlscan.Limits{})
	var buf []byte
	var text []byte
	for _, data := range reads {
		buf = append(buf, data...)
		for {
			tok, err := sc.Next(buf)
			if errors.Is(err, xmlscan.ErrNeedMore) {
				break
			}
			var serr *xmlscan.Error
			if errors.As(err, &serr) {
				fmt.Println("stream error:", serr.Code)
				return
			}
			switch {
			case tok.Kind == xmlscan.StartTag && tok.Depth == 0:
				to, _ := sc.AttrValue("", "to")
				fmt.Printf("stream header to %s in %s\n", to, tok.Space)
			case tok.Kind == xmlscan.Text && tok.Depth == 2:
				text, _ = xmlscan.Unescape(text[:0], tok.Raw)
				fmt.Printf("body text %q\n", text)
			case tok.Kind == xmlscan.Text && tok.Depth == 0:
				fmt.Println("keepalive")
			case tok.StreamEnd:
				fmt.Println("stream closed")
			}
			if tok.StanzaEnd {
				fmt.Printf("route %s\n", tok.Stanza)
			}
			// Drop what is no longer needed: everything before the
			// current stanza, or before the partial token.
			n := sc.Keep()
			buf = buf[:copy(buf, buf[n:])]
			if err := sc.Shift(n); err != nil {
				panic(err)
			}
		}
	}
	// Output:
	// stream header to example.com in http://etherx.jabber.org/streams
	// body text "Hi & bye"
	// route <message to='juliet@example.com' type='chat'><body>Hi &amp; bye</body></message>
	// keepalive
	// route <presence/>
	// stream closed
}

// The routing path's read loop: NextStanza validates each stanza whole and
// reports it once, with its top element's name and attributes.
func ExampleScanner_NextStanza() {
	reads := []string{
		`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`,
		`<message to='juliet@example.com' type='chat'><body>Hi &amp; bye</bo`,
		`dy><active xmlns='http://jabber.org/protocol/chatstates'/></message> <iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`,
	}
	sc := xmlscan.New(xmlscan.Limits{})
	var buf []byte
	for _, data := range reads {
		buf = append(buf, data...)
		for {
			tok, err := sc.NextStanza(buf)
			if errors.Is(err, xmlscan.ErrNeedMore) {
				break
			}
			if err != nil {
				fmt.Println("stream error:", err)
				return
			}
			if tok.StanzaEnd {
				to, _ := sc.AttrValue("", "to")
				fmt.Printf("%s in %s to %q: %d bytes\n", tok.Local, tok.Space, to, len(tok.Stanza))
			}
			n := sc.Keep()
			buf = buf[:copy(buf, buf[n:])]
			if err := sc.Shift(n); err != nil {
				panic(err)
			}
		}
	}
	// Output:
	// message in jabber:client to "juliet@example.com": 135 bytes
	// iq in jabber:client to "": 61 bytes
}
