package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Offline messages: offline_heads holds, per account with messages, the last Seq given
// and how many messages wait; offline_messages the messages. Appends run in the write
// pipeline: one batch locks the heads of all its accounts at once (in key order, so
// batches and deletes never deadlock each other), assigns Seqs and applies limits in
// Go, and writes messages and heads with multi-row statements.

// offlineRequest is one AppendOffline call in the pipeline.
type offlineRequest struct {
	msgs  []backends.OfflineMessage
	limit int
	seqs  []uint64 // the result
}

// AppendOffline implements backends.Offline through the write pipeline.
func (s *Store) AppendOffline(ctx context.Context, msgs []backends.OfflineMessage, limit int) ([]uint64, error) {
	const op = "append offline"
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	now := time.Now()
	bytes := 0
	for i := range msgs {
		if err := msgs[i].Validate(); err != nil {
			return nil, fmt.Errorf("mysql: %s: message %d: %w", op, i, err)
		}
		bytes += len(msgs[i].Raw)
	}
	if len(msgs) == 0 {
		return []uint64{}, nil
	}
	r := &offlineRequest{msgs: msgs, limit: limit}
	if slices.ContainsFunc(msgs, func(m backends.OfflineMessage) bool { return m.Stamp.IsZero() }) {
		r.msgs = slices.Clone(msgs)
		for i := range r.msgs {
			if r.msgs[i].Stamp.IsZero() {
				r.msgs[i].Stamp = now
			}
		}
	}
	if err := s.submit(ctx, offlineKind{}, r, len(msgs), bytes); err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("%s (%d messages)", op, len(msgs)), err)
	}
	return r.seqs, nil
}

type account struct{ domain, user string }

func (a account) compare(b account) int {
	return cmp.Or(strings.Compare(a.domain, b.domain), strings.Compare(a.user, b.user))
}

type head struct{ last, queued uint64 }

// offlineKind writes AppendOffline requests.
type offlineKind struct{}

func (offlineKind) name() string { return "offline messages" }

func (offlineKind) write(ctx context.Context, tx *sql.Tx, reqs []*request) error {
	heads := map[account]*head{}
	for _, r := range reqs {
		for _, m := range r.data.(*offlineRequest).msgs {
			heads[account{m.Domain, m.User}] = &head{}
		}
	}
	accts := make([]account, 0, len(heads))
	for a := range heads {
		accts = append(accts, a)
	}
	slices.SortFunc(accts, account.compare)
	none := func(account) int { return 0 }
	// Lock the heads, creating the missing ones, then read them.
	err := chunked(accts, 2, none, func(as []account) error {
		args := make([]any, 0, 2*len(as))
		for _, a := range as {
			args = append(args, a.domain, a.user)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO offline_heads (domain, user, last_seq, queued) VALUES "+
			rowsOf(len(as), "(?, ?, 0, 0)")+
			" ON DUPLICATE KEY UPDATE last_seq = last_seq", args...)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT domain, user, last_seq, queued FROM offline_heads WHERE "+
			strings.Repeat("(domain = ? AND user = ?) OR ", len(as)-1)+"(domain = ? AND user = ?)", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d, u []byte
			var h head
			if err := rows.Scan(&d, &u, &h.last, &h.queued); err != nil {
				return err
			}
			if p := heads[account{string(d), string(u)}]; p != nil {
				*p = h
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	// Assign Seqs in queue order, applying each call's limit.
	type row struct {
		m   *backends.OfflineMessage
		seq uint64
	}
	var rows []row
	for _, r := range reqs {
		or := r.data.(*offlineRequest)
		or.seqs = make([]uint64, len(or.msgs))
		for i := range or.msgs {
			m := &or.msgs[i]
			h := heads[account{m.Domain, m.User}]
			if or.limit > 0 && h.queued >= uint64(or.limit) {
				continue
			}
			h.last++
			h.queued++
			or.seqs[i] = h.last
			rows = append(rows, row{m, h.last})
		}
	}
	err = chunked(rows, 5, func(r row) int { return len(r.m.Raw) }, func(rs []row) error {
		args := make([]any, 0, 5*len(rs))
		for _, r := range rs {
			args = append(args, r.m.Domain, r.m.User, r.seq, r.m.Stamp.UnixMilli(), r.m.Raw)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO offline_messages (domain, user, seq, stamp, raw) VALUES "+
			placeholders(len(rs), 5), args...)
		return err
	})
	if err != nil {
		return err
	}
	return chunked(accts, 4, none, func(as []account) error {
		args := make([]any, 0, 4*len(as))
		for _, a := range as {
			h := heads[a]
			args = append(args, a.domain, a.user, h.last, h.queued)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO offline_heads (domain, user, last_seq, queued) VALUES "+
			placeholders(len(as), 4)+" ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq), queued = VALUES(queued)", args...)
		return err
	})
}

// rowsOf returns n copies of one row's placeholder text, comma-separated.
func rowsOf(n int, one string) string {
	return strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}

// OfflineMessages implements backends.Offline.
func (s *Store) OfflineMessages(ctx context.Context, domain, user string, max int) ([]backends.OfflineMessage, error) {
	const op = "offline messages"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, fmt.Errorf("mysql: %s of %s@%s: max %d: %w", op, user, domain, max, backends.ErrInvalid)
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(rctx, `SELECT seq, stamp, raw FROM offline_messages
		WHERE domain = ? AND user = ? ORDER BY seq LIMIT ?`, domain, user, max)
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	defer rows.Close()
	var out []backends.OfflineMessage
	for rows.Next() {
		m := backends.OfflineMessage{Domain: domain, User: user}
		var stamp int64
		if err := rows.Scan(&m.Seq, &stamp, &m.Raw); err != nil {
			return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
		}
		m.Stamp = time.UnixMilli(stamp)
		out = append(out, m)
	}
	return out, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), rows.Err())
}

// DeleteOffline implements backends.Offline. It locks the account's head first, as
// appends do.
func (s *Store) DeleteOffline(ctx context.Context, domain, user string, through uint64) (int, error) {
	const op = "delete offline"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return 0, err
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	var n int64
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		n = 0
		var queued uint64
		err := tx.QueryRowContext(wctx, "SELECT queued FROM offline_heads WHERE domain = ? AND user = ? FOR UPDATE",
			domain, user).Scan(&queued)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(wctx, "DELETE FROM offline_messages WHERE domain = ? AND user = ? AND seq <= ?",
			domain, user, through)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if through == math.MaxUint64 {
			_, err = tx.ExecContext(wctx, "DELETE FROM offline_heads WHERE domain = ? AND user = ?", domain, user)
		} else {
			_, err = tx.ExecContext(wctx, "UPDATE offline_heads SET queued = ? WHERE domain = ? AND user = ?",
				queued-min(queued, uint64(n)), domain, user)
		}
		return err
	})
	if err != nil {
		return 0, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	return int(n), nil
}

// CountOffline implements backends.Offline with a prepared query of the account's head.
func (s *Store) CountOffline(ctx context.Context, domain, user string) (int, error) {
	const op = "count offline"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return 0, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var n int
	err := s.queryRow(rctx, s.stmts.offlineCount, qOfflineCount, domain, user).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return n, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}
