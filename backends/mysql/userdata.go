package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hermod-im/hermod/backends"
)

// VCard implements backends.VCards.
func (s *Store) VCard(ctx context.Context, domain, user string) ([]byte, error) {
	const op = "vcard"
	return s.readBlob(ctx, op, domain, user, "SELECT vcard FROM vcards WHERE domain = ? AND user = ?", domain, user)
}

// readBlob reads one column of one row, ErrNotFound when there is no row.
func (s *Store) readBlob(ctx context.Context, op, domain, user, q string, args ...any) ([]byte, error) {
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return nil, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var b []byte
	err := s.db.QueryRowContext(rctx, q, args...).Scan(&b)
	if err == sql.ErrNoRows {
		err = backends.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	return b, nil
}

// exec runs one write statement on the pool, detached from ctx's cancellation.
func (s *Store) exec(ctx context.Context, op, domain, user, q string, args ...any) error {
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	_, err := s.db.ExecContext(wctx, q, args...)
	return s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}

// SetVCard implements backends.VCards.
func (s *Store) SetVCard(ctx context.Context, domain, user string, vcard []byte) error {
	const op = "set vcard"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateVCard(domain, user, vcard); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	return s.exec(ctx, op, domain, user, `INSERT INTO vcards (domain, user, vcard) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE vcard = VALUES(vcard)`, domain, user, vcard)
}

// DeleteVCard implements backends.VCards.
func (s *Store) DeleteVCard(ctx context.Context, domain, user string) error {
	const op = "delete vcard"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return err
	}
	return s.exec(ctx, op, domain, user, "DELETE FROM vcards WHERE domain = ? AND user = ?", domain, user)
}

// PrivateXML implements backends.PrivateXML.
func (s *Store) PrivateXML(ctx context.Context, domain, user, namespace string) ([]byte, error) {
	const op = "private xml"
	if namespace == "" || len(namespace) > backends.MaxPrivateNamespaceLen {
		if err := s.begin(ctx, op); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("mysql: %s: namespace of %d bytes: %w", op, len(namespace), backends.ErrInvalid)
	}
	return s.readBlob(ctx, op+" "+namespace, domain, user,
		"SELECT xml FROM private_xml WHERE domain = ? AND user = ? AND namespace = ?", domain, user, namespace)
}

// SetPrivateXML implements backends.PrivateXML: one multi-row upsert, all or none.
func (s *Store) SetPrivateXML(ctx context.Context, domain, user string, items []backends.PrivateItem) error {
	const op = "set private xml"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return err
	}
	for i := range items {
		if err := items[i].Validate(); err != nil {
			return fmt.Errorf("mysql: %s of %s@%s: %w", op, user, domain, err)
		}
	}
	if len(items) == 0 {
		return nil
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	err := s.inTx(wctx, func(tx *sql.Tx) error {
		// In order, so the last of a namespace given twice wins.
		return chunked(items, 4, func(it backends.PrivateItem) int { return len(it.XML) }, func(chunk []backends.PrivateItem) error {
			args := make([]any, 0, 4*len(chunk))
			for _, it := range chunk {
				args = append(args, domain, user, it.Namespace, it.XML)
			}
			_, err := tx.ExecContext(wctx, "INSERT INTO private_xml (domain, user, namespace, xml) VALUES "+
				placeholders(len(chunk), 4)+" ON DUPLICATE KEY UPDATE xml = VALUES(xml)", args...)
			return err
		})
	})
	return s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}

// PrivateNamespaces returns the namespaces under which the account keeps private XML,
// in byte-wise order: what an export walks (transfer.PrivateNamespaceLister). Any
// goroutine may call it.
func (s *Store) PrivateNamespaces(ctx context.Context, domain, user string) ([]string, error) {
	const op = "private namespaces"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return nil, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(rctx, "SELECT namespace FROM private_xml WHERE domain = ? AND user = ? ORDER BY namespace",
		domain, user)
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ns []byte
		if err := rows.Scan(&ns); err != nil {
			return nil, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
		}
		out = append(out, string(ns))
	}
	return out, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), rows.Err())
}

// DeletePrivateXML implements backends.PrivateXML.
func (s *Store) DeletePrivateXML(ctx context.Context, domain, user string) error {
	const op = "delete private xml"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return err
	}
	return s.exec(ctx, op, domain, user, "DELETE FROM private_xml WHERE domain = ? AND user = ?", domain, user)
}

// LastLogout implements backends.LastActivity.
func (s *Store) LastLogout(ctx context.Context, domain, user string) (backends.LastLogout, error) {
	const op = "last logout"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return backends.LastLogout{}, err
	}
	rctx, cancel := s.readCtx(ctx)
	defer cancel()
	var at int64
	var status string
	err := s.db.QueryRowContext(rctx, "SELECT at, status FROM last_activity WHERE domain = ? AND user = ?",
		domain, user).Scan(&at, &status)
	if err == sql.ErrNoRows {
		err = backends.ErrNotFound
	}
	if err != nil {
		return backends.LastLogout{}, s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
	}
	return backends.LastLogout{At: time.Unix(at, 0), Status: status}, nil
}

// SetLastLogout implements backends.LastActivity through the write pipeline: the
// records of concurrent logouts are written by one multi-row statement.
func (s *Store) SetLastLogout(ctx context.Context, domain, user string, l backends.LastLogout) error {
	const op = "set last logout"
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if err := backends.ValidateLastLogout(domain, user, l); err != nil {
		return fmt.Errorf("mysql: %s: %w", op, err)
	}
	if !utf8.ValidString(l.Status) {
		return fmt.Errorf("mysql: %s of %s@%s: status is not UTF-8: %w", op, user, domain, backends.ErrInvalid)
	}
	r := &lastRequest{domain: domain, user: user, at: l.At.Unix(), status: l.Status}
	err := s.submit(ctx, lastKind{}, r, 1, len(l.Status))
	return s.fail(ctx, fmt.Sprintf("%s of %s@%s", op, user, domain), err)
}

// DeleteLastLogout implements backends.LastActivity.
func (s *Store) DeleteLastLogout(ctx context.Context, domain, user string) error {
	const op = "delete last logout"
	if err := s.checkKey(ctx, op, domain, user); err != nil {
		return err
	}
	return s.exec(ctx, op, domain, user, "DELETE FROM last_activity WHERE domain = ? AND user = ?", domain, user)
}

// lastRequest is one SetLastLogout in the pipeline.
type lastRequest struct {
	domain, user string
	at           int64
	status       string
}

// lastKind writes last-logout records: one multi-row upsert per statement-sized chunk,
// in queue order, so the last of two records of one account wins.
type lastKind struct{}

func (lastKind) name() string { return "last activity" }

func (lastKind) write(ctx context.Context, tx *sql.Tx, reqs []*request) error {
	return chunked(reqs, 4, func(r *request) int { return r.bytes }, func(rs []*request) error {
		args := make([]any, 0, 4*len(rs))
		for _, r := range rs {
			l := r.data.(*lastRequest)
			args = append(args, l.domain, l.user, l.at, l.status)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO last_activity (domain, user, at, status) VALUES "+
			placeholders(len(rs), 4)+" ON DUPLICATE KEY UPDATE at = VALUES(at), status = VALUES(status)", args...)
		return err
	})
}
