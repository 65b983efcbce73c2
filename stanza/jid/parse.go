package jid

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// MaxPartLen is the longest a localpart, domainpart or resourcepart may be, in
// bytes of its normalised UTF-8 form (RFC 7622 sections 3.2-3.4).
const MaxPartLen = 1023

// maxRawPartLen bounds a part before normalisation, so that a hostile
// megabyte-long attribute is refused before PRECIS or IDNA copy it around.
// Normalisation can shrink a part (width mapping, NFC, IDNA dropping ignored
// code points), so the bound is generous: 4 bytes of input per byte of output
// covers fullwidth forms (3:1) and decomposed Hangul (3:1).
const maxRawPartLen = 4 * MaxPartLen

// domainProfile is IDNA2008 with the UTS #46 lookup mapping (case, width, NFC,
// as RFC 7622 section 3.2.2 asks, via RFC 5895), strict LDH for ASCII, the
// hyphen and joiner rules and the Bidi rule; non-transitional, so "ß" stays.
// DNS lengths are not checked: RFC 7622 allows 1023 bytes and the domainpart
// need not be resolvable. Empty labels are checked by normDomain because this
// profile lets them through. It is never modified after creation.
var domainProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.StrictDomainName(true),
	idna.ValidateLabels(true),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
)

// domainCodePoints refuses, in a mapped domainpart, the code points that UTS
// #46 lets through but IDNA2008 disallows (symbols and punctuation such as
// U+265A, which UTS #46 calls "valid NV8"): RFC 7622 section 3.2.1 wants
// U-labels, which IDNA2008 restricts to PVALID and contextual code points.
// The PRECIS IdentifierClass is built from the same RFC 5892 categories,
// exceptions and context rules, and is a little wider for non-ASCII code
// points (it keeps the blocks IDNA2008 ignores, such as musical notation, and
// judges stability by NFKC rather than NFKC_Casefold), so it never refuses an
// IDNA2008 U-label. It is never modified after creation.
var domainCodePoints = precis.NewIdentifier()

// localProfile is PRECIS UsernameCaseMapped (RFC 8265 section 3.3) but for
// its Bidi rule. x/text's precis.UsernameCaseMapped applies the Bidi rule to
// every non-ASCII string (golang/go#17383), refusing "1müller" while it
// accepts "1muller"; RFC 8265 section 3.3.2 applies the rule only to strings
// that contain right-to-left code points, so normLocal does that itself. It
// is never modified after creation.
var localProfile = precis.NewIdentifier(precis.FoldWidth, precis.LowerCase(), precis.Norm(norm.NFC))

// Parse parses and normalises an address. An address already in normal ASCII
// form is returned without allocation, its string being s itself; an ASCII
// address that only needs lower-casing costs one allocation; otherwise each
// part is normalised as RFC 7622 says. Errors are [*Error].
//
// In the zero-copy case the JID shares s's memory: when s is a slice of a
// much larger string that should not stay alive (a whole stanza), clone it
// with strings.Clone before keeping the JID for long, or use [ParseBytes].
//
// Safe from any goroutine.
func Parse(s string) (JID, error) {
	if dom, slash, upper, ok := scan(s); ok {
		if upper {
			s = lowerASCII(s, domEnd(len(s), slash))
		}
		return JID{s: s, dom: uint16(dom), slash: uint16(slash)}, nil
	}
	return parseSlow(s, false)
}

// ParseBytes is [Parse] for an address held in a byte slice, such as an
// attribute value in a read buffer. In the fast path it allocates once, for
// the string; b is not retained and may be reused when it returns.
//
// Safe from any goroutine.
func ParseBytes(b []byte) (JID, error) {
	if dom, slash, upper, ok := scan(b); ok {
		var s string
		if upper {
			s = lowerASCII(b, domEnd(len(b), slash))
		} else {
			s = string(b)
		}
		return JID{s: s, dom: uint16(dom), slash: uint16(slash)}, nil
	}
	return parseSlow(string(b), false)
}

// domEnd returns the index just past the domainpart of an address of length
// n whose '/' is at slash (0 when absent).
func domEnd(n, slash int) int {
	if slash == 0 {
		return n
	}
	return slash
}

// MustParse is [Parse] that panics on error, for tests and constants.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(fmt.Sprintf("jid.MustParse(%q): %v", s, err))
	}
	return j
}

// New builds a JID from its parts, normalising each. An empty local or
// resource means the address has none; the domain is required.
//
// Safe from any goroutine.
func New(local, domain, resource string) (JID, error) {
	var err error
	if local != "" {
		if local, err = normLocal(local, false); err != nil {
			return JID{}, err
		}
	}
	if domain, err = normDomain(domain, false); err != nil {
		return JID{}, err
	}
	if resource != "" {
		if resource, err = normResource(resource, false); err != nil {
			return JID{}, err
		}
	}
	return join(local, domain, resource), nil
}

// parseSlow splits s and normalises each part, skipping the parts that are
// already normal unless forceSlow (tests use forceSlow to compare the fast
// path against PRECIS and IDNA). When nothing changed it reuses s.
func parseSlow(s string, forceSlow bool) (JID, error) {
	if s == "" {
		return JID{}, partError(PartAddress, ErrEmpty)
	}
	at, slash := split(s)
	end := len(s)
	if slash >= 0 {
		end = slash
	}
	var local, resource string
	var err error
	dom := 0
	if at >= 0 {
		if local, err = normLocal(s[:at], forceSlow); err != nil {
			return JID{}, err
		}
		dom = at + 1
	}
	domain, err := normDomain(s[dom:end], forceSlow)
	if err != nil {
		return JID{}, err
	}
	if slash >= 0 {
		if resource, err = normResource(s[slash+1:], forceSlow); err != nil {
			return JID{}, err
		}
	}
	if local == s[:max(at, 0)] && domain == s[dom:end] && (slash < 0 || resource == s[slash+1:]) {
		return JID{s: s, dom: uint16(dom), slash: uint16(max(slash, 0))}, nil
	}
	return join(local, domain, resource), nil
}

// join assembles normalised parts with one allocation. An empty local or
// resource is absent.
func join(local, domain, resource string) JID {
	var j JID
	var b strings.Builder
	b.Grow(len(local) + 1 + len(domain) + 1 + len(resource))
	if local != "" {
		b.WriteString(local)
		b.WriteByte('@')
		j.dom = uint16(b.Len())
	}
	b.WriteString(domain)
	if resource != "" {
		j.slash = uint16(b.Len())
		b.WriteByte('/')
		b.WriteString(resource)
	}
	j.s = b.String()
	return j
}

// normLocal enforces PRECIS UsernameCaseMapped (RFC 8265 section 3.3, with
// the Bidi rule only for right-to-left strings) and the extra exclusions of
// RFC 7622 section 3.3.1 on a localpart.
func normLocal(l string, forceSlow bool) (string, error) {
	if up, ok := localNormal(l); ok && !forceSlow {
		if up {
			return strings.ToLower(l), nil
		}
		return l, nil
	}
	if l == "" {
		return "", partError(PartLocal, ErrEmpty)
	}
	if len(l) > maxRawPartLen {
		return "", partError(PartLocal, ErrTooLong)
	}
	if !utf8.ValidString(l) {
		return "", partError(PartLocal, fmt.Errorf("%w: invalid UTF-8", ErrDisallowed))
	}
	out, err := localProfile.String(l)
	if err != nil {
		return "", partError(PartLocal, fmt.Errorf("%w: %w", ErrDisallowed, err))
	}
	if bidirule.DirectionString(out) == bidi.RightToLeft && !bidirule.ValidString(out) {
		return "", partError(PartLocal, fmt.Errorf("%w: %w", ErrDisallowed, bidirule.ErrInvalid))
	}
	// Checked on the output: width mapping turns U+FF20 into '@'.
	if strings.ContainsAny(out, `"&'/:<>@`) {
		return "", partError(PartLocal, ErrForbidden)
	}
	if err := checkLen(PartLocal, out); err != nil {
		return "", err
	}
	return out, nil
}

// normResource enforces PRECIS OpaqueString (RFC 8265 section 4.2) on a
// resourcepart (RFC 7622 section 3.4).
func normResource(r string, forceSlow bool) (string, error) {
	if !forceSlow && resourceNormal(r) {
		return r, nil
	}
	if r == "" {
		return "", partError(PartResource, ErrEmpty)
	}
	if len(r) > maxRawPartLen {
		return "", partError(PartResource, ErrTooLong)
	}
	if !utf8.ValidString(r) {
		return "", partError(PartResource, fmt.Errorf("%w: invalid UTF-8", ErrDisallowed))
	}
	out, err := precis.OpaqueString.String(r)
	if err != nil {
		return "", partError(PartResource, fmt.Errorf("%w: %w", ErrDisallowed, err))
	}
	if err := checkLen(PartResource, out); err != nil {
		return "", err
	}
	return out, nil
}

// normDomain applies RFC 7622 section 3.2 to a domainpart: strip one
// trailing dot, then either canonicalise a bracketed IPv6 literal or map the
// name through IDNA2008 to lower-case U-labels.
func normDomain(d string, forceSlow bool) (string, error) {
	if up, ok := domainNormal(d); ok && !forceSlow {
		if up {
			return strings.ToLower(d), nil
		}
		return d, nil
	}
	if len(d) > maxRawPartLen {
		return "", partError(PartDomain, ErrTooLong)
	}
	// "MUST be stripped before any other canonicalization steps are taken."
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", partError(PartDomain, ErrEmpty)
	}
	if d[0] == '[' {
		return normIPv6(d)
	}
	if !utf8.ValidString(d) {
		return "", partError(PartDomain, fmt.Errorf("%w: invalid UTF-8", ErrDisallowed))
	}
	out, err := domainProfile.ToUnicode(d)
	if err != nil {
		return "", partError(PartDomain, fmt.Errorf("%w: %w", ErrDisallowed, err))
	}
	if !isASCII(out) {
		if _, err := domainCodePoints.String(out); err != nil {
			return "", partError(PartDomain, fmt.Errorf("%w: IDNA2008: %w", ErrDisallowed, err))
		}
	}
	// The profile skips empty labels (it does not verify DNS lengths), and a
	// dot can appear at the end again when U+3002 and friends map to '.'.
	if out == "" || out[0] == '.' || out[len(out)-1] == '.' || strings.Contains(out, "..") {
		return "", partError(PartDomain, ErrEmptyLabel)
	}
	if err := checkLen(PartDomain, out); err != nil {
		return "", err
	}
	return out, nil
}

// normIPv6 canonicalises "[IPv6address]" (RFC 3986 IP-literal, which RFC 7622
// section 3.2 allows) to the RFC 5952 text form, so that two spellings of one
// address are one JID. IPv4 inside brackets, IPvFuture and zones are refused.
func normIPv6(d string) (string, error) {
	if len(d) < 3 || d[len(d)-1] != ']' {
		return "", partError(PartDomain, ErrIPLiteral)
	}
	a, err := netip.ParseAddr(d[1 : len(d)-1])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", partError(PartDomain, ErrIPLiteral)
	}
	var buf [64]byte
	b := append(buf[:0], '[')
	b = a.AppendTo(b)
	b = append(b, ']')
	if string(b) == d {
		return d, nil
	}
	return string(b), nil
}

func checkLen(p Part, out string) error {
	switch {
	case out == "":
		return partError(p, ErrEmpty)
	case len(out) > MaxPartLen:
		return partError(p, ErrTooLong)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
