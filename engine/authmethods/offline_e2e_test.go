package authmethods_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hermod-im/hermod/engine/config"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/offline"
	"github.com/hermod-im/hermod/modules/presence"
	"github.com/hermod-im/hermod/modules/roster"
)

// TestOfflineForHTTPUsers: users known only to an http service are accounts for the
// modules too: a message to one who is offline is stored and delivered at login,
// and one to a user the service does not know bounces.
func TestOfflineForHTTPUsers(t *testing.T) {
	users := map[string]string{"alice": "secret", "bob": "secret"}
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pw, known := users[q.Get("user")]
		ok := false
		switch r.URL.Path {
		case "/check_password":
			ok = known && q.Get("pass") == pw
		case "/user_exists":
			ok = known
		}
		if ok {
			_, _ = w.Write([]byte("true"))
			return
		}
		_, _ = w.Write([]byte("false"))
	}))
	t.Cleanup(svc.Close)
	ts := enginetest.Start(t,
		enginetest.WithConfig(func(c *config.Config) {
			c.Auth.Methods = []string{"http"}
			c.Auth.HTTP.BaseURL = svc.URL
		}),
		enginetest.WithModule(roster.Name, roster.New, nil),
		enginetest.WithModule(presence.Name, presence.New, nil),
		enginetest.WithModule(offline.Name, offline.New, nil))

	bob := ts.Login(t, "bob", "secret", "r")
	bob.Send("<presence/>")
	bob.Send("<message to='alice@localhost' type='chat' id='m1'><body>while you were out</body></message>")
	bob.Send("<message to='nobody@localhost' type='chat' id='m2'><body>hello?</body></message>")
	if got := bob.ReadUntil("id='m2'"); !strings.Contains(got, "type='error'") || !strings.Contains(got, "<service-unavailable") {
		t.Fatalf("message to an unknown user: %q", got)
	}
	if strings.Contains(bob.Buf.String(), "id='m1'") {
		t.Fatalf("the message to alice bounced: %q", bob.Buf.String())
	}

	alice := ts.Login(t, "alice", "secret", "r")
	alice.Send("<presence/>")
	got := alice.ReadUntil("</message>")
	if !strings.Contains(got, "while you were out") || !strings.Contains(got, "urn:xmpp:delay") {
		t.Fatalf("alice's offline message: %q", got)
	}
}
