package stanza

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/xmlscan"
)

const rosterPush = `<iq xmlns='jabber:client' to='juliet@example.com/balcony' type='set' id='a78b4q6ha463'>` +
	`<query xmlns='jabber:iq:roster' ver='ver14'><item jid='nurse@example.com' name='Nurse &amp; co'>` +
	`<group>Servants</group><group>Nurses</group></item></query></iq>`

func mustParse(t testing.TB, raw string) *Element {
	t.Helper()
	e, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return e
}

func TestParseTree(t *testing.T) {
	raw := []byte(rosterPush)
	iq, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer iq.Release()
	// The tree owns its bytes: scribbling over the input changes nothing.
	for i := range raw {
		raw[i] = 'X'
	}
	if !iq.Is(NSClient, "iq") || iq.Parent() != nil {
		t.Fatalf("root is {%s}%s", iq.Space(), iq.Local())
	}
	if v, ok := iq.Attr("", "type"); !ok || v != "set" {
		t.Errorf("type = %q, %v", v, ok)
	}
	q := iq.Child("jabber:iq:roster", "query")
	if q == nil || q.Parent() != iq {
		t.Fatal("no query child")
	}
	if iq.Child(NSClient, "query") != nil {
		t.Error("Child matched the wrong namespace")
	}
	item := q.Child("jabber:iq:roster", "item")
	if item == nil {
		t.Fatal("no item")
	}
	if v, _ := item.Attr("", "name"); v != "Nurse & co" {
		t.Errorf("name = %q", v)
	}
	if v, _ := item.AttrRaw("", "name"); string(v) != "Nurse &amp; co" {
		t.Errorf("raw name = %q", v)
	}
	if v, ok := item.AppendAttr([]byte(">"), "", "jid"); !ok || string(v) != ">nurse@example.com" {
		t.Errorf("AppendAttr jid = %q", v)
	}
	if _, ok := item.Attr("", "subscription"); ok {
		t.Error("absent attribute found")
	}
	var groups []string
	for g := range item.ChildrenNamed("jabber:iq:roster", "group") {
		groups = append(groups, g.Text())
	}
	if strings.Join(groups, ",") != "Servants,Nurses" {
		t.Errorf("groups = %v", groups)
	}
	if f := iq.Find("", "group"); f == nil || f.Text() != "Servants" {
		t.Errorf("Find(group) = %v", f)
	}
	if iq.Find("urn:other", "group") != nil || iq.Find("", "nothing") != nil {
		t.Error("Find matched what is not there")
	}
	if s, ok := item.ChildText("jabber:iq:roster", "group"); !ok || s != "Servants" {
		t.Errorf("ChildText = %q, %v", s, ok)
	}
	if _, ok := item.ChildText("jabber:iq:roster", "nope"); ok {
		t.Error("ChildText found a missing child")
	}
	n := 0
	iq.Walk(func(e *Element) bool { n++; return string(e.Local()) != "item" })
	if n != 3 {
		t.Errorf("Walk visited %d elements, want 3 (iq, query, item; not item's children)", n)
	}
	if iq.NumAttrs() != 4 {
		t.Errorf("NumAttrs = %d", iq.NumAttrs())
	}
	if a := iq.AttrAt(0); string(a.Local) != "xmlns" || string(a.Value) != NSClient || string(a.Space) != nsXMLNS {
		t.Errorf("AttrAt(0) = %+v", a)
	}
	if got := iq.String(); got != rosterPush {
		t.Errorf("serialised\n got %s\nwant %s", got, rosterPush)
	}
}

func TestParseTextAndNamespaces(t *testing.T) {
	raw := "<message xml:lang='en' xmlns:x='urn:x'>\n<body>a &lt; b &#x263A;\r\nc<![CDATA[<raw> &amp;\r]]>d</body>" +
		"<x:data x:k='v&#9;w' k2='p'/><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>" +
		"<p>one <em>two</em> three</p></body></html></message>"
	m := mustParse(t, raw)
	defer m.Release()
	if len(m.Space()) != 0 {
		t.Errorf("Parse gave the root a namespace: %q", m.Space())
	}
	if v, ok := m.Attr(NSXML, "lang"); !ok || v != "en" {
		t.Errorf("xml:lang = %q, %v", v, ok)
	}
	body := m.Child("", "body")
	if body == nil {
		t.Fatal("no body")
	}
	if got := body.Text(); got != "a < b ☺\nc<raw> &amp;\nd" {
		t.Errorf("body text = %q", got)
	}
	data := m.Child("urn:x", "data")
	if data == nil || string(data.Prefix()) != "x" {
		t.Fatalf("prefixed child: %v", data)
	}
	if v, _ := data.Attr("urn:x", "k"); v != "v\tw" {
		t.Errorf("x:k = %q", v)
	}
	if v, _ := data.Attr("", "k2"); v != "p" {
		t.Errorf("k2 = %q", v)
	}
	p := m.Find("http://www.w3.org/1999/xhtml", "p")
	if p == nil || p.Text() != "one  three" {
		t.Fatalf("xhtml p: %v", p)
	}
	// Mixed content keeps its order when written back.
	if got := p.String(); got != `<p xmlns='http://www.w3.org/1999/xhtml'>one <em>two</em> three</p>` {
		t.Errorf("p serialised as %s", got)
	}
	if got := m.String(); got != raw {
		t.Errorf("round trip\n got %q\nwant %q", got, raw)
	}
}

func TestParseIn(t *testing.T) {
	raw := `<message to='a'><body>x</body><x xmlns=''><y/></x><z xmlns='urn:z'><w/></z></message>`
	m, err := ParseIn([]byte(raw), NSClient)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	for _, c := range []struct {
		e    *Element
		want string
	}{
		{m, NSClient},
		{m.Child(NSClient, "body"), NSClient},
		{m.Find("", "x"), ""},
		{m.Find("", "y"), ""},
		{m.Find("", "z"), "urn:z"},
		{m.Find("", "w"), "urn:z"},
	} {
		if c.e == nil || string(c.e.Space()) != c.want {
			t.Errorf("%v: namespace %q, want %q", c.e, c.e.Space(), c.want)
		}
	}
	// Written into a jabber:client stream, nothing is redeclared; standalone, the
	// namespace is declared on the root.
	if got := m.AppendXMLIn(nil, NSClient); string(got) != raw {
		t.Errorf("AppendXMLIn\n got %s\nwant %s", got, raw)
	}
	want := `<message to='a' xmlns='jabber:client'><body>x</body><x xmlns=''><y/></x><z xmlns='urn:z'><w/></z></message>`
	if got := m.String(); got != want {
		t.Errorf("AppendXML\n got %s\nwant %s", got, want)
	}
}

func TestSubtreeSerialisation(t *testing.T) {
	doc := mustParse(t, `<a xmlns='urn:a' xmlns:p='urn:p' xmlns:q="urn:q"><p:b p:c='1' q:d='2'><e/></p:b></a>`)
	defer doc.Release()
	b := doc.Child("urn:p", "b")
	want := `<p:b p:c='1' q:d='2' xmlns:p='urn:p' xmlns:q='urn:q'><e xmlns='urn:a'/></p:b>`
	if got := b.String(); got != want {
		t.Errorf("subtree\n got %s\nwant %s", got, want)
	}
	e := b.Children()[0]
	if got := e.String(); got != `<e xmlns='urn:a'/>` {
		t.Errorf("leaf %s", got)
	}
	if got := string(e.AppendXMLIn(nil, "urn:a")); got != `<e/>` {
		t.Errorf("leaf in its namespace %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		raw     string
		scanner bool // an *xmlscan.Error rather than ErrParse
	}{
		{"", false},
		{"   ", false},
		{"<a>", false},
		{"<a><b></a>", true},
		{"<a/><b/>", false},
		{"<a/>text", true},
		{"text<a/>", true},
		{"<p:a/>", true},
		{"<a x='1' x='2'/>", true},
		{"<a>&bogus;</a>", true},
		{"<!-- c --><a/>", true},
		{"<a>\xff</a>", true},
		{strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300), true},
	}
	for _, tt := range tests {
		e, err := Parse([]byte(tt.raw))
		if err == nil {
			e.Release()
			t.Errorf("Parse(%.40q) succeeded", tt.raw)
			continue
		}
		var se *xmlscan.Error
		if tt.scanner != errors.As(err, &se) || (!tt.scanner && !errors.Is(err, ErrParse)) {
			t.Errorf("Parse(%.40q) error %v (%T)", tt.raw, err, err)
		}
	}
	for _, ok := range []string{" <a/> ", "<?xml version='1.0'?><a/>", "\n<a>\n</a>\n"} {
		e, err := Parse([]byte(ok))
		if err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
			continue
		}
		e.Release()
	}
}

func TestTreesAreIndependent(t *testing.T) {
	a := mustParse(t, `<a k='1'><b>x</b></a>`)
	b := mustParse(t, `<c k='2'><d>y</d></c>`)
	a.Release()
	for i := 0; i < 10; i++ { // reuse a's document
		mustParse(t, `<zzzzzz k='99999'><zz>zzzzz</zz></zzzzzz>`).Release()
	}
	if got := b.String(); got != `<c k='2'><d>y</d></c>` {
		t.Errorf("b changed after other trees were released: %s", got)
	}
	b.Release()
	var nilElem *Element
	nilElem.Release() // harmless
}

func TestBuildTree(t *testing.T) {
	iq := NewElement(NSClient, "iq")
	defer iq.Release()
	iq.SetAttr("", "type", "result").SetAttr("", "id", "x'1").SetAttr("", "type", "set")
	q := iq.NewChild("jabber:iq:private", "query")
	st := q.NewChild("storage:bookmarks", "storage")
	st.NewChild("storage:bookmarks", "conference").
		SetAttr("", "jid", "council@conference.example.com").
		SetAttr("", "name", `"The" <Council> & co`).
		SetAttr(NSXML, "lang", "en").
		SetAttr("urn:meta", "pin", "true").
		NewChild("storage:bookmarks", "nick").SetText("Puck & <friends>]]>")
	if err := iq.Err(); err != nil {
		t.Fatal(err)
	}
	want := `<iq type='set' id='x&apos;1' xmlns='jabber:client'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>` +
		`<conference jid='council@conference.example.com' name='&quot;The&quot; &lt;Council&gt; &amp; co' xml:lang='en' ns1:pin='true' xmlns:ns1='urn:meta'>` +
		`<nick>Puck &amp; &lt;friends&gt;]]&gt;</nick></conference></storage></query></iq>`
	got := iq.String()
	if got != want {
		t.Fatalf("built\n got %s\nwant %s", got, want)
	}
	// What was built parses back to an equal tree.
	back := mustParse(t, got)
	defer back.Release()
	if err := equalTrees(iq, back); err != nil {
		t.Errorf("built tree and its parse differ: %v", err)
	}
	conf := back.Find("storage:bookmarks", "conference")
	if v, _ := conf.Attr("urn:meta", "pin"); v != "true" {
		t.Errorf("namespaced attribute = %q", v)
	}
	if v, _ := conf.Attr("", "name"); v != `"The" <Council> & co` {
		t.Errorf("name = %q", v)
	}

	// Removing, replacing text, mixed content.
	c := iq.Find("", "conference")
	if !c.RemoveAttr("urn:meta", "pin") || c.RemoveAttr("urn:meta", "pin") {
		t.Error("RemoveAttr")
	}
	nick := c.Child("storage:bookmarks", "nick")
	nick.SetText("")
	if nick.Text() != "" || nick.String() != `<nick xmlns='storage:bookmarks'/>` {
		t.Errorf("cleared nick: %s", nick)
	}
	p := NewElement("", "p")
	defer p.Release()
	p.AddText("one ")
	p.NewChild("", "em").SetText("two")
	p.AddText(" three")
	p.SetAttr("", "class", "x")
	if got := p.String(); got != `<p class='x'>one <em>two</em> three</p>` {
		t.Errorf("mixed content: %s", got)
	}
	if p.Text() != "one  three" {
		t.Errorf("mixed text = %q", p.Text())
	}
}

func TestAddChildCopies(t *testing.T) {
	msg := mustParse(t, `<message xmlns='jabber:client' xmlns:e='urn:e' from='a' id='1'><body>hi &amp; bye</body><e:x e:y='z'><![CDATA[c]]></e:x></message>`)
	result := NewElement("urn:xmpp:mam:2", "result")
	result.SetAttr("", "id", "28482-98726-73623")
	fwd := result.NewChild("urn:xmpp:forward:0", "forwarded")
	cp := fwd.AddChild(msg)
	msg.Release() // the copy must not depend on the original
	mustParse(t, `<overwrite-the-pooled-document-with-something-else-entirely a='bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'/>`).Release()
	if cp.Parent() != fwd {
		t.Error("copy has the wrong parent")
	}
	want := `<result id='28482-98726-73623' xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' xmlns:e='urn:e' from='a' id='1'><body>hi &amp; bye</body><e:x e:y='z'><![CDATA[c]]></e:x></message>` +
		`</forwarded></result>`
	if got := result.String(); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	// Copying within one tree works too.
	result.AddChild(fwd)
	if n := len(result.Children()); n != 2 || result.Children()[1].Find("jabber:client", "body").Text() != "hi & bye" {
		t.Errorf("self copy: %s", result)
	}
	result.Release()
}

func TestBuildMisuse(t *testing.T) {
	for name, f := range map[string]func(e *Element){
		"bad local":        func(e *Element) { e.NewChild("", "a b") },
		"prefixed local":   func(e *Element) { e.NewChild("", "p:a") },
		"xmlns attr":       func(e *Element) { e.SetAttr("", "xmlns", "urn:x") },
		"xmlns space attr": func(e *Element) { e.SetAttr(nsXMLNS, "p", "urn:x") },
		"bad attr":         func(e *Element) { e.SetAttr("", "", "v") },
	} {
		e := NewElement("", "root")
		f(e)
		if !errors.Is(e.Err(), ErrElementName) {
			t.Errorf("%s: Err() = %v", name, e.Err())
		}
		if strings.Contains(e.String(), "urn:x") {
			t.Errorf("%s: misuse changed the tree: %s", name, e)
		}
		e.Release()
	}
	if e := NewElement("", "1bad"); e.Err() == nil {
		t.Error("NewElement accepted an invalid name")
	}
}

func TestGeneratedPrefixAvoidsCollision(t *testing.T) {
	e := mustParse(t, `<ns1:a xmlns:ns1='urn:one'/>`)
	defer e.Release()
	e.SetAttr("urn:two", "k", "v")
	out := e.String()
	back := mustParse(t, out)
	defer back.Release()
	if v, ok := back.Attr("urn:two", "k"); !ok || v != "v" || !back.Is("urn:one", "a") {
		t.Errorf("collision: %s", out)
	}
}

// TestParseMatchesEncodingXML checks namespaces, attribute values and text against
// encoding/xml's namespace-resolving Decoder on well-formed inputs.
func TestParseMatchesEncodingXML(t *testing.T) {
	inputs := []string{
		rosterPush,
		`<message xmlns:a='urn:a' xmlns:b='urn:b'><a:x b:y='1' z='&lt;2&gt;'><b:w xmlns:a='urn:a2'><a:v/></b:w></a:x></message>`,
		"<m><t>line1\r\nline2 &amp; &#233;</t><![CDATA[x]]></m>",
	}
	for _, in := range inputs {
		e := mustParse(t, in)
		got := describe(e)
		e.Release()
		want := describeXML(t, in)
		if got != want {
			t.Errorf("%s\n ours %s\n  xml %s", in, got, want)
		}
	}
}

// describe renders a tree as "{space}local[attrs](text)children" with decoded values.
func describe(e *Element) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{%s}%s[", e.Space(), e.Local())
	for i := 0; i < e.NumAttrs(); i++ {
		a := e.AttrAt(i)
		if string(a.Space) == nsXMLNS {
			continue
		}
		v, _ := e.Attr(string(a.Space), string(a.Local))
		fmt.Fprintf(&b, "{%s}%s=%q ", a.Space, a.Local, strings.ReplaceAll(v, "\t", " "))
	}
	fmt.Fprintf(&b, "](%q)", e.Text())
	for _, c := range e.Children() {
		b.WriteString(describe(c))
	}
	b.WriteString(";")
	return b.String()
}

func describeXML(t *testing.T, in string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(in))
	var b strings.Builder
	var texts []string
	var pending []string // rendered children per open element
	var heads []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("encoding/xml: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			var h strings.Builder
			fmt.Fprintf(&h, "{%s}%s[", tok.Name.Space, tok.Name.Local)
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				space := a.Name.Space
				if space == "xml" {
					space = NSXML
				}
				fmt.Fprintf(&h, "{%s}%s=%q ", space, a.Name.Local, strings.ReplaceAll(a.Value, "\t", " "))
			}
			h.WriteString("]")
			heads = append(heads, h.String())
			texts = append(texts, "")
			pending = append(pending, "")
		case xml.CharData:
			if len(texts) > 0 {
				texts[len(texts)-1] += string(tok)
			}
		case xml.EndElement:
			n := len(heads) - 1
			s := fmt.Sprintf("%s(%q)%s;", heads[n], texts[n], pending[n])
			heads, texts, pending = heads[:n], texts[:n], pending[:n]
			if n == 0 {
				b.WriteString(s)
			} else {
				pending[n-1] += s
			}
		}
	}
	return b.String()
}

// equalTrees compares two trees: names, namespaces, attributes other than namespace
// declarations (decoded, in order), text segments (decoded, with their position among
// the children) and children.
func equalTrees(a, b *Element) error {
	if !bytes.Equal(a.Space(), b.Space()) || !bytes.Equal(a.Local(), b.Local()) {
		return fmt.Errorf("{%s}%s != {%s}%s", a.Space(), a.Local(), b.Space(), b.Local())
	}
	if aa, ba := attrList(a), attrList(b); aa != ba {
		return fmt.Errorf("%s: attributes %s != %s", a.Local(), aa, ba)
	}
	if at, bt := segList(a), segList(b); at != bt {
		return fmt.Errorf("%s: text %s != %s", a.Local(), at, bt)
	}
	if len(a.Children()) != len(b.Children()) {
		return fmt.Errorf("%s: %d children != %d", a.Local(), len(a.Children()), len(b.Children()))
	}
	for i := range a.Children() {
		if err := equalTrees(a.Children()[i], b.Children()[i]); err != nil {
			return err
		}
	}
	return nil
}

func attrList(e *Element) string {
	var b strings.Builder
	for i := 0; i < e.NumAttrs(); i++ {
		a := e.AttrAt(i)
		if string(a.Space) == nsXMLNS {
			continue
		}
		v, _ := e.Attr(string(a.Space), string(a.Local))
		fmt.Fprintf(&b, "{%s}%s=%q ", a.Space, a.Local, v)
	}
	return b.String()
}

func segList(e *Element) string {
	var b strings.Builder
	for _, s := range e.text {
		one := Element{doc: e.doc, text: []textSeg{s}}
		fmt.Fprintf(&b, "%d:%v:%q ", s.after, s.cdata, one.AppendText(nil))
	}
	return b.String()
}

// iq1K is a 1 KiB disco#info result, the size of a typical payload a module parses.
const iq1K = `<iq xmlns='jabber:client' from='conference.example.com' to='juliet@example.com/balcony' id='info4' type='result' xml:lang='en'>` +
	`<query xmlns='http://jabber.org/protocol/disco#info' node='http://jabber.org/protocol/muc#rooms'>` +
	`<identity category='conference' type='text' name='Chatrooms &amp; Lounges'/>` +
	`<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/>` +
	`<feature var='http://jabber.org/protocol/muc'/><feature var='jabber:iq:register'/><feature var='vcard-temp'/>` +
	`<feature var='urn:xmpp:mam:2'/><feature var='urn:xmpp:ping'/>` +
	`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>` +
	`<field var='muc#roominfo_description' label='Description'><value>The place for all good witches &amp; wizards!</value></field>` +
	`<field var='muc#roominfo_occupants' label='Number of occupants'><value>3</value></field>` +
	`<field var='muc#roominfo_lang' label='Language of discussion'><value>en</value></field>` +
	`</x></query></iq>`

func TestIQ1KParses(t *testing.T) {
	if len(iq1K) < 1000 || len(iq1K) > 1050 {
		t.Fatalf("iq1K is %d bytes", len(iq1K))
	}
	e := mustParse(t, iq1K)
	defer e.Release()
	if e.String() != iq1K {
		t.Errorf("iq1K does not round-trip:\n%s", e)
	}
}
