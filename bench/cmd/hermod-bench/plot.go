package main

import (
	"errors"
	"fmt"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// chart is one PNG drawn from columns of the time-series CSV.
type chart struct {
	suffix, title, ylabel string
	lines                 []chartLine
}

type chartLine struct{ column, legend string }

// charts are the PNGs written beside a run's CSV: CPU and RSS over time (the seed's
// "CPU mean" and "RAM usage"), latency percentiles and stanza rates over time.
var charts = []chart{
	{"cpu", "CPU over time", "% of one core", []chartLine{{"server_cpu_pct", "server"}, {"harness_cpu_pct", "harness (all processes)"}}},
	{"rss", "RSS over time", "MiB", []chartLine{{"server_rss_mib", "server"}, {"harness_rss_mib", "harness (all processes)"}}},
	{"latency", "Delivery latency per interval", "µs", []chartLine{{"p50_us", "p50"}, {"p99_us", "p99"}}},
	{"rate", "Rates over time", "per second", []chartLine{{"sent_per_s", "sent"}, {"delivered_per_s", "delivered"}, {"logins_per_s", "logins"}, {"target_rate", "target"}}},
	{"online", "Sessions online", "sessions", []chartLine{{"online", "online"}}},
}

// chartPath returns the PNG path of chart suffix beside csvPath.
func chartPath(csvPath, suffix string) string {
	return strings.TrimSuffix(csvPath, ".csv") + "-" + suffix + ".png"
}

// plotCSV draws every chart of csvPath beside it and returns the files written.
// Lines whose column is absent or all zero are left out; a chart with no line is
// not written.
func plotCSV(csvPath, title string) ([]string, error) {
	cols, _, err := readCSV(csvPath)
	if err != nil {
		return nil, err
	}
	xs := cols["t_s"]
	if len(xs) == 0 {
		return nil, fmt.Errorf("plot %s: no rows with a t_s column", csvPath)
	}
	var written []string
	var errs []error
	for _, c := range charts {
		p := plot.New()
		p.Title.Text = c.title
		if title != "" {
			p.Title.Text = title + ": " + c.title
		}
		p.X.Label.Text = "seconds"
		p.Y.Label.Text = c.ylabel
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		p.Legend.Top, p.Legend.Left = true, true
		p.Legend.Padding = vg.Points(4)
		n, ymax := 0, 0.0
		for i, l := range c.lines {
			ys := cols[l.column]
			if len(ys) != len(xs) || allZero(ys) {
				continue
			}
			pts := make(plotter.XYs, len(xs))
			for k := range xs {
				pts[k].X, pts[k].Y = xs[k], ys[k]
				ymax = max(ymax, ys[k])
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				errs = append(errs, fmt.Errorf("plot %s %s: %w", c.suffix, l.column, err))
				continue
			}
			line.Color = plotutil.Color(i)
			line.Width = vg.Points(1.5)
			p.Add(line)
			p.Legend.Add(l.legend, line)
			n++
		}
		if n == 0 {
			continue
		}
		p.Y.Max = ymax * 1.3 // room for the legend above the lines
		out := chartPath(csvPath, c.suffix)
		if err := p.Save(20*vg.Centimeter, 10*vg.Centimeter, out); err != nil {
			errs = append(errs, fmt.Errorf("plot %s: %w", out, err))
			continue
		}
		written = append(written, out)
	}
	return written, errors.Join(errs...)
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
