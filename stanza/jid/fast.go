package jid

import "strings"

// The fast path: recognise, in one or two passes and without allocating, the
// addresses whose parts are already in the form the slow path would produce,
// or differ from it only by ASCII upper case in the localpart or domainpart
// (which PRECIS UsernameCaseMapped and the UTS #46 mapping both lower-case,
// and nothing else). It only ever accepts or defers; every rejection is the
// slow path's to make and explain. The rules are deliberately narrower than
// the slow path's: when in doubt, defer. TestFastAgreesWithSlow* and
// FuzzParse hold the fast path to that contract.

// text is what the scanners read: a string (Parse) or a byte slice
// (ParseBytes, EqualBytes) without converting one to the other.
type text interface{ ~string | ~[]byte }

// Byte classes of the fast path, as bits in asciiClass.
const (
	// classLocal: a byte that PRECIS UsernameCaseMapped leaves unchanged and
	// RFC 7622 section 3.3.1 allows: printable ASCII except upper case and
	// " & ' / : < > @.
	classLocal uint8 = 1 << iota
	// classDomain: a byte of a lower-case LDH label, or the dot.
	classDomain
	// classResource: a byte that PRECIS OpaqueString leaves unchanged:
	// printable ASCII and the space.
	classResource
	// classUpper: 'A' to 'Z', which the localpart and domainpart lower-case.
	classUpper
)

// asciiClass maps each byte to its classes; bytes >= 0x80 have none, so any
// non-ASCII input defers to the slow path. It is built once and never written.
var asciiClass = func() (t [256]uint8) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] |= classResource
		switch {
		case c == ' ':
		case c >= 'A' && c <= 'Z':
			t[c] |= classUpper
		case c == '"', c == '&', c == '\'', c == '/', c == ':', c == '<', c == '>', c == '@':
		default:
			t[c] |= classLocal
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= classDomain
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= classDomain
	}
	t['-'] |= classDomain
	t['.'] |= classDomain
	return t
}()

// split finds the separators per RFC 7622 section 3.2: slash is the first '/'
// and at is the first '@' before it; either is -1 when absent. Separators are
// matched on the raw input, before any mapping could produce new ones.
func split[T text](s T) (at, slash int) {
	at, slash = -1, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '@':
			if at < 0 {
				at = i
			}
		case '/':
			return at, i
		}
	}
	return at, slash
}

// scan reports whether s is a whole address that the fast path accepts and,
// if so, where its domainpart starts and where its '/' is (0 when there is no
// resourcepart). upper reports ASCII upper case in the localpart or
// domainpart: s is then normal once those are lower-cased (see lowerASCII);
// otherwise s is normal as it is and can become a JID without copying.
func scan[T text](s T) (dom, slash int, upper, ok bool) {
	at, sl := split(s)
	end := len(s)
	if sl >= 0 {
		if !resourceNormal(s[sl+1:]) {
			return 0, 0, false, false
		}
		end = sl
	}
	if at >= 0 {
		up, ok := localNormal(s[:at])
		if !ok {
			return 0, 0, false, false
		}
		upper = up
		dom = at + 1
	}
	up, ok := domainNormal(s[dom:end])
	if !ok {
		return 0, 0, false, false
	}
	return dom, max(sl, 0), upper || up, true
}

// scanNormal reports whether s is normal as it is (scan without upper case).
func scanNormal[T text](s T) (dom, slash int, ok bool) {
	dom, slash, upper, ok := scan(s)
	return dom, slash, ok && !upper
}

// localNormal reports whether l is a non-empty localpart that PRECIS
// UsernameCaseMapped maps to itself (upper false) or to its ASCII lower case
// (upper true), and RFC 7622 allows.
func localNormal[T text](l T) (upper, ok bool) {
	if len(l) == 0 || len(l) > MaxPartLen {
		return false, false
	}
	// OR-ing and AND-ing without branching on each byte is faster than
	// returning at the first bad byte, and bad bytes are rare.
	all, any := classLocal|classUpper, uint8(0)
	for i := 0; i < len(l); i++ {
		c := asciiClass[l[i]]
		if c&(classLocal|classUpper) == 0 {
			all = 0
		}
		any |= c
	}
	return any&classUpper != 0, all != 0
}

// resourceNormal reports whether r is a non-empty resourcepart that PRECIS
// OpaqueString maps to itself.
func resourceNormal[T text](r T) bool {
	if len(r) == 0 || len(r) > MaxPartLen {
		return false
	}
	all := classResource
	for i := 0; i < len(r); i++ {
		all &= asciiClass[r[i]]
	}
	return all != 0
}

// domainNormal reports whether d is a domainpart that IDNA2008 with UTS #46
// mapping maps to itself (upper false) or to its ASCII lower case (upper
// true): LDH labels, none empty, none starting or ending with '-', none with
// "--" in its third and fourth places (A-labels and what IDNA reserves for
// them), no trailing dot (RFC 7622 strips it, which changes the string). IPv4
// literals are LDH names here and pass; IPv6 literals defer.
func domainNormal[T text](d T) (upper, ok bool) {
	if len(d) == 0 || len(d) > MaxPartLen {
		return false, false
	}
	start := 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) {
			c := d[i]
			k := asciiClass[c]
			if k&(classDomain|classUpper) == 0 {
				return false, false
			}
			upper = upper || k&classUpper != 0
			if c != '.' {
				continue
			}
		}
		// d[start:i] is a label.
		n := i - start
		if n == 0 || d[start] == '-' || d[i-1] == '-' {
			return false, false
		}
		if n >= 4 && d[start+2] == '-' && d[start+3] == '-' {
			return false, false
		}
		start = i + 1
	}
	return upper, true
}

// lowerASCII returns s with ASCII upper case lower-cased before end (the
// localpart and domainpart), in one allocation.
func lowerASCII[T text](s T, end int) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i < end && asciiClass[c]&classUpper != 0 {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
