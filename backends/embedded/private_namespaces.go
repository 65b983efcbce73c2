package embedded

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/hermod-im/hermod/backends"
)

// PrivateNamespaces returns the namespaces under which the account keeps private XML,
// in byte-wise order: what `hermod db export` needs to move every fragment (the
// backends.PrivateXML interface reads one namespace at a time and cannot list them).
// Any goroutine may call it; it reads the file and must not be called on an event loop.
func (s *Store) PrivateNamespaces(ctx context.Context, domain, user string) ([]string, error) {
	if err := backends.ValidateKey(domain, user); err != nil {
		return nil, fmt.Errorf("embedded: list private XML namespaces: %w", err)
	}
	prefix := userPrefix(nil, user)
	var out []string
	err := s.view(ctx, "list private XML namespaces of "+user+"@"+domain, func(tx *bbolt.Tx) error {
		b := domainBucket(tx, bucketPrivate, domain)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, string(k[len(prefix):]))
		}
		return nil
	})
	return out, err
}
