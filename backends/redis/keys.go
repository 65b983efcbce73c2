package redis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// keyspace builds the registry's key names under one prefix.
type keyspace struct {
	prefix string
	hb     string // prefix of heartbeat keys
	idx    string // prefix of node index keys
	nodes  string // the set of known nodes
}

func newKeyspace(prefix string) keyspace {
	return keyspace{prefix: prefix, hb: prefix + "s:n:", idx: prefix + "s:i:", nodes: prefix + "s:nodes"}
}

// user returns the key of the hash holding the entries of domain's user.
func (k keyspace) user(domain, user string) string {
	var b strings.Builder
	b.Grow(len(k.prefix) + 8 + len(domain) + len(user))
	b.WriteString(k.prefix)
	b.WriteString("s:u:")
	b.WriteString(strconv.Itoa(len(domain)))
	b.WriteByte(':')
	b.WriteString(domain)
	b.WriteString(user)
	return b.String()
}

// member is the name of an entry in a node's index.
func member(domain, user, resource string) string {
	b := make([]byte, 0, 12+len(domain)+len(user)+len(resource))
	b = strconv.AppendInt(b, int64(len(domain)), 10)
	b = append(b, ':')
	b = append(b, domain...)
	b = strconv.AppendInt(b, int64(len(user)), 10)
	b = append(b, ':')
	b = append(b, user...)
	b = append(b, resource...)
	return string(b)
}

var errBadMember = errors.New("malformed index member")

// parseMember splits an index member into its parts.
func parseMember(m string) (domain, user, resource string, err error) {
	domain, rest, err := lengthPrefixed(m)
	if err != nil {
		return "", "", "", err
	}
	user, resource, err = lengthPrefixed(rest)
	return domain, user, resource, err
}

// lengthPrefixed reads "LEN:" and LEN bytes from s.
func lengthPrefixed(s string) (part, rest string, err error) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i > 5 {
		return "", "", fmt.Errorf("%w: %q", errBadMember, s)
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n < 0 || n > len(s)-i-1 || s[0] == '+' || s[0] == '-' {
		return "", "", fmt.Errorf("%w: %q", errBadMember, s)
	}
	return s[i+1 : i+1+n], s[i+1+n:], nil
}

// encodeEntry is the hash value of a registered session.
func encodeEntry(s *backends.Session) string {
	b := make([]byte, 0, len(s.Node)+24)
	b = append(b, s.Node...)
	b = append(b, '|')
	if s.Available {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(s.Priority), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, s.Since.UnixMilli(), 10)
	return string(b)
}

var errBadEntry = errors.New("malformed session entry")

// decodeEntry fills the node, availability, priority and binding time of s from v.
func decodeEntry(v string, s *backends.Session) error {
	node, rest, ok := strings.Cut(v, "|")
	avail, rest, ok2 := strings.Cut(rest, "|")
	prio, since, ok3 := strings.Cut(rest, "|")
	if !ok || !ok2 || !ok3 || node == "" || (avail != "0" && avail != "1") {
		return fmt.Errorf("%w: %q", errBadEntry, v)
	}
	p, err := strconv.Atoi(prio)
	if err != nil || p < -128 || p > 127 {
		return fmt.Errorf("%w: %q", errBadEntry, v)
	}
	ms, err := strconv.ParseInt(since, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", errBadEntry, v)
	}
	s.Node, s.Available, s.Priority, s.Since = node, avail == "1", p, time.UnixMilli(ms)
	return nil
}

// entryNode returns the node named by an encoded entry.
func entryNode(v string) string {
	node, _, _ := strings.Cut(v, "|")
	return node
}
