//go:build !race

package stanza

import "testing"

// The router's per-stanza work must not allocate: these pin it.

func TestAllocsParseHeaderRewrite(t *testing.T) {
	raw := []byte(allocMsg)
	from := []byte("romeo@example.net/orchard")
	dst := make([]byte, 0, 1024)
	var h Header
	n := testing.AllocsPerRun(100, func() {
		if err := ParseHeader(raw, &h); err != nil {
			t.Fatal(err)
		}
		dst = AppendRewrite(dst[:0], raw, &h, from, nil)
	})
	if n != 0 {
		t.Errorf("ParseHeader+AppendRewrite: %v allocs/op, want 0", n)
	}
}

func TestAllocsReplies(t *testing.T) {
	raw := []byte(`<iq from='a@b/c' to='b' type='get' id='x1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	h := mustHeader(t, string(raw))
	dst := make([]byte, 0, 1024)
	n := testing.AllocsPerRun(100, func() {
		dst = AppendIQResult(dst[:0], h, nil)
	})
	if n != 0 {
		t.Errorf("AppendIQResult: %v allocs/op, want 0", n)
	}
}

func TestAllocsEscape(t *testing.T) {
	dst := make([]byte, 0, 1024)
	s := "it's <b>\"bold\"</b> & naïve \x00 \xff"
	b := []byte(s)
	n := testing.AllocsPerRun(100, func() {
		dst = EscapeAttr(dst[:0], s)
		dst = EscapeText(dst, b)
	})
	if n != 0 {
		t.Errorf("EscapeAttr+EscapeText: %v allocs/op, want 0", n)
	}
}

func TestAllocsErrorReply(t *testing.T) {
	raw := []byte(allocMsg)
	h := mustHeader(t, allocMsg)
	e := StanzaError{Condition: ServiceUnavailable, Text: "no such user", Lang: "en", By: "example.com"}
	dst := make([]byte, 0, 2048)
	n := testing.AllocsPerRun(100, func() {
		dst = AppendErrorReply(dst[:0], raw, h, e)
	})
	if n != 0 {
		t.Errorf("AppendErrorReply: %v allocs/op, want 0", n)
	}
	se := StreamError{Condition: StreamSeeOtherHost, Host: "b.example.com", Text: "moved"}
	n = testing.AllocsPerRun(100, func() {
		dst = se.AppendFramedXML(dst[:0])
	})
	if n != 0 {
		t.Errorf("StreamError.AppendFramedXML: %v allocs/op, want 0", n)
	}
}

func TestAllocsBuilder(t *testing.T) {
	h := mustHeader(t, `<iq from='juliet@example.com/balcony' to='example.com' type='get' id='v1'/>`)
	var b Builder
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		b.Reset(buf[:0])
		b.StartReply(h, "result").Start("query").Xmlns("jabber:iq:roster").Attr("ver", "ver7")
		for i := 0; i < 3; i++ {
			b.Start("item").Attr("jid", "nurse@example.com").Attr("name", "Nurse & co").
				Start("group").Text("Servants <3").End().End()
		}
		b.End().End()
		out, err := b.Finish()
		if err != nil || len(out) == 0 {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("Builder: %v allocs/op, want 0", n)
	}
}

func TestAllocsParseRelease(t *testing.T) {
	raw := []byte(iq1K)
	for i := 0; i < 3; i++ { // grow the pooled document and scanner
		mustParse(t, iq1K).Release()
	}
	n := testing.AllocsPerRun(200, func() {
		e, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if e.Find("jabber:x:data", "x") == nil {
			t.Fatal("no form")
		}
		e.Release()
	})
	if n != 0 {
		t.Errorf("Parse+Release of a 1 KiB iq: %v allocs/op, want 0", n)
	}
}

func TestAllocsTreeReadAndWrite(t *testing.T) {
	e := mustParse(t, iq1K)
	defer e.Release()
	dst := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		dst = e.AppendXMLIn(dst[:0], NSClient)
		q := e.Child("http://jabber.org/protocol/disco#info", "query")
		id := q.Child("http://jabber.org/protocol/disco#info", "identity")
		dst, _ = id.AppendAttr(dst, "", "name")
		dst = e.Find("", "value").AppendText(dst)
	})
	if n != 0 {
		t.Errorf("AppendXMLIn+lookups: %v allocs/op, want 0", n)
	}
}
