package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
)

// chartWindow is a span of time the overview charts, cut in buckets.
type chartWindow struct {
	// Name is as in the URL (?window=1h), Label as shown.
	Name, Label  string
	Span, Bucket time.Duration
}

// chartWindows are the windows the overview offers, the first the default.
// A day of minutes is too many bars: it charts quarter hours.
var chartWindows = []chartWindow{
	{"15m", "15 min", 15 * time.Minute, time.Minute},
	{"1h", "1 h", time.Hour, time.Minute},
	{"24h", "24 h", 24 * time.Hour, 15 * time.Minute},
}

func (w chartWindow) buckets() int { return int(w.Span / w.Bucket) }

// windowParam reads ?window=: the first window unless it names another.
func windowParam(r *http.Request) chartWindow {
	for _, w := range chartWindows {
		if w.Name == r.FormValue("window") {
			return w
		}
	}
	return chartWindows[0]
}

// ratesData is the outcome counts of a window, by queue: one row per
// series, one chart per queue in each row.
type ratesData struct {
	Window string `json:"window"`
	// Starts are the buckets' starts, oldest first, each BucketSeconds
	// long.
	Starts        []time.Time `json:"starts"`
	BucketSeconds int64       `json:"bucket_seconds"`
	Rows          []chartRow  `json:"rows"`
	window        chartWindow
}

// chartRow is one series, charted for each queue.
type chartRow struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Total is of all queues over the window.
	Total int64 `json:"total"`
	// Top is the scale's top, shared by the row's charts so that they
	// compare: a round number at least their largest count.
	Top    int64   `json:"top"`
	Charts []chart `json:"charts"`
}

// chart is one queue's counts of a series, one per bucket.
type chart struct {
	Queue  string  `json:"queue"`
	Counts []int64 `json:"counts"`
	Total  int64   `json:"total"`
}

// seriesDefs are the series the overview charts, a row each.
var seriesDefs = []struct {
	name, label string
	count       func(queue.OutcomeCounts) int64
}{
	{"throughput", "Finished (all outcomes)", queue.OutcomeCounts.Ended},
	{"succeeded", "Succeeded", func(c queue.OutcomeCounts) int64 { return c.Succeeded }},
	{"failed", "Failed", func(c queue.OutcomeCounts) int64 { return c.Failed }},
	{"dead", "Dead-lettered", func(c queue.OutcomeCounts) int64 { return c.Dead }},
	{"skipped", "Skipped (all reasons)", queue.OutcomeCounts.SkippedTotal},
	{"skipped_locked", "Skipped: locked", func(c queue.OutcomeCounts) int64 { return c.Skipped[lock.ErrLocked.ErrorKind()] }},
	{"retried", "Retried", func(c queue.OutcomeCounts) int64 { return c.Retried }},
}

// rates reads the counts of queues over w, up to now: one Rates call
// (one round trip on Redis) per queue.
func (h *handler) rates(ctx context.Context, queues []string, w chartWindow, now time.Time) (*ratesData, error) {
	n := w.buckets()
	first := now.Truncate(w.Bucket).Add(-time.Duration(n-1) * w.Bucket)
	d := &ratesData{Window: w.Name, BucketSeconds: int64(w.Bucket / time.Second), Starts: make([]time.Time, n), window: w}
	for i := range d.Starts {
		d.Starts[i] = first.Add(time.Duration(i) * w.Bucket).UTC()
	}
	sums := make([][]queue.OutcomeCounts, len(queues))
	for qi, q := range queues {
		cs, err := h.src.Queue.Rates(ctx, q, first)
		if err != nil {
			return nil, err
		}
		sums[qi] = make([]queue.OutcomeCounts, n)
		for _, c := range cs {
			i := int(c.Minute.Sub(first) / w.Bucket)
			if c.Minute.Before(first) || i >= n {
				continue
			}
			sums[qi][i].Add(c)
		}
	}
	for _, def := range seriesDefs {
		row := chartRow{Name: def.name, Label: def.label, Charts: []chart{}}
		var largest int64
		for qi, q := range queues {
			c := chart{Queue: q, Counts: make([]int64, n)}
			for i, s := range sums[qi] {
				c.Counts[i] = def.count(s)
				c.Total += c.Counts[i]
				largest = max(largest, c.Counts[i])
			}
			row.Total += c.Total
			row.Charts = append(row.Charts, c)
		}
		row.Top = roundUp(largest)
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// live sets the numbers the page's script updates: each row's total and
// scale, each chart's total, and the time axis' labels.
func (d *ratesData) live(l *liveData) {
	for _, row := range d.Rows {
		l.set(row.Total, "rate", row.Name, "total")
		l.set(row.Top, "rate", row.Name, "top")
		for _, c := range row.Charts {
			l.set(c.Total, "rate", row.Name, c.Queue, "total")
		}
	}
	for _, a := range d.axis() {
		l.set(a.Text, "axis", a.Key)
	}
}

// roundUp is the least of 1, 2 and 5 times a power of ten that is at
// least n.
func roundUp(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// The charts' geometry, in SVG units; static/app.js redraws the bars with
// the same.
const (
	plotLeft   = 34 // room for the scale's labels
	plotTop    = 6
	plotWidth  = 240
	plotHeight = 40
	chartWidth = plotLeft + plotWidth + 6
	// chartHeight leaves room below the plot for the time labels.
	chartHeight = plotTop + plotHeight + 14
)

// plot is a chart laid out: its bars, its scale and its time axis.
type plot struct {
	Row, Queue string
	Aria       string
	Top, Total int64
	Bars       []bar
	Axis       []axisLabel
	geometry
}

// geometry is the charts' geometry, for the template.
type geometry struct {
	Width, Height, Left, Right, TopY, MidY, BaseY, LabelY int
}

var chartGeometry = geometry{Width: chartWidth, Height: chartHeight, Left: plotLeft, Right: plotLeft + plotWidth,
	TopY: plotTop, MidY: plotTop + plotHeight/2, BaseY: plotTop + plotHeight, LabelY: chartHeight - 2}

// bar is one bucket's bar, with its hover text; a bucket that counts
// nothing has none.
type bar struct {
	I          int
	X, Y, W, H string
	Title      string
}

// axisLabel is a time under the plot.
type axisLabel struct {
	Key, Text string
	X         int
	Anchor    string
}

// axis labels the window's start, middle and end.
func (d *ratesData) axis() []axisLabel {
	n := len(d.Starts)
	if n == 0 {
		return nil
	}
	end := d.Starts[n-1].Add(time.Duration(d.BucketSeconds) * time.Second)
	return []axisLabel{
		{"start", d.Starts[0].Format("15:04"), plotLeft, "start"},
		{"mid", d.Starts[n/2].Format("15:04"), plotLeft + plotWidth/2, "middle"},
		{"end", end.Format("15:04") + " UTC", plotLeft + plotWidth, "end"},
	}
}

// plotOf lays out c, a chart of row, on the row's shared scale.
func plotOf(d *ratesData, row chartRow, c chart) plot {
	p := plot{geometry: chartGeometry, Row: row.Name, Queue: c.Queue, Top: row.Top, Total: c.Total, Axis: d.axis(),
		Aria: fmt.Sprintf("%s on %s, per %s over the last %s: %d in all, at most %d a bar",
			row.Label, c.Queue, bucketText(d.window.Bucket), d.window.Label, c.Total, row.Top)}
	step := float64(plotWidth) / float64(max(len(c.Counts), 1))
	for i, v := range c.Counts {
		if v == 0 {
			continue // no bar: a day of 140 charts is mostly empty minutes
		}
		h := max(1, float64(v)*plotHeight/float64(max(row.Top, 1)))
		from := d.Starts[i]
		title := c.Queue + ", " + from.Format("15:04")
		if d.BucketSeconds > 60 {
			title += "–" + from.Add(time.Duration(d.BucketSeconds)*time.Second).Format("15:04")
		}
		p.Bars = append(p.Bars, bar{I: i, X: num(plotLeft + float64(i)*step + step*0.1), W: num(step * 0.8),
			Y: num(plotTop + plotHeight - h), H: num(h), Title: title + " UTC: " + strconv.FormatInt(v, 10)})
	}
	return p
}

// Label is the window's, as shown: "1 h".
func (d *ratesData) Label() string { return d.window.Label }

// BucketText is a bucket's length in words: "minute", "quarter hour".
func (d *ratesData) BucketText() string { return bucketText(d.window.Bucket) }

func bucketText(d time.Duration) string {
	if d == time.Minute {
		return "minute"
	}
	if d == 15*time.Minute {
		return "quarter hour"
	}
	return d.String()
}

// num prints an SVG coordinate to two decimals at most.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
