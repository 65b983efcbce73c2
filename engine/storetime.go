package engine

import (
	"context"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine/metrics"
)

// timedAccounts is an account store whose every call is timed into the storage latency
// histogram (hermod_storage_latency_seconds, label op): the reads SASL makes at each
// login and the writes of the admin endpoint go through it.
type timedAccounts struct {
	backends.Accounts
	get, put, del, list *metrics.StorageOp
}

// timeAccounts wraps st; with no metrics it returns st itself.
func timeAccounts(st backends.Accounts, m *metrics.Metrics) backends.Accounts {
	if m == nil || st == nil {
		return st
	}
	return timedAccounts{
		Accounts: st,
		get:      m.Storage("account_get"),
		put:      m.Storage("account_put"),
		del:      m.Storage("account_delete"),
		list:     m.Storage("account_list"),
	}
}

func (t timedAccounts) Account(ctx context.Context, domain, user string) (backends.Account, error) {
	defer t.get.Since(time.Now())
	return t.Accounts.Account(ctx, domain, user)
}

func (t timedAccounts) CreateAccount(ctx context.Context, a backends.Account) error {
	defer t.put.Since(time.Now())
	return t.Accounts.CreateAccount(ctx, a)
}

func (t timedAccounts) PutAccounts(ctx context.Context, as []backends.Account) error {
	defer t.put.Since(time.Now())
	return t.Accounts.PutAccounts(ctx, as)
}

func (t timedAccounts) SetCredentials(ctx context.Context, domain, user string, c backends.Credentials) error {
	defer t.put.Since(time.Now())
	return t.Accounts.SetCredentials(ctx, domain, user, c)
}

func (t timedAccounts) DeleteAccount(ctx context.Context, domain, user string) error {
	defer t.del.Since(time.Now())
	return t.Accounts.DeleteAccount(ctx, domain, user)
}

func (t timedAccounts) ListAccounts(ctx context.Context, domain, after string, limit int) ([]string, error) {
	defer t.list.Since(time.Now())
	return t.Accounts.ListAccounts(ctx, domain, after, limit)
}

func (t timedAccounts) CountAccounts(ctx context.Context, domain string) (int, error) {
	defer t.list.Since(time.Now())
	return t.Accounts.CountAccounts(ctx, domain)
}
