package accounts

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/admin"
)

// ImportUsers implements admin.Users: it reads the whole CSV document (format in
// csv.go), and if any record is invalid returns *admin.ImportError and writes
// nothing. Otherwise it writes the accounts in batches of Options.BatchSize with
// PutAccounts (overwriting accounts that exist), deriving the keys of each batch on
// Options.Workers goroutines first. A cancelled context stops it between accounts;
// batches already written stay written, and the error says how many.
func (m *Manager) ImportUsers(ctx context.Context, in io.Reader) (admin.ImportResult, error) {
	rows, err := m.parseCSV(in)
	if err != nil {
		return admin.ImportResult{}, err
	}
	done := 0
	batch := make([]backends.Account, 0, m.o.BatchSize)
	for start := 0; start < len(rows); start += m.o.BatchSize {
		end := min(start+m.o.BatchSize, len(rows))
		batch = batch[:end-start]
		if err := m.prepare(ctx, rows[start:end], batch); err != nil {
			return admin.ImportResult{Imported: done}, fmt.Errorf("accounts: import stopped after %d of %d accounts: %w", done, len(rows), err)
		}
		if err := m.o.Store.PutAccounts(ctx, batch); err != nil {
			return admin.ImportResult{Imported: done}, fmt.Errorf("accounts: import stopped after %d of %d accounts: write lines %d-%d: %w",
				done, len(rows), rows[start].line, rows[end-1].line, err)
		}
		done = end
		for i := range batch {
			batch[i] = backends.Account{} // drop keys and passwords before the next batch
		}
		for i := start; i < end; i++ {
			rows[i].password = ""
		}
		if m.o.Progress != nil {
			m.o.Progress(done, len(rows))
		}
	}
	return admin.ImportResult{Imported: done}, nil
}

// prepare fills out[i] for rows[i], deriving keys for password rows on the
// configured number of goroutines. Work is taken one account at a time from a shared
// counter, so a core that another process slows down does not hold up the batch.
func (m *Manager) prepare(ctx context.Context, rows []row, out []backends.Account) error {
	now := m.o.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, m.o.Workers)
	for w := 0; w < m.o.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rows) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				r := &rows[i]
				creds := r.creds
				if r.password != "" {
					c, err := m.Derive(r.password, m.o.Iterations(r.domain))
					if err != nil {
						errs[w] = err
						return
					}
					creds = c
				}
				out[i] = backends.Account{Domain: r.domain, User: r.user, Credentials: creds, Created: now}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
