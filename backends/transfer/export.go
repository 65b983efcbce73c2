package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/gzip"

	"github.com/hermod-im/hermod/backends"
)

// DefaultPageSize is how many accounts Export asks ListAccounts for at a time.
const DefaultPageSize = 1000

// DefaultPrivateNamespaces are the private XML namespaces (XEP-0049) exported from a
// store that cannot list an account's namespaces: those XMPP clients are known to keep
// there. Each call returns a fresh slice.
func DefaultPrivateNamespaces() []string {
	return []string{
		"storage:bookmarks",    // XEP-0048 bookmarks (conference rooms)
		"roster:delimiter",     // XEP-0083 nested roster groups
		"storage:rosternotes",  // XEP-0145 annotations
		"storage:metacontacts", // XEP-0209 metacontacts
		"storage:imprefs",      // Exodus and Pidgin preferences
		"gajim:prefs",          // Gajim
		"exodus:prefs",         // Exodus
		"miranda:options",      // Miranda
		"psi:options",          // Psi
	}
}

// PrivateNamespaceLister is implemented by stores that can list the namespaces under
// which an account keeps private XML (the embedded and MySQL stores). The interfaces of package
// backends have no such method; Export uses it when the source store has it.
type PrivateNamespaceLister interface {
	// PrivateNamespaces returns the account's namespaces in byte-wise order. A store
	// that only forwards the call (a composite) returns an error wrapping
	// errors.ErrUnsupported when the store behind it cannot list them.
	PrivateNamespaces(ctx context.Context, domain, user string) ([]string, error)
}

// ExportOptions tune Export. The zero value exports with the defaults.
type ExportOptions struct {
	// PageSize is the ListAccounts page; DefaultPageSize if zero.
	PageSize int
	// PrivateNamespaces are probed for each account when the source store is not a
	// PrivateNamespaceLister; nil means DefaultPrivateNamespaces.
	PrivateNamespaces []string
	// Progress, when set, is called after each account with the counts so far, on
	// Export's goroutine.
	Progress func(Summary)
}

// source is what Export reads: every kind of data.
type source interface {
	backends.Store
	backends.Rosters
	backends.Offline
	backends.VCards
	backends.PrivateXML
	backends.Privacy
	backends.LastActivity
}

// asSource checks that st keeps every kind of data.
func asSource(st backends.Store) (source, error) {
	s, ok := st.(source)
	if !ok {
		return nil, fmt.Errorf("transfer: store %T lacks some kinds of data (rosters, offline, vCards, private XML, privacy or last activity)", st)
	}
	return s, nil
}

// Export writes everything st keeps for the accounts of domains to w, in the format
// the package doc describes, and returns the counts. The domains are written in the
// order given. It reads the store with ordinary calls while it may be in use: data
// written during an export may or may not be in it, so stop the server first for an
// exact copy. It may block on I/O; call it from any goroutine but an event loop.
func Export(ctx context.Context, st backends.Store, domains []string, w io.Writer, opts ExportOptions) (Summary, error) {
	src, err := asSource(st)
	if err != nil {
		return Summary{}, err
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.PrivateNamespaces == nil {
		opts.PrivateNamespaces = DefaultPrivateNamespaces()
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	zw, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		return Summary{}, fmt.Errorf("transfer: export: %w", err)
	}
	// Probed namespaces in the order a store lists them, so that the file does not
	// depend on which way they were found.
	probe := slices.Clone(opts.PrivateNamespaces)
	slices.Sort(probe)
	e := &exporter{src: src, enc: json.NewEncoder(zw), opts: opts, probe: slices.Compact(probe)}
	e.enc.SetEscapeHTML(false)
	if err := e.enc.Encode(header{Format: Format, Version: Version, Domains: domains}); err != nil {
		return Summary{}, fmt.Errorf("transfer: export: write header: %w", err)
	}
	for _, d := range domains {
		if err := e.domain(ctx, d); err != nil {
			return e.sum, err
		}
	}
	end := e.sum
	if err := e.enc.Encode(line{T: tEnd, End: &end}); err != nil {
		return e.sum, fmt.Errorf("transfer: export: write trailer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return e.sum, fmt.Errorf("transfer: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return e.sum, fmt.Errorf("transfer: export: %w", err)
	}
	return e.sum, nil
}

type exporter struct {
	src   source
	enc   *json.Encoder
	opts  ExportOptions
	probe []string // the namespaces to ask a store that cannot list them, sorted
	sum   Summary
}

// domain exports every account of d, a page at a time.
func (e *exporter) domain(ctx context.Context, d string) error {
	after := ""
	for {
		users, err := e.src.ListAccounts(ctx, d, after, e.opts.PageSize)
		if err != nil {
			return fmt.Errorf("transfer: export: list accounts of %s after %q: %w", d, after, err)
		}
		for _, u := range users {
			if err := e.account(ctx, d, u); err != nil {
				return fmt.Errorf("transfer: export %s@%s: %w", u, d, err)
			}
			if e.opts.Progress != nil {
				e.opts.Progress(e.sum)
			}
		}
		if len(users) < e.opts.PageSize {
			return nil
		}
		after = users[len(users)-1]
	}
}

// put writes one line of the account.
func (e *exporter) put(l line) error {
	if err := e.enc.Encode(l); err != nil {
		return fmt.Errorf("write %s: %w", l.T, err)
	}
	return nil
}

// account exports one account and everything kept for it. An account deleted since
// it was listed is skipped.
func (e *exporter) account(ctx context.Context, d, u string) error {
	a, err := e.src.Account(ctx, d, u)
	if errors.Is(err, backends.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	if err := e.put(line{T: tAccount, Domain: d, User: u, Account: accountOut(a)}); err != nil {
		return err
	}
	e.sum.Accounts++
	for _, step := range []func(context.Context, string, string) error{
		e.roster, e.offline, e.vcard, e.private, e.privacy, e.last,
	} {
		if err := step(ctx, d, u); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) roster(ctx context.Context, d, u string) error {
	items, ver, err := e.src.Roster(ctx, d, u)
	if err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	pending, err := e.src.PendingIns(ctx, d, u)
	if err != nil {
		return fmt.Errorf("pending subscription requests: %w", err)
	}
	if len(items) == 0 && len(pending) == 0 {
		// A roster emptied by its user: the destination starts it afresh.
		return nil
	}
	r := &rosterRec{Version: ver, Items: make([]itemRec, len(items))}
	for i, it := range items {
		r.Items[i] = itemOut(it)
	}
	for _, p := range pending {
		r.Pending = append(r.Pending, pendingRec{Contact: p.Contact, Stanza: p.Stanza})
	}
	e.sum.Rosters++
	e.sum.RosterItems += len(r.Items)
	e.sum.PendingIn += len(r.Pending)
	return e.put(line{T: tRoster, Domain: d, User: u, Roster: r})
}

func (e *exporter) offline(ctx context.Context, d, u string) error {
	n, err := e.src.CountOffline(ctx, d, u)
	if err != nil {
		return fmt.Errorf("count offline messages: %w", err)
	}
	if n == 0 {
		return nil
	}
	// One more than counted, so that messages arriving meanwhile are not cut at an
	// arbitrary point of the queue's order.
	msgs, err := e.src.OfflineMessages(ctx, d, u, n+1)
	if err != nil {
		return fmt.Errorf("offline messages: %w", err)
	}
	for chunk := range slices.Chunk(msgs, OfflineChunk) {
		recs := make([]offRec, len(chunk))
		for i, m := range chunk {
			recs[i] = offRec{Stamp: m.Stamp.UnixMilli(), Raw: m.Raw}
		}
		if err := e.put(line{T: tOffline, Domain: d, User: u, Offline: recs}); err != nil {
			return err
		}
		e.sum.OfflineMessages += len(recs)
	}
	return nil
}

func (e *exporter) vcard(ctx context.Context, d, u string) error {
	v, err := e.src.VCard(ctx, d, u)
	if errors.Is(err, backends.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("vCard: %w", err)
	}
	e.sum.VCards++
	return e.put(line{T: tVCard, Domain: d, User: u, VCard: v})
}

func (e *exporter) private(ctx context.Context, d, u string) error {
	namespaces := e.probe
	if l, ok := e.src.(PrivateNamespaceLister); ok {
		listed, err := l.PrivateNamespaces(ctx, d, u)
		switch {
		case err == nil:
			namespaces = listed
		case !errors.Is(err, errors.ErrUnsupported):
			return fmt.Errorf("private XML namespaces: %w", err)
		}
	}
	for _, ns := range namespaces {
		x, err := e.src.PrivateXML(ctx, d, u, ns)
		if errors.Is(err, backends.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("private XML %q: %w", ns, err)
		}
		if err := e.put(line{T: tPrivate, Domain: d, User: u, Private: &privRec{Namespace: ns, XML: x}}); err != nil {
			return err
		}
		e.sum.PrivateItems++
	}
	return nil
}

func (e *exporter) privacy(ctx context.Context, d, u string) error {
	s, err := e.src.PrivacySettings(ctx, d, u)
	if err != nil {
		return fmt.Errorf("privacy lists: %w", err)
	}
	if len(s.Lists) == 0 {
		return nil
	}
	e.sum.PrivacyUsers++
	e.sum.PrivacyLists += len(s.Lists)
	return e.put(line{T: tPrivacy, Domain: d, User: u, Privacy: privacyOut(s)})
}

func (e *exporter) last(ctx context.Context, d, u string) error {
	l, err := e.src.LastLogout(ctx, d, u)
	if errors.Is(err, backends.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("last activity: %w", err)
	}
	e.sum.LastLogouts++
	return e.put(line{T: tLast, Domain: d, User: u, Last: &lastRec{At: l.At.Unix(), Status: l.Status}})
}
