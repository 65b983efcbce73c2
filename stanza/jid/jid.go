package jid

// JID is a normalised XMPP address: [ localpart "@" ] domainpart [ "/"
// resourcepart ]. The zero JID is the absent address; every other JID comes
// from [Parse], [ParseBytes], [New] or a method of another JID and is valid.
//
// A JID is immutable and comparable: == and [JID.Equal] agree, and two JIDs
// naming the same address after normalisation are ==, so a JID is a good map
// key. Copying one copies a string header and two offsets.
type JID struct {
	// s is the whole normalised address; every accessor is a substring of it.
	s string
	// dom is the index where the domainpart starts: 0 without a localpart,
	// else one past the '@'.
	dom uint16
	// slash is the index of the '/' before the resourcepart, or 0 when there
	// is none (the domainpart is never empty, so '/' is never at 0).
	slash uint16
}

// domEnd returns the index just past the domainpart.
func (j JID) domEnd() int { return domEnd(len(j.s), int(j.slash)) }

// Localpart returns the localpart, or "" if there is none.
func (j JID) Localpart() string {
	if j.dom == 0 {
		return ""
	}
	return j.s[:j.dom-1]
}

// Domainpart returns the domainpart ("" only for the zero JID).
func (j JID) Domainpart() string { return j.s[j.dom:j.domEnd()] }

// Resourcepart returns the resourcepart, or "" if there is none.
func (j JID) Resourcepart() string {
	if j.slash == 0 {
		return ""
	}
	return j.s[j.slash+1:]
}

// Bare returns j without its resourcepart. It does not allocate; the result
// shares j's string.
func (j JID) Bare() JID {
	if j.slash == 0 {
		return j
	}
	return JID{s: j.s[:j.slash], dom: j.dom}
}

// DomainJID returns the JID made of j's domainpart alone, the address of the
// server or service that hosts j. It does not allocate.
func (j JID) DomainJID() JID { return JID{s: j.s[j.dom:j.domEnd()]} }

// WithResource returns j's bare JID with resource r, normalised; an empty r
// gives the bare JID. It fails on the zero JID and on an invalid resourcepart.
func (j JID) WithResource(r string) (JID, error) {
	if j.s == "" {
		return JID{}, partError(PartDomain, ErrEmpty)
	}
	b := j.Bare()
	if r == "" {
		return b, nil
	}
	r, err := normResource(r, false)
	if err != nil {
		return JID{}, err
	}
	return JID{s: b.s + "/" + r, dom: b.dom, slash: uint16(len(b.s))}, nil
}

// IsZero reports whether j is the zero JID, the absent address.
func (j JID) IsZero() bool { return j.s == "" }

// IsBare reports whether j has no resourcepart. The zero JID is bare.
func (j JID) IsBare() bool { return j.slash == 0 }

// IsDomain reports whether j is a domainpart alone, without localpart and
// resourcepart: the address of a server or a component. The zero JID is not.
func (j JID) IsDomain() bool { return j.dom == 0 && j.slash == 0 && j.s != "" }

// String returns the normalised address; "" for the zero JID.
func (j JID) String() string { return j.s }

// Equal reports whether j and o are the same address. It is j == o, spelled
// out for readers who wonder whether == is safe on JIDs (it is).
func (j JID) Equal(o JID) bool { return j == o }

// AppendTo appends the normalised address to dst, for writing into an output
// buffer without a string conversion.
func (j JID) AppendTo(dst []byte) []byte { return append(dst, j.s...) }

// EqualBytes reports whether b is a valid address equal to j after
// normalisation. It does not allocate when b is in the fast path's form,
// lower-casing aside (the router's usual case: a "to" attribute straight from
// the read buffer); otherwise it parses b. The zero JID equals nothing. b is
// not retained.
func (j JID) EqualBytes(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if string(b) == j.s {
		return true
	}
	if _, slash, upper, ok := scan(b); ok {
		// b's normal form is b itself (then it differs from j's) or b
		// lower-cased before its resourcepart.
		return upper && len(b) == len(j.s) && equalLowered(b, j.s, domEnd(len(b), slash))
	}
	o, err := ParseBytes(b)
	return err == nil && o == j
}

// equalLowered reports whether lowerASCII(b, end) == s, for len(b) == len(s),
// without building the lower-cased copy.
func equalLowered(b []byte, s string, end int) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i < end && asciiClass[c]&classUpper != 0 {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// MarshalText implements encoding.TextMarshaler: the normalised address.
func (j JID) MarshalText() ([]byte, error) { return []byte(j.s), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseBytes], for
// configuration files. Empty text gives the zero JID, as with netip.Addr.
// Like any method with a pointer receiver, it must not race with readers of
// *j.
func (j *JID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*j = JID{}
		return nil
	}
	p, err := ParseBytes(b)
	if err != nil {
		return err
	}
	*j = p
	return nil
}
