package xmlscan

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Realistic client-to-server traffic for the chunking, allocation and
// benchmark tests: messages, presences and IQs of 150 B to 4 KiB with
// namespaces, escaped text, non-ASCII text and whitespace keepalives.

// bodies are escaped already.
var bodies = []string{
	"Hello, how are you?",
	"Meet at 10:00 &amp; bring the &lt;draft&gt; please",
	"Привет! Как дела? Увидимся завтра.",
	"日本語のメッセージです。よろしくお願いします。",
	"Emoji time 😀🎉👍 and a quote: &quot;yes&quot; &apos;no&apos;",
	"Line one\nLine two\r\nLine three\ttabbed &#x263A; &#9731;",
	"Ünïcödé àccents ñ ç ø å ß — dashes – and “quotes”",
	"if (a &lt; b &amp;&amp; c &gt; d) { return x; }",
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// genStanza returns one stanza of roughly target bytes.
func genStanza(r *rand.Rand, i, target int) string {
	var b strings.Builder
	switch i % 3 {
	case 0:
		fmt.Fprintf(&b, `<message to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat' id='m%d' xml:lang='en'>`, i)
		for b.Len() < target-200 {
			fmt.Fprintf(&b, `<body>%s</body>`, pick(r, bodies))
		}
		b.WriteString(`<active xmlns='http://jabber.org/protocol/chatstates'/>`)
		b.WriteString(`<request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='`)
		fmt.Fprintf(&b, "%08x'/></message>", r.Uint32())
	case 1:
		fmt.Fprintf(&b, `<presence id='p%d'><show>away</show><status>`, i)
		for b.Len() < target-250 {
			b.WriteString(pick(r, bodies))
			b.WriteByte(' ')
		}
		b.WriteString(`</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.org/client' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>`)
		b.WriteString(`<x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x></presence>`)
	default:
		fmt.Fprintf(&b, `<iq type='result' id='roster_%d' to='romeo@montague.lit/orchard'><query xmlns='jabber:iq:roster' ver='ver%d'>`, i, i)
		for k := 0; b.Len() < target-40; k++ {
			fmt.Fprintf(&b, `<item jid='contact%d@example.org' name='Friend &amp; %d' subscription='both'><group>Friends</group></item>`, k, k)
		}
		b.WriteString(`</query></iq>`)
	}
	return b.String()
}

// genStream returns a whole client stream of n stanzas, sizes spread over
// 150 B to 4 KiB, with keepalives between some of them. With end, the
// stream is closed.
func genStream(seed uint64, n int, end bool) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString(`<?xml version='1.0' encoding='UTF-8'?>`)
	b.WriteString(streamHeader)
	for i := 0; i < n; i++ {
		target := 150 + int(r.ExpFloat64()*600)
		target = min(target, 4096)
		b.WriteString(genStanza(r, i, target))
		if r.IntN(8) == 0 {
			b.WriteString(" ")
		}
		if r.IntN(20) == 0 {
			b.WriteString("\n\n")
		}
	}
	if end {
		b.WriteString("</stream:stream>")
	}
	return []byte(b.String())
}

// loginStream is a short complete session as a client sends it.
const loginStream = `<?xml version='1.0'?>` + streamHeader +
	`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</auth>` +
	` <iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>` +
	`<presence><priority>1</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>` +
	"\n" + `<message to='romeo@example.net' type='chat' xml:lang='en'><body>Wherefore art thou, Romeo? &lt;3 — ромео 😀</body><thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread></message>` +
	`<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq><message><body><![CDATA[raw <b>bold</b> & ]] text]]></body></message>` +
	`<x:a xmlns:x='urn:x' x:b='1' c='2'><x:d xmlns:x='urn:y' x:b='3'/></x:a>   ` +
	`</stream:stream>`
