package authmethods

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hermod-im/hermod/engine/config"
)

// External is the external method: ejabberd's extauth protocol. Requests go to the
// program's stdin as a 2-byte big-endian length and "auth:User:Server:Password" or
// "isuser:User:Server"; the program answers on stdout with a 2-byte length (2) and a
// 2-byte result, 1 for yes and 0 for no. A pool of instances runs, each serving one
// request at a time; an instance that dies, answers garbage or misses the timeout is
// killed and started again on its next request (at most once per restartDelay).
type External struct {
	program string
	args    []string
	domain  string
	timeout time.Duration
	log     *slog.Logger
	slots   chan *extSlot // the idle instances; a request takes one and gives it back
	n       int
	once    sync.Once
}

// extSlot is one instance of the program, running or not. Only the request holding
// the slot touches it.
type extSlot struct {
	cmd     *exec.Cmd
	in      *os.File // the program's stdin, our end
	out     *os.File // the program's stdout, our end
	started time.Time
}

// restartDelay is the least time between two starts of one instance: a program that
// dies at once fails logins quickly instead of being forked on every request.
const restartDelay = time.Second

// NewExternal starts the configured instances of the program for domain. It fails when
// the program cannot be started.
func NewExternal(c config.AuthExternal, domain string, log *slog.Logger) (*External, error) {
	m := &External{
		program: c.Program,
		args:    c.Args,
		domain:  domain,
		timeout: c.Timeout.D,
		log:     log.With("method", "external", "program", c.Program),
		n:       max(c.Instances, 1),
	}
	if m.timeout <= 0 {
		m.timeout = 5 * time.Second
	}
	slots := make([]*extSlot, m.n)
	for i := range slots {
		slots[i] = &extSlot{}
		if err := m.start(slots[i]); err != nil {
			for _, s := range slots[:i] {
				m.stop(s)
			}
			return nil, err
		}
	}
	m.slots = make(chan *extSlot, m.n)
	for _, s := range slots {
		m.slots <- s
	}
	return m, nil
}

// start runs the program in slot s.
func (m *External) start(s *extSlot) error {
	s.started = time.Now()
	inR, inW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("external: pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fmt.Errorf("external: pipe: %w", err)
	}
	cmd := exec.Command(m.program, m.args...)
	cmd.Stdin, cmd.Stdout = inR, outW
	stderr, err := cmd.StderrPipe()
	if err == nil {
		err = cmd.Start()
	}
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return fmt.Errorf("external: start %s: %w", m.program, err)
	}
	go m.logStderr(stderr, cmd.Process.Pid)
	s.cmd, s.in, s.out = cmd, inW, outR
	return nil
}

// logStderr logs what an instance writes on stderr, line by line, until it exits.
func (m *External) logStderr(r io.Reader, pid int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), 64*1024)
	for sc.Scan() {
		m.log.Warn("external auth program", "pid", pid, "stderr", sc.Text())
	}
}

// stop kills the instance in s, if any, and reaps it.
func (m *External) stop(s *extSlot) {
	if s.cmd == nil {
		return
	}
	s.in.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.out.Close()
	s.cmd, s.in, s.out = nil, nil, nil
}

// Name implements Method.
func (*External) Name() string { return "external" }

// CheckPassword implements Method.
func (m *External) CheckPassword(ctx context.Context, user, password string) (bool, error) {
	return m.call(ctx, "auth:"+user+":"+m.domain+":"+password)
}

// UserExists implements Method.
func (m *External) UserExists(ctx context.Context, user string) (bool, error) {
	return m.call(ctx, "isuser:"+user+":"+m.domain)
}

// errExternalClosed: Close has run.
var errExternalClosed = errors.New("external: closed")

// call sends one request to a free instance and reads its answer.
func (m *External) call(ctx context.Context, req string) (bool, error) {
	if len(req) > 0xffff {
		return false, nil // cannot be framed: no such password is valid
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var s *extSlot
	select {
	case s = <-m.slots:
	case <-ctx.Done():
		return false, fmt.Errorf("external: every instance busy: %w", ctx.Err())
	}
	if s == nil { // closed: put the marker back for the next caller
		m.slots <- nil
		return false, errExternalClosed
	}
	defer func() { m.slots <- s }()
	if s.cmd == nil {
		if since := time.Since(s.started); since < restartDelay {
			return false, fmt.Errorf("external: program died %v ago, not restarted yet", since.Round(time.Millisecond))
		}
		if err := m.start(s); err != nil {
			return false, err
		}
	}
	ok, err := m.exchange(ctx, s, req)
	if err != nil {
		m.log.Warn("restarting an external auth instance", "err", err)
		m.stop(s)
	}
	return ok, err
}

// exchange writes one framed request to s and reads its framed answer, by ctx's
// deadline.
func (m *External) exchange(ctx context.Context, s *extSlot, req string) (bool, error) {
	deadline, _ := ctx.Deadline()
	if err := s.in.SetWriteDeadline(deadline); err != nil {
		return false, fmt.Errorf("external: %w", err)
	}
	if err := s.out.SetReadDeadline(deadline); err != nil {
		return false, fmt.Errorf("external: %w", err)
	}
	frame := make([]byte, 2, 2+len(req))
	binary.BigEndian.PutUint16(frame, uint16(len(req)))
	frame = append(frame, req...)
	if _, err := s.in.Write(frame); err != nil {
		return false, fmt.Errorf("external: write request: %w", err)
	}
	clear(frame) // it held the password
	var ans [4]byte
	if _, err := io.ReadFull(s.out, ans[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false, fmt.Errorf("external: no answer within %v: %w", m.timeout, context.DeadlineExceeded)
		}
		return false, fmt.Errorf("external: read answer: %w", err)
	}
	if n := binary.BigEndian.Uint16(ans[:2]); n != 2 {
		return false, fmt.Errorf("external: answer length %d, want 2", n)
	}
	switch binary.BigEndian.Uint16(ans[2:]) {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("external: answer %d is neither 0 nor 1", binary.BigEndian.Uint16(ans[2:]))
}

// Close implements Method: it waits for the requests in progress (each bounded by the
// timeout), then ends every instance.
func (m *External) Close() error {
	m.once.Do(func() {
		for range m.n {
			s := <-m.slots
			if s != nil {
				m.stop(s)
			}
		}
		m.slots <- nil
	})
	return nil
}
