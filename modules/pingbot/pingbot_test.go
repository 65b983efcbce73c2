package pingbot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hermod-im/hermod/engine/enginetest"
	"github.com/hermod-im/hermod/modules/pingbot"
)

func TestPingbot(t *testing.T) {
	ts := enginetest.Start(t, enginetest.WithModule(pingbot.Name, pingbot.New, map[string]any{"reply": "PONG!"}))
	ts.AddUser("alice", "secret")
	a := ts.Login(t, "alice", "secret", "phone")
	a.Send("<message to='localhost' type='chat' id='p1'><body> Ping </body></message>")
	got := a.ReadUntil("</message>")
	for _, want := range []string{"from='localhost'", "to='alice@localhost/phone'", "id='p1'", "<body>PONG!</body>"} {
		if !strings.Contains(got, want) {
			t.Fatalf("reply %q lacks %q", got, want)
		}
	}
	a.Buf.Reset()
	// Other messages to the host are the engine's business (ignored), not the bot's.
	a.Send("<message to='localhost' type='chat' id='p2'><body>hello</body></message>")
	if got := a.Next(300 * time.Millisecond); strings.Contains(got, "PONG") {
		t.Fatalf("the bot answered a non-ping: %q", got)
	}
}
