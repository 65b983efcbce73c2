package register_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
	"github.com/hermod-im/hermod/engine"
	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/register"
)

// watcher records user-removed events.
type watcher struct {
	mu      sync.Mutex
	removed []string
}

func (w *watcher) Start(h *engine.Host) error {
	h.On(engine.EventUserRemoved, engine.PriorityDefault, func(ev engine.Event) engine.HookResult {
		w.mu.Lock()
		w.removed = append(w.removed, ev.User.String())
		w.mu.Unlock()
		return engine.Continue
	})
	return nil
}

func (w *watcher) Stop() error { return nil }

func start(t *testing.T, opts map[string]any) (*enginetest.Server, *watcher) {
	t.Helper()
	w := &watcher{}
	ts := enginetest.Start(t,
		enginetest.WithModule(register.Name, register.New, opts),
		enginetest.WithModule("mod_watch", func(engine.ModuleConfig) (engine.Module, error) { return w, nil }, nil))
	return ts, w
}

// open opens a stream on the listener without TLS and returns it with the features.
func open(t *testing.T, ts *enginetest.Server) (*enginetest.Raw, string) {
	t.Helper()
	rc := enginetest.DialRaw(t, ts.Plain)
	rc.Send(enginetest.StreamOpen)
	features := rc.ReadUntil("</stream:features>")
	rc.Buf.Reset()
	return rc, features
}

// send writes an iq and returns the reply to it.
func send(t *testing.T, rc *enginetest.Raw, id, iq string) string {
	t.Helper()
	rc.Buf.Reset()
	rc.Send(iq)
	got := rc.ReadUntil("id='" + id + "'")
	i := strings.Index(got, "id='"+id+"'")
	if j := strings.Index(got[i:], ">"); j > 0 && got[i+j-1] != '/' {
		got = rc.ReadUntil("</iq>")
	} else if j < 0 {
		got = rc.ReadUntil(">")
	}
	rc.Buf.Reset()
	return got
}

func registerIQ(id, user, password string) string {
	return "<iq type='set' id='" + id + "'><query xmlns='jabber:iq:register'><username>" + user +
		"</username><password>" + password + "</password></query></iq>"
}

// canLogin reports whether PLAIN authentication succeeds.
func canLogin(t *testing.T, ts *enginetest.Server, user, password string) bool {
	t.Helper()
	rc, _ := open(t, ts)
	rc.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+password)) + "</auth>")
	got := rc.ReadUntil("/>")
	rc.Conn.Close()
	return strings.Contains(got, "<success")
}

func wantCondition(t *testing.T, got, cond string) {
	t.Helper()
	if !strings.Contains(got, "type='error'") || !strings.Contains(got, "<"+cond+" xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'") {
		t.Fatalf("want %s, got %q", cond, got)
	}
}

// TestRegister runs XEP-0077 section 3.1 with its examples, and the refusals.
func TestRegister(t *testing.T) {
	ts, _ := start(t, nil)
	ts.AddUser("bill", "Calliope1")
	rc, features := open(t, ts)
	if !strings.Contains(features, "<register xmlns='http://jabber.org/features/iq-register'/>") {
		t.Fatalf("features lack iq-register: %q", features)
	}
	// Examples 1-2: the form.
	got := send(t, rc, "reg1", "<iq type='get' id='reg1' to='localhost'><query xmlns='jabber:iq:register'/></iq>")
	want := "<iq type='result' id='reg1' from='localhost'><query xmlns='jabber:iq:register'>" +
		"<instructions>Choose a username and password for use with this service.</instructions>" +
		"<username/><password/></query></iq>"
	if got != want {
		t.Fatalf("form:\n got  %q\n want %q", got, want)
	}
	// Examples 4-5 (without the e-mail field, which this server does not ask for).
	if got := send(t, rc, "reg2", registerIQ("reg2", "juliet", "R0m30-wherefore")); got != "<iq type='result' id='reg2'/>" {
		t.Fatalf("registration: %q", got)
	}
	if !canLogin(t, ts, "juliet", "R0m30-wherefore") {
		t.Fatal("the new account cannot log in")
	}
	// Example 6: conflict.
	wantCondition(t, send(t, rc, "reg3", registerIQ("reg3", "bill", "m1cro$oft-42")), "conflict")
	// Example 7 and friends: not-acceptable.
	for _, c := range []struct{ id, iq string }{
		{"na1", "<iq type='set' id='na1'><query xmlns='jabber:iq:register'><username>bill2</username></query></iq>"},
		{"na2", registerIQ("na2", "bill2", "")},
		{"na3", registerIQ("na3", "", "Calliope12")},
		{"na4", registerIQ("na4", "bad user", "Calliope12")},
		{"na5", registerIQ("na5", "bill@elsewhere", "Calliope12")},
		{"na6", registerIQ("na6", "bill/res", "Calliope12")},
		{"na7", registerIQ("na7", "bill3", "short")},
		{"na8", registerIQ("na8", "bill4", "pass&#9;word&#9;tab")}, // PRECIS OpaqueString refuses controls
	} {
		wantCondition(t, send(t, rc, c.id, c.iq), "not-acceptable")
	}
	for _, u := range []string{"bill2", "bill3", "bill4", "bad user"} {
		if _, err := ts.Store.Account(context.Background(), "localhost", u); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("refused registration of %q created an account (%v)", u, err)
		}
	}
	// Removal before authentication.
	wantCondition(t, send(t, rc, "rm", "<iq type='set' id='rm'><query xmlns='jabber:iq:register'><remove/></query></iq>"), "unexpected-request")
	// Usernames are normalised like any JID: "Romeo" registers romeo.
	if got := send(t, rc, "reg4", registerIQ("reg4", "Romeo", "Montague-1")); !strings.Contains(got, "type='result'") {
		t.Fatalf("registration of Romeo: %q", got)
	}
	if !canLogin(t, ts, "romeo", "Montague-1") {
		t.Fatal("romeo cannot log in")
	}
}

// TestRateLimit: beyond registrations_per_minute, resource-constraint.
func TestRateLimit(t *testing.T) {
	ts, _ := start(t, map[string]any{"registrations_per_minute": 2})
	rc, _ := open(t, ts)
	for i, u := range []string{"a1", "a2"} {
		if got := send(t, rc, u, registerIQ(u, u, "password-"+u)); !strings.Contains(got, "type='result'") {
			t.Fatalf("registration %d: %q", i, got)
		}
	}
	wantCondition(t, send(t, rc, "a3", registerIQ("a3", "a3", "password-a3")), "resource-constraint")
	other, _ := open(t, ts)
	wantCondition(t, send(t, other, "a4", registerIQ("a4", "a4", "password-a4")), "resource-constraint")
}

// TestDisabledByDefault: without the module there is no registration.
func TestDisabledByDefault(t *testing.T) {
	ts := enginetest.Start(t)
	rc, features := open(t, ts)
	if strings.Contains(features, "iq-register") {
		t.Fatalf("registration offered without mod_register: %q", features)
	}
	got := send(t, rc, "x", registerIQ("x", "eve", "password-eve"))
	if !strings.Contains(got, "type='error'") {
		t.Fatalf("registered without mod_register: %q", got)
	}
	if _, err := ts.Store.Account(context.Background(), "localhost", "eve"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatal("an account was created")
	}
}

// TestAccount: a logged-in user sees its registration, changes its password (section
// 3.3) and removes its account (section 3.2).
func TestAccount(t *testing.T) {
	ts, w := start(t, nil)
	ts.AddUser("bill", "theglobe-1")
	ts.AddUser("juliet", "balcony-1")
	rc := ts.Login(t, "bill", "theglobe-1", "globe")

	got := send(t, rc, "info", "<iq type='get' id='info'><query xmlns='jabber:iq:register'/></iq>")
	if !strings.Contains(got, "<query xmlns='jabber:iq:register'><registered/><username>bill</username><password/></query>") {
		t.Fatalf("registration on file: %q", got)
	}
	// Examples 11-12: password change.
	if got := send(t, rc, "change1", "<iq type='set' to='localhost' id='change1'><query xmlns='jabber:iq:register'>"+
		"<username>bill</username><password>newpass-42</password></query></iq>"); !strings.Contains(got, "type='result'") {
		t.Fatalf("password change: %q", got)
	}
	if !canLogin(t, ts, "bill", "newpass-42") || canLogin(t, ts, "bill", "theglobe-1") {
		t.Fatal("the password did not change")
	}
	wantCondition(t, send(t, rc, "change2", "<iq type='set' id='change2'><query xmlns='jabber:iq:register'>"+
		"<username>juliet</username><password>stolen-pass</password></query></iq>"), "not-allowed")
	wantCondition(t, send(t, rc, "change3", "<iq type='set' id='change3'><query xmlns='jabber:iq:register'>"+
		"<username>bill</username><password/></query></iq>"), "bad-request")
	if !canLogin(t, ts, "juliet", "balcony-1") || !canLogin(t, ts, "bill", "newpass-42") {
		t.Fatal("a refused change changed a password")
	}
	// Another account's registration cannot be touched.
	wantCondition(t, send(t, rc, "other", "<iq type='set' id='other' to='juliet@localhost'><query xmlns='jabber:iq:register'><remove/></query></iq>"), "service-unavailable")
	// Section 3.2: a remove with company is a bad request.
	wantCondition(t, send(t, rc, "unreg0", "<iq type='set' id='unreg0'><query xmlns='jabber:iq:register'><remove/><username>bill</username></query></iq>"), "bad-request")
	// Examples 13-14: removal.
	if got := send(t, rc, "unreg1", "<iq type='set' id='unreg1'><query xmlns='jabber:iq:register'><remove/></query></iq>"); !strings.Contains(got, "type='result'") {
		t.Fatalf("removal: %q", got)
	}
	if _, err := ts.Store.Account(context.Background(), "localhost", "bill"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("account still stored: %v", err)
	}
	if canLogin(t, ts, "bill", "newpass-42") {
		t.Fatal("a removed account can log in")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		removed := strings.Join(w.removed, ",")
		w.mu.Unlock()
		if removed == "bill@localhost" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("user-removed events: %q", removed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAccountOptions: password change and removal can be switched off.
func TestAccountOptions(t *testing.T) {
	ts, _ := start(t, map[string]any{"password_change": false, "remove": false})
	ts.AddUser("bill", "theglobe-1")
	rc := ts.Login(t, "bill", "theglobe-1", "globe")
	wantCondition(t, send(t, rc, "c", "<iq type='set' id='c'><query xmlns='jabber:iq:register'><username>bill</username><password>another-1</password></query></iq>"), "not-allowed")
	wantCondition(t, send(t, rc, "r", "<iq type='set' id='r'><query xmlns='jabber:iq:register'><remove/></query></iq>"), "not-allowed")
}
