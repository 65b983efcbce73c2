package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// The cases of backends.Offline.

func offlineStore(t *testing.T, st backends.Store) backends.Offline {
	t.Helper()
	o, ok := st.(backends.Offline)
	if !ok {
		t.Skipf("%T does not implement backends.Offline", st)
	}
	return o
}

// msg returns a message for user@dom whose stanza names n, stamped at a whole
// millisecond.
func msg(dom, user string, n int) backends.OfflineMessage {
	return backends.OfflineMessage{
		Domain: dom, User: user,
		Stamp: time.UnixMilli(1_700_000_000_123 + int64(n)),
		Raw:   fmt.Appendf(nil, "<message to='%s@%s' id='m%d'><body>%d</body></message>", user, dom, n, n),
	}
}

// wantOffline fails t unless the account holds exactly want (Seq, Stamp, Raw), oldest
// first.
func wantOffline(t *testing.T, o backends.Offline, dom, user string, want []backends.OfflineMessage) {
	t.Helper()
	got, err := o.OfflineMessages(t.Context(), dom, user, 1000)
	if err != nil {
		t.Fatalf("OfflineMessages(%q, %q): %v", dom, user, err)
	}
	if len(got) != len(want) {
		t.Fatalf("OfflineMessages(%q, %q) returned %d messages, want %d", dom, user, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Domain != dom || g.User != user || g.Seq != w.Seq || !g.Stamp.Equal(w.Stamp) || !bytes.Equal(g.Raw, w.Raw) {
			t.Fatalf("OfflineMessages(%q, %q)[%d] = {%q %q seq %d %s %q}, want {seq %d %s %q}", dom, user, i,
				g.Domain, g.User, g.Seq, g.Stamp.UTC().Format(time.RFC3339Nano), g.Raw,
				w.Seq, w.Stamp.UTC().Format(time.RFC3339Nano), w.Raw)
		}
	}
	n, err := o.CountOffline(t.Context(), dom, user)
	if err != nil || n != len(want) {
		t.Fatalf("CountOffline(%q, %q) = %d, %v; want %d", dom, user, n, err, len(want))
	}
}

// appendOK appends msgs with limit, fails t on an error, and returns msgs with the
// Seqs given (those refused dropped) and the raw Seqs.
func appendOK(t *testing.T, o backends.Offline, limit int, msgs ...backends.OfflineMessage) ([]backends.OfflineMessage, []uint64) {
	t.Helper()
	seqs, err := o.AppendOffline(t.Context(), msgs, limit)
	if err != nil {
		t.Fatalf("AppendOffline: %v", err)
	}
	if len(seqs) != len(msgs) {
		t.Fatalf("AppendOffline returned %d seqs for %d messages", len(seqs), len(msgs))
	}
	var stored []backends.OfflineMessage
	for i, m := range msgs {
		if seqs[i] != 0 {
			m.Seq = seqs[i]
			stored = append(stored, m)
		}
	}
	return stored, seqs
}

func (s *suite) testOfflineAppendRead(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom, other := domain(t), domain(t)
	// Users that are prefixes of each other, or differ only past a NUL, must not see
	// each other's messages; neither must the same user in another domain.
	users := []string{"al", "alice", "a\x00", "a"}
	var batch []backends.OfflineMessage
	for i := range 3 {
		for _, u := range users {
			batch = append(batch, msg(dom, u, i))
		}
	}
	batch = append(batch, msg(other, "alice", 9))
	stored, seqs := appendOK(t, o, 0, batch...)
	if len(stored) != len(batch) {
		t.Fatalf("AppendOffline without a limit refused messages: seqs %v", seqs)
	}
	for _, u := range users {
		var want []backends.OfflineMessage
		for _, m := range stored {
			if m.Domain == dom && m.User == u {
				want = append(want, m)
			}
		}
		for i := 1; i < len(want); i++ {
			if want[i].Seq <= want[i-1].Seq {
				t.Fatalf("Seqs of %q not ascending in append order: %d then %d", u, want[i-1].Seq, want[i].Seq)
			}
		}
		wantOffline(t, o, dom, u, want)
	}
	wantOffline(t, o, other, "alice", stored[len(stored)-1:])
	wantOffline(t, o, dom, "nobody", nil)

	// max bounds a read, oldest first.
	got, err := o.OfflineMessages(t.Context(), dom, "alice", 2)
	if err != nil || len(got) != 2 || got[0].Seq >= got[1].Seq {
		t.Fatalf("OfflineMessages(max 2) = %d messages, %v", len(got), err)
	}
	_, err = o.OfflineMessages(t.Context(), dom, "alice", 0)
	wantErr(t, "OfflineMessages(max 0)", err, backends.ErrInvalid)
}

func (s *suite) testOfflineLimit(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom := domain(t)
	// The limit counts the messages earlier in the same batch, per account.
	_, seqs := appendOK(t, o, 2, msg(dom, "bob", 1), msg(dom, "carol", 1), msg(dom, "bob", 2), msg(dom, "bob", 3))
	if seqs[0] == 0 || seqs[1] == 0 || seqs[2] == 0 || seqs[3] != 0 {
		t.Fatalf("AppendOffline(limit 2) seqs = %v, want the 4th (bob's 3rd) refused with 0", seqs)
	}
	_, seqs = appendOK(t, o, 2, msg(dom, "bob", 4), msg(dom, "carol", 2))
	if seqs[0] != 0 || seqs[1] == 0 {
		t.Fatalf("AppendOffline(limit 2) to a full and a half-full queue: seqs %v", seqs)
	}
	// A larger limit, or none, lets more in.
	if _, seqs = appendOK(t, o, 3, msg(dom, "bob", 5)); seqs[0] == 0 {
		t.Fatal("AppendOffline(limit 3) refused the 3rd message")
	}
	if _, seqs = appendOK(t, o, 0, msg(dom, "bob", 6)); seqs[0] == 0 {
		t.Fatal("AppendOffline(limit 0) refused a message")
	}
	if n, _ := o.CountOffline(t.Context(), dom, "bob"); n != 4 {
		t.Fatalf("CountOffline = %d, want 4", n)
	}
	// Deleting makes room again.
	if _, err := o.DeleteOffline(t.Context(), dom, "bob", math.MaxUint64-1); err != nil {
		t.Fatalf("DeleteOffline: %v", err)
	}
	if _, seqs = appendOK(t, o, 1, msg(dom, "bob", 7)); seqs[0] == 0 {
		t.Fatal("AppendOffline refused a message after the queue was emptied")
	}
}

func (s *suite) testOfflineDelete(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom := domain(t)
	stored, _ := appendOK(t, o, 0, msg(dom, "dave", 1), msg(dom, "dave", 2), msg(dom, "dave", 3), msg(dom, "davey", 1))
	n, err := o.DeleteOffline(t.Context(), dom, "dave", stored[1].Seq)
	if err != nil || n != 2 {
		t.Fatalf("DeleteOffline(through the 2nd) = %d, %v; want 2", n, err)
	}
	wantOffline(t, o, dom, "dave", stored[2:3])
	wantOffline(t, o, dom, "davey", stored[3:])
	// Nothing left through that Seq: not an error.
	if n, err = o.DeleteOffline(t.Context(), dom, "dave", stored[1].Seq); err != nil || n != 0 {
		t.Fatalf("DeleteOffline again = %d, %v; want 0, nil", n, err)
	}
	if n, err = o.DeleteOffline(t.Context(), dom, "nobody", math.MaxUint64); err != nil || n != 0 {
		t.Fatalf("DeleteOffline of an account without messages = %d, %v", n, err)
	}
	// Emptying the queue does not let a Seq be given again.
	if n, err = o.DeleteOffline(t.Context(), dom, "dave", stored[2].Seq); err != nil || n != 1 {
		t.Fatalf("DeleteOffline(through the last) = %d, %v", n, err)
	}
	_, seqs := appendOK(t, o, 0, msg(dom, "dave", 4))
	if seqs[0] <= stored[2].Seq {
		t.Fatalf("Seq %d given after the queue was emptied is not above the last one, %d", seqs[0], stored[2].Seq)
	}
	// math.MaxUint64 removes everything.
	if n, err = o.DeleteOffline(t.Context(), dom, "dave", math.MaxUint64); err != nil || n != 1 {
		t.Fatalf("DeleteOffline(all) = %d, %v; want 1", n, err)
	}
	wantOffline(t, o, dom, "dave", nil)
	wantOffline(t, o, dom, "davey", stored[3:])
}

func (s *suite) testOfflineInvalid(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom := domain(t)
	long := string(bytes.Repeat([]byte("u"), backends.MaxPartLen+1))
	empty := msg(dom, "erin", 2)
	empty.Raw = nil
	for name, bad := range map[string]backends.OfflineMessage{
		"empty stanza": empty,
		"empty user":   msg(dom, "", 1),
		"empty domain": msg("", "erin", 1),
		"long user":    msg(dom, long, 1),
	} {
		// The valid message before the bad one must not be written either.
		_, err := o.AppendOffline(t.Context(), []backends.OfflineMessage{msg(dom, "erin", 1), bad}, 0)
		wantErr(t, "AppendOffline with "+name, err, backends.ErrInvalid)
	}
	wantOffline(t, o, dom, "erin", nil)
	_, err := o.OfflineMessages(t.Context(), dom, "", 10)
	wantErr(t, "OfflineMessages of an empty user", err, backends.ErrInvalid)
	_, err = o.DeleteOffline(t.Context(), "", "erin", 1)
	wantErr(t, "DeleteOffline in an empty domain", err, backends.ErrInvalid)
	_, err = o.CountOffline(t.Context(), dom, long)
	wantErr(t, "CountOffline of a long user", err, backends.ErrInvalid)
}

func (s *suite) testOfflineNoSharedMemory(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom := domain(t)
	in := msg(dom, "frank", 1)
	want := bytes.Clone(in.Raw)
	stored, _ := appendOK(t, o, 0, in)
	in.Raw[1] = 'X' // the caller reuses its buffer
	got, err := o.OfflineMessages(t.Context(), dom, "frank", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("OfflineMessages: %d, %v", len(got), err)
	}
	got[0].Raw[1] = 'Y' // the caller modifies what it got
	stored[0].Raw = want
	wantOffline(t, o, dom, "frank", stored)
}

func (s *suite) testOfflineStampDefault(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom := domain(t)
	m := msg(dom, "gina", 1)
	m.Stamp = time.Time{}
	before := time.Now().Add(-time.Second)
	appendOK(t, o, 0, m)
	got, err := o.OfflineMessages(t.Context(), dom, "gina", 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("OfflineMessages: %d, %v", len(got), err)
	}
	if got[0].Stamp.Before(before) || got[0].Stamp.After(time.Now().Add(time.Second)) {
		t.Fatalf("a zero Stamp was stored as %s, not the current time", got[0].Stamp)
	}
	// A finer stamp is kept to the millisecond.
	m.Stamp = time.Unix(1_700_000_000, 123_456_789)
	appendOK(t, o, 0, m)
	got, _ = o.OfflineMessages(t.Context(), dom, "gina", 2)
	if want := time.Unix(1_700_000_000, 123_000_000); len(got) != 2 || !got[1].Stamp.Equal(want) {
		t.Fatalf("stamp %s stored as %v, want %s", m.Stamp, got, want)
	}
}

func (s *suite) testOfflineConcurrentLimit(t *testing.T) {
	o := offlineStore(t, s.open(t))
	dom := domain(t)
	const workers, each, limit = 8, 10, 25
	errs := parallel(workers, func(w int) error {
		for i := range each {
			if _, err := o.AppendOffline(context.Background(), []backends.OfflineMessage{msg(dom, "hank", w*each+i)}, limit); err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("parallel AppendOffline: %v", err)
	}
	got, err := o.OfflineMessages(t.Context(), dom, "hank", 1000)
	if err != nil || len(got) != limit {
		t.Fatalf("after %d concurrent appends with limit %d: %d messages stored, %v", workers*each, limit, len(got), err)
	}
	seen := map[uint64]bool{}
	for _, m := range got {
		if seen[m.Seq] {
			t.Fatalf("Seq %d given twice", m.Seq)
		}
		seen[m.Seq] = true
	}
}

func (s *suite) testOfflinePersistence(t *testing.T) {
	if s.cfg.reopen == nil {
		t.Skip("the store is not durable (no Reopen option)")
	}
	st := s.open(t)
	o := offlineStore(t, st)
	dom := domain(t)
	stored, _ := appendOK(t, o, 0, msg(dom, "ivy", 1), msg(dom, "ivy", 2), msg(dom, "ivy", 3))
	if _, err := o.DeleteOffline(t.Context(), dom, "ivy", stored[0].Seq); err != nil {
		t.Fatalf("DeleteOffline: %v", err)
	}
	st = s.cfg.reopen(t, st)
	t.Cleanup(func() { _ = st.Close() })
	o = offlineStore(t, st)
	wantOffline(t, o, dom, "ivy", stored[1:])
	_, seqs := appendOK(t, o, 0, msg(dom, "ivy", 4))
	if seqs[0] <= stored[2].Seq {
		t.Fatalf("Seq %d given after a reopen is not above the last one, %d", seqs[0], stored[2].Seq)
	}
}
