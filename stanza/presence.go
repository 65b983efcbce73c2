package stanza

// PresencePriority reads the <priority/> of a presence stanza (RFC 6121 4.7.2.3): an
// integer from -128 to 127, 0 when it is absent or not such an integer. raw is a
// presence in the jabber:client namespace (its own xmlns or the stream's). It builds an
// element tree (pooled: no allocation at steady state). Any goroutine may call it.
func PresencePriority(raw []byte) int8 {
	el, err := ParseIn(raw, NSClient)
	if err != nil {
		return 0
	}
	defer el.Release()
	t, ok := el.ChildText(NSClient, "priority")
	if !ok {
		return 0
	}
	n, neg, digits := 0, false, 0
	for i, ch := range t {
		switch {
		case i == 0 && (ch == '-' || ch == '+'):
			neg = ch == '-'
		case ch >= '0' && ch <= '9' && digits < 4:
			n = n*10 + int(ch-'0')
			digits++
		default:
			return 0
		}
	}
	if neg {
		n = -n
	}
	if digits == 0 || n < -128 || n > 127 {
		return 0
	}
	return int8(n)
}
