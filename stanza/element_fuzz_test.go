package stanza

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics and that serialisation round-trips: for
// any tree Parse accepts, AppendXML gives bytes that parse to an equal tree and
// serialise to themselves again, and every subtree written on its own parses to an
// equal subtree (namespace declarations it inherited are added).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		rosterPush,
		iq1K,
		`<message xml:lang='en' xmlns:x='urn:x'><body>a &lt; b<![CDATA[<c>]]></body><x:d x:k='v'/></message>`,
		`<a xmlns='urn:a' xmlns:p='urn:p'><p:b p:c='1'><e/><f xmlns=''/></p:b>t&#x9;<g/>u</a>`,
		"<p>one <em>two</em> three\r\n</p>",
		`<x:y xmlns:x='urn:&amp;' a="'"/>`,
		`<a/><b/>`,
		`<a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Parse(raw)
		if err != nil {
			return
		}
		defer e.Release()
		out := e.AppendXML(nil)
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("serialised tree does not parse: %v\ninput %q\noutput %q", err, raw, out)
		}
		defer back.Release()
		if err := equalTrees(e, back); err != nil {
			t.Fatalf("round trip changed the tree: %v\ninput %q\noutput %q", err, raw, out)
		}
		if again := back.AppendXML(nil); !bytes.Equal(again, out) {
			t.Fatalf("serialisation not stable:\n%q\n%q", out, again)
		}
		e.Walk(func(sub *Element) bool {
			if sub == e {
				return true
			}
			b := sub.AppendXML(nil)
			st, err := Parse(b)
			if err != nil {
				t.Fatalf("subtree %q of %q does not parse: %v", b, raw, err)
			}
			defer st.Release()
			if err := equalTrees(sub, st); err != nil {
				t.Fatalf("subtree %q of %q: %v", b, raw, err)
			}
			return true
		})
		// A deep copy serialises exactly as the original.
		holder := NewElement("", "h")
		defer holder.Release()
		cp := holder.AddChild(e)
		if got := cp.AppendXML(nil); !bytes.Equal(got, out) {
			t.Fatalf("copy serialises differently:\n%q\n%q", out, got)
		}
	})
}
