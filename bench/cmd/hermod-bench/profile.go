package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// checkLoopbackURL accepts http URLs of loopback hosts only: the harness never talks
// to another machine.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: http or https URLs only", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: loopback hosts only", raw)
	}
	return nil
}

// profiler fetches pprof profiles from a server's debug endpoint and saves them
// beside the run's CSV. The driver's goroutine calls start and finish.
type profiler struct {
	base   string // URL up to /debug/pprof
	prefix string // output path prefix
	secs   int
	done   chan error
	files  []string
}

func newProfiler(base, prefix string, secs int) *profiler {
	base = strings.TrimSuffix(base, "/")
	base = strings.TrimSuffix(base, "/debug/pprof")
	return &profiler{base: base + "/debug/pprof", prefix: prefix, secs: secs}
}

// start begins a CPU profile of secs seconds (at least 1, at most 60) in the background.
func (p *profiler) start(ctx context.Context, phase time.Duration) {
	secs := p.secs
	if secs == 0 {
		secs = int(phase.Seconds())
	}
	secs = min(max(secs, 1), 60)
	p.done = make(chan error, 1)
	out := p.prefix + "-cpu.pprof"
	p.files = append(p.files, out)
	go func() {
		p.done <- fetchTo(ctx, p.base+"/profile?seconds="+strconv.Itoa(secs), out, time.Duration(secs+30)*time.Second)
	}()
}

// finish waits for the CPU profile and fetches the heap profile.
func (p *profiler) finish(ctx context.Context) error {
	var errs []error
	if p.done != nil {
		errs = append(errs, <-p.done)
	}
	out := p.prefix + "-heap.pprof"
	p.files = append(p.files, out)
	errs = append(errs, fetchTo(ctx, p.base+"/heap", out, 30*time.Second))
	return errors.Join(errs...)
}

// fetchTo saves the body of a GET of u to path.
func fetchTo(ctx context.Context, u, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("profile %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("profile %s: %s: %s", u, resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", u, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}
