// Package rosters imports rosters for administrators: `hermod roster import`, which
// provisions contact lists in bulk straight into the configured roster store (the
// server stopped), where doing it over XMPP costs a subscription handshake per item.
//
// # The format
//
// CSV (RFC 4180), one roster item per record:
//
//	owner_jid,contact_jid,subscription[,name[,group1;group2]]
//	alice@example.com,bob@example.com,both
//	alice@example.com,carol@example.net,to,Carol,Friends;Work
//
// A first record whose first field is "owner_jid" (or "owner") is a header and is
// skipped. JIDs are normalised (RFC 7622): the owner is a bare user@domain of a served
// domain, the contact any bare JID but the owner. The subscription is none, to, from
// or both (the item has no pending state: ask and approved are false). The name may
// be empty; groups are separated by ';', and an empty field means none.
//
// # What Import writes
//
// Import reads the document twice. The first pass checks every record: a document
// with an invalid record writes nothing and returns *admin.ImportError naming the
// bad lines. The second pass writes the items in batches of Options.BatchSize: one
// PutRosterItems call per batch on a store that implements backends.RosterBulkWriter
// (the embedded store writes each batch in one transaction), PutRosterItem per item
// otherwise (MySQL), on Options.Workers goroutines with each roster's items in
// document order on one of them. An item replaces the roster's item for the same
// contact; the roster's other items stay. When the document names an item twice, the
// later line wins. Every roster written gets a new version, as with any roster write,
// so clients refetch it. Owners need not have accounts (stores do not check): import
// the accounts with `hermod user import`.
//
// A store failure or a cancelled context stops the second pass between batches (or
// within one, on a store without bulk writes): the batches written stay written, and
// the error says how far the import got. Writes replace, so running the same document
// again completes it.
//
// Import blocks on I/O and must not be called on an event loop.
package rosters

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/admin"
	"github.com/hermod-im/hermod/stanza/jid"
)

// Defaults of Options.
const (
	// DefaultBatchSize items per write: large enough that the embedded store's commit
	// (two fsyncs) is noise, small enough that a batch's records stay a few hundred KB.
	DefaultBatchSize = 5000
	// DefaultWorkers concurrent PutRosterItem calls on a store without bulk writes:
	// stores group concurrent writes (the MySQL pipeline), so a few go much faster
	// than one.
	DefaultWorkers = 16
)

// Options configure Import.
type Options struct {
	// Store receives the items. Required.
	Store backends.Rosters
	// Hosts are the domains owners may belong to; nil accepts any.
	Hosts []string
	// BatchSize is how many items are written at once; DefaultBatchSize if zero.
	BatchSize int
	// Workers is how many items are written at once on a store without bulk writes;
	// DefaultWorkers if zero.
	Workers int
	// Progress, when set, is called on Import's goroutine after each batch with the
	// items written so far and the document's total.
	Progress func(done, total int)
}

// Result reports an import.
type Result struct {
	// Items is the number of records written, Rosters the number of distinct owners.
	Items, Rosters int
	// Bulk reports whether the store took batches (backends.RosterBulkWriter).
	Bulk bool
}

// Import writes the roster items of the CSV document in into o.Store, as the package
// doc says. A document that is not seekable (standard input) is first copied to a
// temporary file, which is removed before Import returns.
func Import(ctx context.Context, in io.Reader, o Options) (Result, error) {
	if o.Store == nil {
		return Result{}, errors.New("rosters: import: no store")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	doc, cleanup, err := seekable(in)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	start, err := doc.Seek(0, io.SeekCurrent)
	if err != nil {
		return Result{}, fmt.Errorf("rosters: import: %w", err)
	}
	p := parser{hosts: hostSet(o.Hosts)}

	// First pass: check everything, count items and owners.
	type owner struct{ domain, user string }
	owners := map[owner]struct{}{}
	var bad admin.RowErrors
	total := 0
	err = p.each(doc, func(line int, e backends.RosterEntry, err error) error {
		if err != nil {
			bad.Add(line, "%v", err)
			return nil
		}
		total++
		if _, ok := owners[owner{e.Domain, e.User}]; !ok {
			owners[owner{strings.Clone(e.Domain), strings.Clone(e.User)}] = struct{}{} // not the whole record
		}
		return nil
	})
	if err == nil {
		err = bad.Err()
	}
	if err == nil && total == 0 {
		bad.Add(1, "no roster items in the document")
		err = bad.Err()
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Rosters: len(owners)}
	clear(owners)

	// Second pass: write in batches.
	if _, err := doc.Seek(start, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("rosters: import: rewind: %w", err)
	}
	w := newWriter(o)
	res.Bulk = w.bulk != nil
	batch := make([]backends.RosterEntry, 0, o.BatchSize)
	firstLine, lastLine := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rosters: import stopped after %d of %d items: %w", res.Items, total, err)
		}
		if err := w.write(ctx, batch); err != nil {
			return fmt.Errorf("rosters: import stopped after %d of %d items: write lines %d-%d: %w", res.Items, total, firstLine, lastLine, err)
		}
		res.Items += len(batch)
		clear(batch)
		batch = batch[:0]
		if o.Progress != nil {
			o.Progress(res.Items, total)
		}
		return nil
	}
	err = p.each(doc, func(line int, e backends.RosterEntry, err error) error {
		if err != nil { // the file changed between the passes
			return fmt.Errorf("rosters: import stopped after %d of %d items: line %d: %w", res.Items, total, line, err)
		}
		if len(batch) == 0 {
			firstLine = line
		}
		lastLine = line
		batch = append(batch, e)
		if len(batch) == o.BatchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return res, err
}

// seekable returns in if it can seek, or else a temporary copy of it.
func seekable(in io.Reader) (io.ReadSeeker, func(), error) {
	if rs, ok := in.(io.ReadSeeker); ok {
		if _, err := rs.Seek(0, io.SeekCurrent); err == nil { // a pipe is an *os.File too
			return rs, func() {}, nil
		}
	}
	f, err := os.CreateTemp("", "hermod-roster-import-*.csv")
	if err != nil {
		return nil, nil, fmt.Errorf("rosters: import: spool the document: %w", err)
	}
	cleanup := func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	if _, err := io.Copy(f, in); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("rosters: import: read the document: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("rosters: import: spool the document: %w", err)
	}
	return f, cleanup, nil
}

func hostSet(hosts []string) map[string]bool {
	if hosts == nil {
		return nil
	}
	m := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		m[h] = true
	}
	return m
}

// writer writes batches to a store, in bulk when it can.
type writer struct {
	store   backends.Rosters
	bulk    backends.RosterBulkWriter
	workers int
	seed    maphash.Seed
	parts   [][]backends.RosterEntry
}

func newWriter(o Options) *writer {
	w := &writer{store: o.Store, workers: o.Workers, seed: maphash.MakeSeed()}
	w.bulk, _ = o.Store.(backends.RosterBulkWriter)
	return w
}

// write stores one batch.
func (w *writer) write(ctx context.Context, batch []backends.RosterEntry) error {
	if w.bulk != nil {
		return w.bulk.PutRosterItems(ctx, batch)
	}
	// One part per worker, every roster in one part, its items in document order.
	if w.parts == nil {
		w.parts = make([][]backends.RosterEntry, w.workers)
	}
	for i := range w.parts {
		w.parts[i] = w.parts[i][:0]
	}
	for _, e := range batch {
		var h maphash.Hash
		h.SetSeed(w.seed)
		h.WriteString(e.Domain)
		h.WriteByte('@')
		h.WriteString(e.User)
		i := h.Sum64() % uint64(w.workers)
		w.parts[i] = append(w.parts[i], e)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, part := range w.parts {
		if len(part) == 0 {
			continue
		}
		wg.Go(func() {
			for _, e := range part {
				if _, err := w.store.PutRosterItem(ctx, e.Domain, e.User, e.Item); err != nil {
					cancel(fmt.Errorf("%s of %s@%s: %w", e.Item.Contact, e.User, e.Domain, err))
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// parser reads records of the import format.
type parser struct {
	hosts map[string]bool // nil: any domain
}

// each calls fn for every record of the document with its line and either its entry
// or what is wrong with it. It stops at fn's first error, or at a CSV syntax error
// (after reporting it to fn: the reader cannot be trusted to resynchronise).
func (p *parser) each(in io.Reader, fn func(line int, e backends.RosterEntry, err error) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(in, 64<<10))
	cr.FieldsPerRecord = -1 // checked here, for a clearer message
	cr.ReuseRecord = true
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fn(pe.Line, backends.RosterEntry{}, pe.Err)
			}
			return fmt.Errorf("rosters: read the document: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if h := strings.ToLower(strings.TrimSpace(rec[0])); h == "owner_jid" || h == "owner" {
				continue
			}
		}
		e, err := p.record(rec)
		if err := fn(line, e, err); err != nil {
			return err
		}
	}
}

// record parses one record.
func (p *parser) record(rec []string) (backends.RosterEntry, error) {
	if len(rec) < 3 || len(rec) > 5 {
		return backends.RosterEntry{}, fmt.Errorf("%d fields, want 3 to 5: owner_jid,contact_jid,subscription[,name[,groups]]", len(rec))
	}
	owner, err := jid.Parse(strings.TrimSpace(rec[0]))
	switch {
	case err != nil:
		return backends.RosterEntry{}, fmt.Errorf("owner %q is not a valid JID: %v", rec[0], err)
	case owner.Localpart() == "":
		return backends.RosterEntry{}, fmt.Errorf("owner %q has no user part (user@domain)", rec[0])
	case owner.Resourcepart() != "":
		return backends.RosterEntry{}, fmt.Errorf("owner %q has a resource; a roster's owner is a bare JID", rec[0])
	case p.hosts != nil && !p.hosts[owner.Domainpart()]:
		return backends.RosterEntry{}, fmt.Errorf("owner %s: domain %q is not served by this server", owner, owner.Domainpart())
	}
	contact, err := jid.Parse(strings.TrimSpace(rec[1]))
	switch {
	case err != nil:
		return backends.RosterEntry{}, fmt.Errorf("contact %q is not a valid JID: %v", rec[1], err)
	case contact.Resourcepart() != "":
		return backends.RosterEntry{}, fmt.Errorf("contact %q has a resource; roster items are bare JIDs", rec[1])
	case contact == owner:
		return backends.RosterEntry{}, fmt.Errorf("contact %s is the roster's owner", contact)
	}
	e := backends.RosterEntry{Domain: owner.Domainpart(), User: owner.Localpart(), Item: backends.RosterItem{Contact: contact.String()}}
	subName := strings.TrimSpace(rec[2])
	sub, ok := backends.ParseSubscription(subName)
	if !ok {
		return backends.RosterEntry{}, fmt.Errorf("subscription %q: want none, to, from or both", subName)
	}
	e.Item.Subscription = sub
	if len(rec) > 3 {
		e.Item.Name = rec[3]
	}
	if len(rec) > 4 && rec[4] != "" {
		e.Item.Groups = strings.Split(rec[4], ";")
	}
	if err := e.Item.Validate(); err != nil {
		return backends.RosterEntry{}, fmt.Errorf("item %s of %s: %v", contact, owner, err)
	}
	return e, nil
}
