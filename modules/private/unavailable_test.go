package private_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/backends/memory"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/private"
)

// downStore is a memory store whose private storage can be switched off, as a MySQL
// backend is while its server is down.
type downStore struct {
	*memory.Store
	down atomic.Bool
}

func (d *downStore) PrivateXML(ctx context.Context, domain, user, ns string) ([]byte, error) {
	if d.down.Load() {
		return nil, fmt.Errorf("test: private XML of %s@%s: %w", user, domain, backends.ErrUnavailable)
	}
	return d.Store.PrivateXML(ctx, domain, user, ns)
}

func (d *downStore) SetPrivateXML(ctx context.Context, domain, user string, items []backends.PrivateItem) error {
	if d.down.Load() {
		return fmt.Errorf("test: store private XML of %s@%s: %w", user, domain, backends.ErrUnavailable)
	}
	return d.Store.SetPrivateXML(ctx, domain, user, items)
}

// TestBackendDown checks that while the storage backend cannot be reached, requests
// get a temporary error (type wait) at once, and work again when it is back.
func TestBackendDown(t *testing.T) {
	st := &downStore{Store: memory.New()}
	ts := enginetest.Start(t, enginetest.WithStore(st), enginetest.WithModule(private.Name, private.New, nil))
	ts.AddUser("ophelia", "secret")
	c := ts.Login(t, "ophelia", "secret", "r")
	const me = "ophelia@localhost/r"
	set := `<iq type="set" id="s1"><query xmlns="jabber:iq:private"><p xmlns="x:p">1</p></query></iq>`
	get := `<iq type="get" id="g1"><query xmlns="jabber:iq:private"><p xmlns="x:p"/></query></iq>`
	wait := "<error type='wait'><internal-server-error" + errNS + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>storage temporarily unavailable; retry later</text></error></iq>"

	st.down.Store(true)
	exchange(t, c, set, "<iq type='error' id='s1' to='"+me+"'>"+wait)
	exchange(t, c, get, "<iq type='error' id='g1' to='"+me+"'>"+wait)

	st.down.Store(false)
	exchange(t, c, set, "<iq type='result' id='s1' to='"+me+"'/>")
	exchange(t, c, get, "<iq type='result' id='g1' to='"+me+"'><query xmlns='jabber:iq:private'><p xmlns='x:p'>1</p></query></iq>")
}
