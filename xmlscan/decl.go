package xmlscan

// The XML declaration. XMPP allows it only at the start of a stream (after
// New, Reset or Recycle); anywhere else "<?" opens a processing instruction,
// which restricted XML forbids.

// stepStart decides whether the stream starts with an XML declaration:
// "<?xml" followed by whitespace. It looks at no more than six bytes.
func (s *Scanner) stepStart(b []byte) uint8 {
	const open = "<?xml"
	i := s.pos
	for k := 0; k <= len(open); k++ {
		if i+k == len(b) {
			return rMore
		}
		c := b[i+k]
		if k == len(open) && isSpace(c) {
			s.pos = i + k + 1
			s.state = stDecl
			return rNext
		}
		if k == len(open) || c != open[k] {
			break
		}
	}
	s.state = stMisc
	return rNext
}

// stepDecl finds the declaration's "?>" and then parses it in one pass.
func (s *Scanner) stepDecl(b []byte) uint8 {
	i := s.pos
	for ; i < len(b); i++ {
		if b[i] != '?' {
			continue
		}
		if i+1 == len(b) {
			break // resume at the '?'
		}
		if b[i+1] == '>' {
			if r := s.parseDecl(b[s.tok+len("<?xml") : i]); r != rNext {
				return r
			}
			s.pos = i + 2
			s.tok = s.pos
			s.state = stMisc
			return rNext
		}
	}
	s.pos = i
	return rMore
}

// declParser parses the inside of an XML declaration:
//
//	VersionInfo EncodingDecl? SDDecl? S?
//
// where each part starts with whitespace (XML 1.0 section 2.8).
type declParser struct {
	d []byte
	i int
}

func (p *declParser) space() bool {
	j := p.i
	for p.i < len(p.d) && isSpace(p.d[p.i]) {
		p.i++
	}
	return p.i > j
}

func (p *declParser) literal(w string) bool {
	if len(p.d)-p.i >= len(w) && string(p.d[p.i:p.i+len(w)]) == w {
		p.i += len(w)
		return true
	}
	return false
}

// eqValue parses Eq and a quoted value, returning the value.
func (p *declParser) eqValue() ([]byte, bool) {
	p.space()
	if !p.literal("=") {
		return nil, false
	}
	p.space()
	if p.i == len(p.d) || (p.d[p.i] != '"' && p.d[p.i] != '\'') {
		return nil, false
	}
	q := p.d[p.i]
	p.i++
	j := p.i
	for p.i < len(p.d) && p.d[p.i] != q {
		p.i++
	}
	if p.i == len(p.d) {
		return nil, false
	}
	v := p.d[j:p.i]
	p.i++
	return v, true
}

func (s *Scanner) parseDecl(d []byte) uint8 {
	p := declParser{d: d}
	at := s.tok
	if !p.space() || !p.literal("version") {
		return s.fail(NotWellFormed, at, msgBadDecl)
	}
	v, ok := p.eqValue()
	if !ok {
		return s.fail(NotWellFormed, at, msgBadDecl)
	}
	if string(v) != "1.0" {
		return s.fail(NotWellFormed, at, msgBadVersion)
	}
	sp := p.space()
	if sp && p.literal("encoding") {
		v, ok := p.eqValue()
		if !ok || !isEncName(v) {
			return s.fail(NotWellFormed, at, msgBadDecl)
		}
		if !equalFoldASCII(v, "utf-8") {
			return s.fail(UnsupportedEncoding, at, msgBadEncoding)
		}
		sp = p.space()
	}
	if sp && p.literal("standalone") {
		v, ok := p.eqValue()
		if !ok || (string(v) != "yes" && string(v) != "no") {
			return s.fail(NotWellFormed, at, msgBadDecl)
		}
		p.space()
	}
	if p.i != len(d) {
		return s.fail(NotWellFormed, at, msgBadDecl)
	}
	return rNext
}

// isEncName checks the EncName production: [A-Za-z] ([A-Za-z0-9._] | '-')*.
func isEncName(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for k, c := range v {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if k == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for k, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[k] {
			return false
		}
	}
	return true
}
