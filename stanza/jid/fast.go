package jid

// The fast path: recognise, in one pass and without allocating, the parts that
// are already in the form the slow path would produce. It only ever accepts or
// defers; every rejection is the slow path's to make (and to explain). The
// rules are deliberately narrower than the slow path's: when in doubt, defer.
// TestFastAgreesWithSlow and FuzzParse hold the fast path to that contract.

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
)

// asciiClass maps each byte to its classes; bytes >= 0x80 have none, so any
// non-ASCII input defers to the slow path. It is built once and never written.
var asciiClass = func() (t [256]uint8) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] |= classResource
		if c == ' ' || c >= 'A' && c <= 'Z' {
			continue
		}
		switch c {
		case '"', '&', '\'', '/', ':', '<', '>', '@':
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

// scanNormal reports whether s is a whole address in the fast path's normal
// form and, if so, where its domainpart starts and where its '/' is (0 when
// there is no resourcepart), ready to become a JID without copying.
func scanNormal[T text](s T) (dom, slash int, ok bool) {
	at, sl := split(s)
	end := len(s)
	if sl >= 0 {
		if !resourceNormal(s[sl+1:]) {
			return 0, 0, false
		}
		end = sl
	}
	if at >= 0 {
		if !localNormal(s[:at]) {
			return 0, 0, false
		}
		dom = at + 1
	}
	if !domainNormal(s[dom:end]) {
		return 0, 0, false
	}
	if sl < 0 {
		sl = 0
	}
	return dom, sl, true
}

// localNormal reports whether l is a non-empty localpart that PRECIS
// UsernameCaseMapped maps to itself and RFC 7622 allows.
func localNormal[T text](l T) bool {
	if len(l) == 0 || len(l) > MaxPartLen {
		return false
	}
	for i := 0; i < len(l); i++ {
		if asciiClass[l[i]]&classLocal == 0 {
			return false
		}
	}
	return true
}

// resourceNormal reports whether r is a non-empty resourcepart that PRECIS
// OpaqueString maps to itself.
func resourceNormal[T text](r T) bool {
	if len(r) == 0 || len(r) > MaxPartLen {
		return false
	}
	for i := 0; i < len(r); i++ {
		if asciiClass[r[i]]&classResource == 0 {
			return false
		}
	}
	return true
}

// domainNormal reports whether d is a domainpart that IDNA2008 with UTS #46
// mapping maps to itself: lower-case LDH labels, none empty, none starting or
// ending with '-', none with "--" in its third and fourth places (A-labels and
// what IDNA reserves for them), no trailing dot (RFC 7622 strips it, which
// changes the string). IPv4 literals are LDH names here and pass; IPv6
// literals defer.
func domainNormal[T text](d T) bool {
	if len(d) == 0 || len(d) > MaxPartLen {
		return false
	}
	start := 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) {
			c := d[i]
			if asciiClass[c]&classDomain == 0 {
				return false
			}
			if c != '.' {
				continue
			}
		}
		// d[start:i] is a label.
		n := i - start
		if n == 0 || d[start] == '-' || d[i-1] == '-' {
			return false
		}
		if n >= 4 && d[start+2] == '-' && d[start+3] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}
