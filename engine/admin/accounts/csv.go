package accounts

import (
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/engine/sasl"
)

// The import format is CSV (RFC 4180: fields with commas, quotes or line breaks are
// quoted, "" inside quotes is a quote), one account per record. Two forms:
//
//	alice@example.com,secret            no header, or the header "jid,password":
//	bob@example.com,"pa,ss"             keys are derived from each password
//
//	jid,scram-sha-1,scram-sha-256,scram-sha-512
//	carol@example.com,SCRAM-SHA-1$4096:<salt>$<StoredKey>:<ServerKey>,...
//
// The second form carries keys computed elsewhere (another server's export), in the
// RFC 5803 notation "SCRAM-<hash>$<iterations>:<base64 salt>$<base64 StoredKey>:
// <base64 ServerKey>" that PostgreSQL and LDAP use too. Any subset of the three
// columns may be present, in any order; an empty field leaves that hash out for the
// account. Importing this form costs no PBKDF2 at all.

// column kinds of an import header.
const (
	colPassword = iota
	colSHA1
	colSHA256
	colSHA512
)

var headerNames = map[string]int{
	"password":      colPassword,
	"scram-sha-1":   colSHA1,
	"scram-sha-256": colSHA256,
	"scram-sha-512": colSHA512,
}

// row is one validated import record.
type row struct {
	line     int
	domain   string
	user     string
	password string               // password form
	creds    backends.Credentials // precomputed form
}

// parseCSV reads and validates a whole import document. It returns the rows, or an
// *admin.ImportError listing what is wrong (and then no row is to be written).
func (m *Manager) parseCSV(in io.Reader) ([]row, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1 // counted here, for a clearer message
	cr.ReuseRecord = true
	var bad admin.RowErrors
	cols := []int{colPassword}
	var rows []row
	seen := map[string]int{}
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad.Add(pe.Line, "%v", pe.Err)
			} else {
				return nil, fmt.Errorf("accounts: read import: %w", err)
			}
			// The reader cannot be trusted to resynchronise after a quoting error.
			return nil, bad.Err()
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if strings.EqualFold(strings.TrimSpace(rec[0]), "jid") {
				c, err := parseHeader(rec)
				if err != nil {
					bad.Add(line, "%v", err)
					return nil, bad.Err()
				}
				cols = c
				continue
			}
		}
		if len(rec) != len(cols)+1 {
			bad.Add(line, "%d fields, want %d (jid and %s)", len(rec), len(cols)+1, describe(cols))
			continue
		}
		r, err := m.parseRow(line, rec, cols)
		if err != nil {
			bad.Add(line, "%v", err)
			continue
		}
		key := r.user + "@" + r.domain
		if prev, dup := seen[key]; dup {
			bad.Add(line, "%s is already on line %d", key, prev)
			continue
		}
		seen[key] = line
		rows = append(rows, r)
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		bad.Add(1, "no accounts in the document")
		return nil, bad.Err()
	}
	return rows, nil
}

func parseHeader(rec []string) ([]int, error) {
	var cols []int
	used := map[int]bool{}
	for _, f := range rec[1:] {
		c, ok := headerNames[strings.ToLower(strings.TrimSpace(f))]
		if !ok {
			return nil, fmt.Errorf("unknown column %q: use password, or any of scram-sha-1, scram-sha-256, scram-sha-512", f)
		}
		if used[c] {
			return nil, fmt.Errorf("column %q appears twice", f)
		}
		used[c] = true
		cols = append(cols, c)
	}
	switch {
	case len(cols) == 0:
		return nil, errors.New("the header names no column after jid")
	case used[colPassword] && len(cols) > 1:
		return nil, errors.New("a document has either a password column or scram-sha-* columns, not both")
	}
	return cols, nil
}

func colHash(c int) sasl.Hash {
	switch c {
	case colSHA1:
		return sasl.SHA1
	case colSHA256:
		return sasl.SHA256
	}
	return sasl.SHA512
}

func describe(cols []int) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		for n, v := range headerNames {
			if v == c {
				names[i] = n
			}
		}
	}
	return strings.Join(names, ", ")
}

func (m *Manager) parseRow(line int, rec []string, cols []int) (row, error) {
	j, err := m.ParseAccountJID(strings.TrimSpace(rec[0]))
	if err != nil {
		return row{}, err
	}
	r := row{line: line, domain: j.Domainpart(), user: j.Localpart()}
	for i, c := range cols {
		f := rec[i+1]
		switch c {
		case colPassword:
			if err := checkPassword(f); err != nil {
				return row{}, err
			}
			r.password = strings.Clone(f) // ReuseRecord: the record's strings are reused
		default:
			if f == "" {
				continue
			}
			k, err := ParseRFC5803(f, colHash(c))
			if err != nil {
				return row{}, err
			}
			switch c {
			case colSHA1:
				r.creds.SHA1 = k
			case colSHA256:
				r.creds.SHA256 = k
			case colSHA512:
				r.creds.SHA512 = k
			}
		}
	}
	if cols[0] != colPassword && r.creds.SHA1 == nil && r.creds.SHA256 == nil && r.creds.SHA512 == nil {
		return row{}, fmt.Errorf("%s: no keys (every scram-sha-* field is empty)", j)
	}
	return r, nil
}

// ParseRFC5803 parses SCRAM keys written as in RFC 5803 section 3:
// "SCRAM-SHA-256$4096:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>"; the hash
// named must be h and the key lengths must match it.
func ParseRFC5803(s string, h sasl.Hash) (*backends.ScramKeys, error) {
	scheme, rest, ok := strings.Cut(s, "$")
	if !ok {
		return nil, errors.New("keys must look like SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>")
	}
	if want := "SCRAM-" + h.String(); !strings.EqualFold(scheme, want) {
		return nil, fmt.Errorf("keys for %q in the %s column", scheme, strings.ToLower(want))
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errors.New("missing '$' before the keys")
	}
	iterStr, saltStr, ok1 := strings.Cut(params, ":")
	storedStr, serverStr, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return nil, errors.New("missing ':' in <iterations>:<salt> or <StoredKey>:<ServerKey>")
	}
	iters, err := strconv.Atoi(iterStr)
	if err != nil || iters < 1 || iters > backends.MaxIterations {
		return nil, fmt.Errorf("bad iteration count %q", iterStr)
	}
	dec := func(what, v string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%s is not base64: %v", what, err)
		}
		return b, nil
	}
	k := &backends.ScramKeys{Iterations: iters}
	if k.Salt, err = dec("salt", saltStr); err != nil {
		return nil, err
	}
	if k.StoredKey, err = dec("StoredKey", storedStr); err != nil {
		return nil, err
	}
	if k.ServerKey, err = dec("ServerKey", serverStr); err != nil {
		return nil, err
	}
	var c backends.Credentials
	switch h {
	case sasl.SHA1:
		c.SHA1 = k
	case sasl.SHA256:
		c.SHA256 = k
	default:
		c.SHA512 = k
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s keys: %v", h, err)
	}
	return k, nil
}

// FormatRFC5803 writes keys in the notation ParseRFC5803 reads, for exports.
func FormatRFC5803(h sasl.Hash, k *backends.ScramKeys) string {
	enc := base64.StdEncoding.EncodeToString
	return "SCRAM-" + h.String() + "$" + strconv.Itoa(k.Iterations) + ":" + enc(k.Salt) + "$" + enc(k.StoredKey) + ":" + enc(k.ServerKey)
}
