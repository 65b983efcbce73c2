package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/hermod-im/hermod/backends"
)

// Defaults of ImportOptions.
const (
	DefaultBatchSize = 500
	DefaultWorkers   = 32
)

// ImportOptions tune Import. The zero value imports with the defaults.
type ImportOptions struct {
	// BatchSize is how many accounts one PutAccounts call stores; DefaultBatchSize if
	// zero.
	BatchSize int
	// Workers is how many accounts' data are written at once; DefaultWorkers if zero.
	// Stores group concurrent writes (the embedded store's shared commits, the MySQL
	// pipeline), so a few workers import much faster than one. With more than one, the
	// roster versions the destination hands out depend on timing.
	Workers int
	// Progress, when set, is called after each account is read, with the counts read
	// so far, on Import's goroutine.
	Progress func(Summary)
}

// Import reads a file written by Export from r and stores its data in st, which must
// hold no account in the file's domains (a second import would duplicate offline
// messages). It returns the counts read and stored. A file that is not an export, is
// of a newer version, or was cut short (no trailer, or counts that disagree with it)
// fails the import; so does any write the store refuses, and what was stored before
// the failure stays. It may block on I/O; call it from any goroutine but an event
// loop.
func Import(ctx context.Context, st backends.Store, r io.Reader, opts ImportOptions) (Summary, error) {
	dst, err := asSource(st)
	if err != nil {
		return Summary{}, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return Summary{}, fmt.Errorf("transfer: import: not a gzip stream: %w", err)
	}
	defer zr.Close()
	dec := json.NewDecoder(zr)
	var h header
	if err := dec.Decode(&h); err != nil {
		return Summary{}, fmt.Errorf("transfer: import: read header: %w", err)
	}
	if h.Format != Format {
		return Summary{}, fmt.Errorf("transfer: import: not a Hermod export (format %q)", h.Format)
	}
	if h.Version < 1 || h.Version > Version {
		return Summary{}, fmt.Errorf("transfer: import: export format version %d, this build reads 1 to %d", h.Version, Version)
	}
	for _, d := range h.Domains {
		n, err := dst.CountAccounts(ctx, d)
		if err != nil {
			return Summary{}, fmt.Errorf("transfer: import: count accounts of %s: %w", d, err)
		}
		if n > 0 {
			return Summary{}, fmt.Errorf("transfer: import: the destination already has %d accounts in %s: import only into an empty store", n, d)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	im := &importer{dst: dst, opts: opts, domains: h.Domains, jobs: make(chan []line, opts.Workers)}
	im.raiser, _ = st.(RosterVersionRaiser)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for job := range im.jobs {
				if err := im.apply(ctx, job); err != nil {
					cancel(err)
				}
			}
		})
	}
	read, err := im.read(ctx, dec)
	close(im.jobs)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		err = im.flushAccounts(ctx)
	}
	read.RostersVersionBehind = im.behind
	if err != nil {
		return read, fmt.Errorf("transfer: import: %w", err)
	}
	return read, nil
}

// RosterVersionRaiser is implemented by stores whose roster versions come from one
// sequence that can be moved forward (the embedded and MySQL stores). Import uses it so that every imported roster gets
// a version above the one it had, which no client can have cached. The interfaces of
// package backends have no such method.
type RosterVersionRaiser interface {
	// RaiseRosterVersions makes every roster version handed out from now on greater
	// than above. A store that only forwards the call (a composite) returns an error
	// wrapping errors.ErrUnsupported when the store behind it cannot.
	RaiseRosterVersions(ctx context.Context, above uint64) error
}

type importer struct {
	dst     source
	opts    ImportOptions
	domains []string
	jobs    chan []line

	// Owned by the reading goroutine.
	accounts []backends.Account // waiting for PutAccounts
	sum      Summary            // counts of what was read

	raiseMu sync.Mutex // held while raising, so that raises are few and in order
	raiser  RosterVersionRaiser
	raised  uint64 // versions handed out from now on exceed it

	mu     sync.Mutex
	behind int // rosters whose imported version is below the exported one
}

// read decodes the lines after the header, checks their order, counts them, batches
// the accounts and hands each account's other lines to the workers. It returns the
// counts read.
func (im *importer) read(ctx context.Context, dec *json.Decoder) (Summary, error) {
	var (
		group  []line
		domIdx = -1
		prev   string // user of the previous group in the same domain
		ended  bool
	)
	send := func() error {
		if len(group) == 0 {
			return nil
		}
		if im.opts.Progress != nil {
			im.opts.Progress(im.sum)
		}
		select {
		case im.jobs <- group:
			group = nil
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	for n := 2; ; n++ {
		var l line
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return im.sum, fmt.Errorf("line %d: %w", n, err)
		}
		if ended {
			return im.sum, fmt.Errorf("line %d: data after the trailer", n)
		}
		if l.T == tEnd {
			if err := send(); err != nil {
				return im.sum, err
			}
			if l.End == nil || !l.End.sameCounts(im.sum) {
				return im.sum, fmt.Errorf("line %d: the trailer's counts %+v disagree with the file's %+v", n, l.End, im.sum)
			}
			ended = true
			continue
		}
		if l.T == tAccount {
			if err := send(); err != nil {
				return im.sum, err
			}
			i := slices.Index(im.domains, l.Domain)
			switch {
			case l.Account == nil:
				return im.sum, fmt.Errorf("line %d: account line without an account", n)
			case i < 0:
				return im.sum, fmt.Errorf("line %d: domain %q is not in the header", n, l.Domain)
			case i < domIdx || i == domIdx && l.User <= prev:
				return im.sum, fmt.Errorf("line %d: account %s@%s out of order", n, l.User, l.Domain)
			}
			domIdx, prev = i, l.User
			im.accounts = append(im.accounts, accountIn(l.Domain, l.User, l.Account))
			im.sum.Accounts++
			if len(im.accounts) >= im.opts.BatchSize {
				if err := im.flushAccounts(ctx); err != nil {
					return im.sum, err
				}
			}
			group = append(group, l)
			continue
		}
		if len(group) == 0 || l.Domain != group[0].Domain || l.User != group[0].User {
			return im.sum, fmt.Errorf("line %d: %s record of %s@%s not after its account", n, l.T, l.User, l.Domain)
		}
		if err := im.count(&l); err != nil {
			return im.sum, fmt.Errorf("line %d: %w", n, err)
		}
		group = append(group, l)
	}
	if !ended {
		return im.sum, errors.New("the file ends without its trailer: it was cut short")
	}
	return im.sum, nil
}

// raise moves the destination's roster versions above ver, when the destination can;
// a worker calls it before it writes the roster that had ver. Versions only grow, so
// the roster gets a version above its old one. Versions arrive in no order: raising
// only at each new maximum keeps the calls few.
func (im *importer) raise(ctx context.Context, ver uint64) error {
	im.raiseMu.Lock()
	defer im.raiseMu.Unlock()
	if im.raiser == nil || ver <= im.raised {
		return nil
	}
	err := im.raiser.RaiseRosterVersions(ctx, ver)
	if errors.Is(err, errors.ErrUnsupported) {
		im.raiser = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("raise roster versions above %d: %w", ver, err)
	}
	im.raised = ver
	return nil
}

// count adds a data line to the counts read, checking that its payload is there.
func (im *importer) count(l *line) error {
	s := &im.sum
	switch {
	case l.T == tRoster && l.Roster != nil:
		s.Rosters++
		s.RosterItems += len(l.Roster.Items)
		s.PendingIn += len(l.Roster.Pending)
	case l.T == tOffline && len(l.Offline) > 0:
		s.OfflineMessages += len(l.Offline)
	case l.T == tVCard && len(l.VCard) > 0:
		s.VCards++
	case l.T == tPrivate && l.Private != nil:
		s.PrivateItems++
	case l.T == tPrivacy && l.Privacy != nil:
		s.PrivacyUsers++
		s.PrivacyLists += len(l.Privacy.Lists)
	case l.T == tLast && l.Last != nil:
		s.LastLogouts++
	default:
		return fmt.Errorf("unknown or empty record %q of %s@%s", l.T, l.User, l.Domain)
	}
	return nil
}

// flushAccounts stores the accounts read since the last flush in one batch.
func (im *importer) flushAccounts(ctx context.Context) error {
	if len(im.accounts) == 0 {
		return nil
	}
	if err := im.dst.PutAccounts(ctx, im.accounts); err != nil {
		return fmt.Errorf("store %d accounts from %s@%s: %w", len(im.accounts), im.accounts[0].User, im.accounts[0].Domain, err)
	}
	clear(im.accounts) // drop the keys before the next batch
	im.accounts = im.accounts[:0]
	return nil
}

// apply stores the data lines of one account (job[0] is its account line).
func (im *importer) apply(ctx context.Context, job []line) error {
	d, u := job[0].Domain, job[0].User
	var private []backends.PrivateItem
	for i := 1; i < len(job); i++ {
		l := &job[i]
		var err error
		switch l.T {
		case tRoster:
			err = im.roster(ctx, d, u, l.Roster)
		case tOffline:
			msgs := make([]backends.OfflineMessage, len(l.Offline))
			for j, m := range l.Offline {
				msgs[j] = backends.OfflineMessage{Domain: d, User: u, Stamp: time.UnixMilli(m.Stamp), Raw: m.Raw}
			}
			_, err = im.dst.AppendOffline(ctx, msgs, 0)
		case tVCard:
			err = im.dst.SetVCard(ctx, d, u, l.VCard)
		case tPrivate:
			private = append(private, backends.PrivateItem{Namespace: l.Private.Namespace, XML: l.Private.XML})
		case tPrivacy:
			var s backends.PrivacySettings
			if s, err = privacyIn(l.Privacy); err == nil {
				_, err = im.dst.UpdatePrivacy(ctx, d, u, func(cur *backends.PrivacySettings) error {
					*cur = s.Clone()
					return nil
				})
			}
		case tLast:
			err = im.dst.SetLastLogout(ctx, d, u, backends.LastLogout{At: time.Unix(l.Last.At, 0), Status: l.Last.Status})
		}
		if err != nil {
			return fmt.Errorf("%s@%s: %s: %w", u, d, l.T, err)
		}
	}
	if len(private) > 0 {
		if err := im.dst.SetPrivateXML(ctx, d, u, private); err != nil {
			return fmt.Errorf("%s@%s: private XML: %w", u, d, err)
		}
	}
	return nil
}

// roster stores the items and pending requests of one roster and compares the
// version the destination gave it with the exported one.
func (im *importer) roster(ctx context.Context, d, u string, r *rosterRec) error {
	if err := im.raise(ctx, r.Version); err != nil {
		return err
	}
	var ver uint64
	for _, ir := range r.Items {
		it, err := itemIn(ir)
		if err != nil {
			return err
		}
		if ver, err = im.dst.PutRosterItem(ctx, d, u, it); err != nil {
			return err
		}
	}
	for _, p := range r.Pending {
		if err := im.dst.PutPendingIn(ctx, d, u, backends.PendingIn{Contact: p.Contact, Stanza: p.Stanza}); err != nil {
			return err
		}
	}
	if ver != 0 && ver < r.Version {
		im.mu.Lock()
		im.behind++
		im.mu.Unlock()
	}
	return nil
}
