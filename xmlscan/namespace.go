package xmlscan

// Namespace processing (Namespaces in XML 1.0, third edition).
//
// Bindings and the names of open elements live in one scanner-owned arena, a
// byte stack: a start tag pushes its name and its declarations' prefixes and
// (decoded) namespace names, its end tag truncates the arena back. The stream
// header's bindings therefore survive after the caller shifts the header's
// bytes away, and steady-state scanning allocates nothing once the arena has
// grown to the deepest stanza seen.

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// binding maps a prefix (empty for the default namespace) to a namespace
// name; both are arena ranges.
type binding struct {
	pfxOff, pfxLen int32
	uriOff, uriLen int32
}

// openElem is one element on the open stack.
type openElem struct {
	// nameOff and nameLen locate the qualified name for matching the end
	// tag: in buf for elements inside a stanza (whose bytes the caller
	// keeps until the stanza ends; Shift adjusts nameOff), in the arena
	// for elements outside stanzas (the stream header), whose bytes the
	// caller may drop.
	nameOff, nameLen int
	colon            int // in the name, 0 if none
	inBuf            bool
	spOff, spLen     int32 // resolved namespace
	arenaMark        int32 // arena length before this element pushed anything
	bindMark         int32 // len(binds) before this element's declarations
	prevDefOff       int32 // default namespace in force outside this element
	prevDefLen       int32
}

// initNamespaces seeds the arena with the reserved names and the
// pre-bound xml prefix; these sit below every element and never pop.
func (s *Scanner) initNamespaces() {
	s.arena = make([]byte, 0, 512)
	s.arena = append(s.arena, "xml"...)
	s.arena = append(s.arena, nsXML...)
	s.xmlnsSpOff = int32(len(s.arena))
	s.arena = append(s.arena, nsXMLNS...)
	s.binds = make([]binding, 0, 16)
	s.binds = append(s.binds, binding{pfxOff: 0, pfxLen: 3, uriOff: 3, uriLen: int32(len(nsXML))})
	s.arenaBase = len(s.arena)
	s.bindsBase = len(s.binds)
}

// lookup resolves a prefix in the current scope. The empty prefix resolves
// to the default namespace, or to no namespace (an empty range) when none is
// declared.
func (s *Scanner) lookup(prefix []byte) (off, n int32, ok bool) {
	if len(prefix) == 0 {
		return s.defOff, s.defLen, true
	}
	for k := len(s.binds) - 1; k >= 0; k-- {
		bd := &s.binds[k]
		if string(s.arena[bd.pfxOff:bd.pfxOff+bd.pfxLen]) == string(prefix) {
			return bd.uriOff, bd.uriLen, true
		}
	}
	return 0, 0, len(prefix) == 0
}

// finishStart runs once the start tag [s.tok, s.pos) is complete: it records
// the declarations, resolves the element's and attributes' namespaces,
// rejects duplicate attributes, and pushes the element unless it is empty.
func (s *Scanner) finishStart(b []byte, self bool) uint8 {
	depth := len(s.open)
	arenaMark, bindMark := len(s.arena), len(s.binds)
	prevDefOff, prevDefLen := s.defOff, s.defLen

	var attrs []attrRec
	if s.nattr > 0 {
		attrs = s.attrs[:s.nattr]
		for k := range attrs {
			// Only names starting "xmlns" can be declarations.
			if a := &attrs[k]; b[a.n0] == 'x' && a.n1-a.n0 >= 5 {
				if r := s.declare(b, a); r != rNext {
					return r
				}
			}
		}
	}

	// The element's namespace.
	var prefix []byte
	if s.elemColon > 0 {
		prefix = b[s.elem0 : s.elem0+s.elemColon]
		if string(prefix) == "xmlns" {
			return s.fail(BadNamespacePrefix, s.elem0, msgXMLNSPrefix)
		}
	}
	spOff, spLen, ok := s.lookup(prefix)
	if !ok {
		return s.fail(BadNamespacePrefix, s.elem0, msgUnboundPrefix)
	}

	// Attributes' namespaces: unprefixed attributes are in no namespace.
	for k := range attrs {
		a := &attrs[k]
		if a.decl || a.colon == 0 {
			continue
		}
		off, n, ok := s.lookup(b[a.n0 : a.n0+a.colon])
		if !ok {
			return s.fail(BadNamespacePrefix, a.n0, msgUnboundPrefix)
		}
		a.spOff, a.spLen = off, n
	}

	// Duplicates: the same qualified name, or the same expanded name
	// through two prefixes bound to one namespace.
	for j := 1; j < len(attrs); j++ {
		aj := &attrs[j]
		nj := b[aj.n0:aj.n1]
		for k := range attrs[:j] {
			ak := &attrs[k]
			if ak.n1-ak.n0 == len(nj) && b[ak.n0] == nj[0] && string(b[ak.n0:ak.n1]) == string(nj) {
				return s.fail(NotWellFormed, aj.n0, msgDupAttr)
			}
			if aj.colon > 0 && ak.colon > 0 && !aj.decl && !ak.decl &&
				string(b[aj.n0+aj.colon+1:aj.n1]) == string(b[ak.n0+ak.colon+1:ak.n1]) &&
				string(s.arena[aj.spOff:aj.spOff+aj.spLen]) == string(s.arena[ak.spOff:ak.spOff+ak.spLen]) {
				return s.fail(NotWellFormed, aj.n0, msgDupExpanded)
			}
		}
	}

	s.tk = pending{
		kind:  StartTag,
		depth: depth,
		self:  self,
		n0:    s.elem0, colon: s.elemColon, n1: s.elem1,
		spOff: spOff, spLen: spLen,
		end: s.pos,
	}
	if self {
		// Declarations on an empty element end with it. The bytes stay
		// in the arena's spare capacity until the next push, so Space
		// and Attr remain readable until the next call.
		s.arena = s.arena[:arenaMark]
		s.binds = s.binds[:bindMark]
		s.defOff, s.defLen = prevDefOff, prevDefLen
		s.tk.stanza = depth == s.stanzaAt
		s.afterElement(depth)
		return rToken
	}
	e := openElem{
		nameOff: s.elem0, nameLen: s.elem1 - s.elem0, colon: s.elemColon, inBuf: s.inStanza,
		spOff: spOff, spLen: spLen,
		arenaMark: int32(arenaMark), bindMark: int32(bindMark),
		prevDefOff: prevDefOff, prevDefLen: prevDefLen,
	}
	if !e.inBuf {
		e.nameOff = len(s.arena)
		s.arena = append(s.arena, b[s.elem0:s.elem1]...)
	}
	if depth == s.stanzaAt {
		s.saveTop(b, spOff, spLen)
	}
	s.open = append(s.open, e)
	s.state = stContent
	return rToken
}

// declare records a namespace declaration if a is one (xmlns or xmlns:p),
// enforcing the reserved-name rules of Namespaces in XML section 3.
func (s *Scanner) declare(b []byte, a *attrRec) uint8 {
	var prefix []byte
	switch {
	case a.colon == 0 && string(b[a.n0:a.n1]) == "xmlns":
	case a.colon == 5 && string(b[a.n0:a.n0+5]) == "xmlns":
		prefix = b[a.n0+6 : a.n1]
	default:
		return rNext
	}
	a.decl = true
	a.spOff, a.spLen = s.xmlnsSpOff, int32(len(nsXMLNS))

	uriOff := len(s.arena)
	raw := b[a.v0:a.v1]
	if a.amp {
		// The value was validated while scanning, so decoding cannot fail.
		s.arena, _ = Unescape(s.arena, raw)
	} else {
		s.arena = append(s.arena, raw...)
	}
	uri := s.arena[uriOff:]

	switch {
	case string(prefix) == "xmlns":
		return s.fail(BadNamespacePrefix, a.n0, msgXMLNSPrefix)
	case string(prefix) == "xml":
		if string(uri) != nsXML {
			return s.fail(BadNamespacePrefix, a.n0, msgXMLPrefix)
		}
	case string(uri) == nsXML:
		return s.fail(BadNamespacePrefix, a.n0, msgXMLPrefix)
	case string(uri) == nsXMLNS:
		return s.fail(BadNamespacePrefix, a.n0, msgReservedNS)
	case len(prefix) > 0 && len(uri) == 0:
		return s.fail(BadNamespacePrefix, a.n0, msgEmptyPrefixed)
	}
	if len(prefix) == 0 {
		s.defOff, s.defLen = int32(uriOff), int32(len(uri))
	}
	pfxOff := len(s.arena)
	s.arena = append(s.arena, prefix...)
	s.binds = append(s.binds, binding{
		pfxOff: int32(pfxOff), pfxLen: int32(len(prefix)),
		uriOff: int32(uriOff), uriLen: int32(len(uri)),
	})
	return rNext
}

// popElem removes the innermost open element and its bindings.
func (s *Scanner) popElem(top *openElem) {
	s.open = s.open[:len(s.open)-1]
	s.arena = s.arena[:top.arenaMark]
	s.binds = s.binds[:top.bindMark]
	s.defOff, s.defLen = top.prevDefOff, top.prevDefLen
}
