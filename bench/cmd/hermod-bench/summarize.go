package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/hermod-im/hermod/bench/stats"
)

// summarize reads result lines (--json files of several runs) and prints, per label,
// the median of each headline figure with its range and the number of runs, as
// Markdown tables: the form BENCHMARKS.md quotes.
func summarize(paths []string, w io.Writer) error {
	var reps []*report
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("summarize: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 1<<26)
		for sc.Scan() {
			var r report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				f.Close()
				return fmt.Errorf("summarize: %s: %w", p, err)
			}
			if r.Scenario != "idle" {
				reps = append(reps, &r)
				continue
			}
			// One row per stage: label @sessions.
			for _, st := range r.Idle {
				c := r
				c.Label = fmt.Sprintf("%s @%d", r.Label, st.Target)
				c.Idle = []*idleFigures{st}
				reps = append(reps, &c)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("summarize: %s: %w", p, err)
		}
	}
	var labels []string
	byLabel := map[string][]*report{}
	for _, r := range reps {
		if _, ok := byLabel[r.Label]; !ok {
			labels = append(labels, r.Label)
		}
		byLabel[r.Label] = append(byLabel[r.Label], r)
	}
	for _, sc := range []string{"idle", "login", "messages", "max-message-rate", "presence", "muc"} {
		cols := columns[sc]
		header := false
		for _, l := range labels {
			rs := byLabel[l]
			if rs[0].Scenario != sc {
				continue
			}
			if !header {
				fmt.Fprintf(w, "\n| %s run | runs |", sc)
				for _, c := range cols {
					fmt.Fprintf(w, " %s |", c.name)
				}
				fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(cols)))
				header = true
			}
			fmt.Fprintf(w, "| %s | %d |", l, len(rs))
			for _, c := range cols {
				vals := make([]float64, 0, len(rs))
				for _, r := range rs {
					vals = append(vals, c.get(r))
				}
				fmt.Fprintf(w, " %s |", medianCell(vals, c.format))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// medianCell formats the median, and the range when the values differ.
func medianCell(v []float64, format string) string {
	s := slices.Clone(v)
	slices.Sort(s)
	var med float64
	if n := len(s); n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	if s[0] == s[len(s)-1] {
		return fmt.Sprintf(format, med)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", med, s[0], s[len(s)-1])
}

type column struct {
	name, format string
	get          func(*report) float64
}

var columns = map[string][]column{
	"idle": {
		{"sessions held", "%.0f", func(r *report) float64 { return float64(r.Idle[0].Connected) }},
		{"RSS/session KiB", "%.2f", func(r *report) float64 { return r.Idle[0].RSSPerSession / 1024 }},
		{"kernel sockstat/session KiB (both ends)", "%.2f", func(r *report) float64 { return r.Idle[0].SockstatPerSession / 1024 }},
		{"kernel slab/session KiB (both ends)", "%.2f", func(r *report) float64 { return r.Idle[0].SlabPerSession / 1024 }},
		{"server CPU ms/login", "%.2f", func(r *report) float64 { return r.Idle[0].ConnectCPUPerLogin }},
		{"logins/s while ramping", "%.0f", func(r *report) float64 { return r.Idle[0].ConnectRatePerSec }},
	},
	"login": {
		{"logins/s", "%.0f", func(r *report) float64 { return r.Login.PerSec }},
		{"logins/server CPU-s", "%.0f", func(r *report) float64 { return r.Login.PerCPUSec }},
		{"server CPU s", "%.2f", func(r *report) float64 { return r.Login.ServerCPU }},
		{"harness CPU s", "%.2f", func(r *report) float64 { return r.Harness.CPU }},
		{"failed", "%.0f", func(r *report) float64 { return float64(r.Login.Failed) }},
		{"cycle p99 ms", "%.1f", func(r *report) float64 { return r.Login.P99ms }},
	},
	"messages": {
		{"offered/s", "%.0f", func(r *report) float64 { return r.Messages.SentPerSec }},
		{"delivered/s", "%.0f", func(r *report) float64 { return r.Messages.PerSec }},
		{"delivered/server CPU-s", "%.0f", func(r *report) float64 { return r.Messages.PerCPUSec }},
		{"harness CPU s", "%.2f", func(r *report) float64 { return r.Harness.CPU }},
		{"server CPU s", "%.2f", func(r *report) float64 { return r.Messages.ServerCPU }},
		{"lost", "%.0f", func(r *report) float64 { return float64(r.Messages.Lost) }},
		{"p50 ms", "%.2f", func(r *report) float64 { return r.Messages.P50us / 1000 }},
		{"p99 ms", "%.2f", func(r *report) float64 { return r.Messages.P99us / 1000 }},
	},
	"max-message-rate": {
		{"highest sustained rate/s", "%.0f", func(r *report) float64 { return r.Steps.MaxSustained }},
		{"delivered/s there", "%.0f", func(r *report) float64 { return r.Steps.MaxDelivered }},
		{"delivered/server CPU-s there", "%.0f", func(r *report) float64 { return sustainedStep(r).PerCPUSec }},
		{"p99 ms there", "%.2f", func(r *report) float64 { return sustainedStep(r).P99us / 1000 }},
		{"steps", "%.0f", func(r *report) float64 { return float64(len(r.Steps.Steps)) }},
	},
	"presence": fanoutColumns,
	"muc":      fanoutColumns,
}

// fanoutColumns are the presence and muc figures: one stanza sent, many delivered.
var fanoutColumns = []column{
	{"sent/s", "%.0f", func(r *report) float64 { return r.Messages.SentPerSec }},
	{"delivered/s", "%.0f", func(r *report) float64 { return r.Messages.PerSec }},
	{"server CPU µs/delivered", "%.1f", func(r *report) float64 { return r.Messages.CPUPerDlv }},
	{"delivered/server CPU-s", "%.0f", func(r *report) float64 { return r.Messages.PerCPUSec }},
	{"harness CPU s", "%.2f", func(r *report) float64 { return r.Harness.CPU }},
	{"lost", "%.0f", func(r *report) float64 { return float64(r.Messages.Lost) }},
	{"p50 ms", "%.2f", func(r *report) float64 { return r.Messages.P50us / 1000 }},
	{"p99 ms", "%.2f", func(r *report) float64 { return r.Messages.P99us / 1000 }},
}

// sustainedStep returns the figures of the highest sustained step (zero if none).
func sustainedStep(r *report) *messageFigures {
	for _, st := range r.Steps.Steps {
		if st.Sustained && st.Rate == r.Steps.MaxSustained {
			return st.Figures
		}
	}
	return &messageFigures{Latency: &stats.Histogram{}}
}
