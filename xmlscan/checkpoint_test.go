package xmlscan

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// The two header forms the engine checkpoints: the same declarations in either order.
const (
	cpHeaderA = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
	cpHeaderB = `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>`
)

func mustCheckpoint(tb testing.TB, l Limits, header string) *Checkpoint {
	tb.Helper()
	cp, err := NewCheckpoint(l, []byte(header))
	if err != nil {
		tb.Fatalf("NewCheckpoint(%q): %v", header, err)
	}
	return cp
}

// scanStream feeds in to s whole, shifting everything consumed away, and returns
// the tokens; s is left with no bytes of in, as a connection leaves its
// scanner after handling a read.
func scanStream(tb testing.TB, s *Scanner, in string) ([]rec, error) {
	tb.Helper()
	return feedStanzas(tb, s, []byte(in))
}

// shiftRecs moves the recorded offsets by d, so that a restored scanner's
// tokens (offsets from the restore) compare with the uninterrupted one's.
func shiftRecs(rs []rec, d int64) []rec {
	if rs == nil {
		return nil
	}
	out := make([]rec, len(rs))
	for i, r := range rs {
		r.Abs += d
		out[i] = r
	}
	return out
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code.String() + ": " + e.Msg
	}
	return errString(err)
}

// checkRestored scans prefix with one scanner, checks whether the checkpoint
// matches it then, and if so checks that a restored scanner reads rest exactly
// as the original goes on reading it.
func checkRestored(t *testing.T, cp *Checkpoint, l Limits, prefix, rest string) (matched bool) {
	t.Helper()
	orig := New(l)
	if _, err := scanStream(t, orig, prefix); err != nil {
		t.Fatalf("prefix %q: %v", prefix, err)
	}
	orig.Compact()
	if !cp.Matches(orig) {
		return false
	}
	want, wantErr := scanStream(t, orig, rest)
	// A scanner reused from a pool was left anywhere by its last stream: here in
	// the middle of a start tag with many attributes, inside a deep stanza.
	reused := New(l)
	_, _ = scanStream(t, reused, `<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:server' xmlns:q='urn:q'>`+
		`<m a='1' b='2' c='3' d='4' e='5' f='6' g='7' h='8' i='9' j='10'><q:a><q:b><c xmlns='urn:c' k='`)
	cp.RestoreInto(reused)
	for _, r := range []struct {
		name string
		s    *Scanner
	}{{"Restore", cp.Restore()}, {"RestoreInto", reused}} {
		got, gotErr := scanStream(t, r.s, rest)
		if !reflect.DeepEqual(shiftRecs(got, int64(len(prefix))), want) {
			t.Errorf("%s after %q, rest %q:\nrestored %v\noriginal %v", r.name, prefix, rest, got, want)
		}
		if errCode(gotErr) != errCode(wantErr) {
			t.Errorf("%s after %q, rest %q: restored error %v, original %v", r.name, prefix, rest, gotErr, wantErr)
		}
	}
	return true
}

func TestCheckpointMatchesAndRestores(t *testing.T) {
	cpA := mustCheckpoint(t, Limits{}, cpHeaderA)
	cpB := mustCheckpoint(t, Limits{}, cpHeaderB)
	rests := []string{
		``,
		`<message to='a@b'><body>hi</body></message>`,
		" \n\t <presence/>  <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
		`<message xmlns:x='urn:x'><x:y a='1' x:b='2'/><body>&amp;&#x41;<![CDATA[<>]]></body></message></stream:stream>`,
		`</stream:stream>`,
		`<message><y:z/></message>`,    // unbound prefix
		`<message></presence>`,         // mismatched end tag
		`<message a='1' a='2'/>`,       // duplicate attribute
		`<!DOCTYPE x><message/>`,       // not allowed
		`<message><body>partial`,       // ends in a partial stanza
		`</stream>`,                    // wrong end of the stream
		`<stream:features xmlns='x'/>`, // a stanza in another default namespace
		`<message xmlns='jabber:server'/>`,
	}
	cases := []struct {
		name   string
		cp     *Checkpoint
		prefix string
		match  bool
	}{
		{"header A", cpA, cpHeaderA, true},
		{"header A with attributes and a declaration", cpA,
			`<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' version='1.0' xml:lang='en' xmlns:stream='http://etherx.jabber.org/streams' id='x'>`, true},
		{"header A after stanzas and whitespace", cpA,
			cpHeaderA + `<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq> <presence><status>x</status></presence>`, true},
		{"header B", cpB, cpHeaderB, true},
		{"header B against A", cpA, cpHeaderB, false},
		{"another prefix", cpA, `<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>`, false},
		{"an extra declaration", cpA, `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>`, false},
		{"another default namespace", cpA, `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>`, false},
		{"inside a stanza", cpA, cpHeaderA + `<message><body>`, false},
		{"inside a start tag", cpA, cpHeaderA + `<message to='a`, false},
		{"after the stream's end", cpA, cpHeaderA + `</stream:stream>`, false},
		{"before any header", cpA, ``, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, rest := range rests {
				if got := checkRestored(t, tc.cp, Limits{}, tc.prefix, rest); got != tc.match {
					t.Fatalf("Matches = %v, want %v", got, tc.match)
				}
			}
		})
	}
}

func TestCheckpointLimits(t *testing.T) {
	cp := mustCheckpoint(t, Limits{MaxStanzaBytes: 1000}, cpHeaderA)
	if checkRestored(t, cp, Limits{}, cpHeaderA, ``) {
		t.Fatal("a scanner with other limits matched")
	}
	if !checkRestored(t, cp, Limits{MaxStanzaBytes: 1000}, cpHeaderA, `<message/>`) {
		t.Fatal("a scanner with the same limits did not match")
	}
	// The restored scanner keeps the checkpoint's limits.
	big := `<message><body>` + strings.Repeat("x", 1200) + `</body></message>`
	_, err := scanStream(t, cp.Restore(), big)
	var e *Error
	if !errors.As(err, &e) || e.Code != PolicyViolation {
		t.Fatalf("stanza of %d bytes after Restore: %v, want a limit error", len(big), err)
	}
}

func TestCheckpointBadHeaders(t *testing.T) {
	for _, h := range []string{
		``,
		`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'`,
		cpHeaderA + `<message/>`,
		cpHeaderA + `<message>`,
		`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>`,
		`<a><b>`,
		`<x:stream>`,
	} {
		if _, err := NewCheckpoint(Limits{}, []byte(h)); err == nil {
			t.Errorf("NewCheckpoint(%q) accepted it", h)
		}
	}
}

// TestCheckpointIsolation: what a restored scanner does (end the stream,
// restart it with other declarations, grow and truncate its arena) never
// reaches the checkpoint or other restored scanners, also concurrently.
func TestCheckpointIsolation(t *testing.T) {
	cp := mustCheckpoint(t, Limits{}, cpHeaderA)
	before := cp.s
	before.open = append([]openElem(nil), cp.s.open...)
	before.binds = append([]binding(nil), cp.s.binds...)
	before.arena = append([]byte(nil), cp.s.arena...)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				s := cp.Restore()
				if _, err := scanStream(t, s, `<message xmlns:a='urn:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'><a:x/></message></stream:stream>`); err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				s.Reset()
				if _, err := scanStream(t, s, `<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='zzzzzzzzzzzzzzzzzzzz'><m/>`); err != nil {
					t.Errorf("goroutine %d, second stream: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if !reflect.DeepEqual(cp.s.open, before.open) || !reflect.DeepEqual(cp.s.binds, before.binds) || string(cp.s.arena) != string(before.arena) {
		t.Fatal("restored scanners changed the checkpoint")
	}
	if !checkRestored(t, cp, Limits{}, cpHeaderA, `<message/>`) {
		t.Fatal("the checkpoint no longer matches a fresh stream")
	}
}

// TestCheckpointRestoreAllocs bounds what waking an idle connection costs.
func TestCheckpointRestoreAllocs(t *testing.T) {
	cp := mustCheckpoint(t, Limits{}, cpHeaderA)
	if n := testing.AllocsPerRun(100, func() { _ = cp.Restore() }); n > 4 {
		t.Fatalf("Restore: %v allocations, want at most 4", n)
	}
}

// FuzzCheckpoint: for any input after the header, a restored scanner reads it
// as the scanner that read the header goes on reading it.
func FuzzCheckpoint(f *testing.F) {
	for _, s := range []string{``, `<message/>`, ` <iq><x xmlns='y'/></iq>`, `</stream:stream>`, `<a:b/>`, `<m>&bad;</m>`} {
		f.Add(s)
	}
	cp := mustCheckpoint(f, Limits{}, cpHeaderA)
	f.Fuzz(func(t *testing.T, rest string) {
		if !checkRestored(t, cp, Limits{}, cpHeaderA, rest) {
			t.Fatal("no match after the header itself")
		}
	})
}
