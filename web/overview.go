package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
)

// overviewData is the overview, and api/overview.
type overviewData struct {
	Queues []rows.Queue `json:"queues"`
	// Rates are the outcome counts of the last 15 minutes, of all queues;
	// nil if the Source has no rates, or they failed (RatesError).
	Rates      *ratesData `json:"rates"`
	RatesError string     `json:"rates_error,omitempty"`
	liveData
}

func (h *handler) overview(r *http.Request) (*view, error) {
	ctx := r.Context()
	names, err := h.src.Queue.Queues(ctx)
	if err != nil {
		return nil, err
	}
	d := &overviewData{liveData: liveData{Rows: []string{}}}
	if d.Queues, err = rows.ReadQueues(ctx, h.src.Queue, names); err != nil {
		return nil, err
	}
	for _, q := range d.Queues {
		d.Rows = append(d.Rows, q.Queue)
		for _, f := range []struct {
			name string
			v    any
		}{{"ready", q.Ready}, {"running", q.Running}, {"delayed", q.Delayed}, {"dead", q.Dead},
			{"oldest", q.Oldest()}, {"workers", q.Workers}, {"paused", pausedText(q.Paused)}} {
			d.set(f.v, "q", q.Queue, f.name)
		}
	}
	if d.Rates, err = h.rates(ctx, names); err != nil {
		d.RatesError = h.cfg.redact(err.Error())
	}
	if d.Rates != nil {
		for _, s := range d.Rates.Series {
			d.set(s.Total, "rate", s.Name, "total")
		}
	}
	return &view{Title: "Overview", Nav: "overview", Data: d, API: "api/overview", template: "overview"}, nil
}

// rateMinutes is how many minutes the overview charts.
const rateMinutes = 15

// ratesData is the outcome counts of the last minutes, of all queues.
type ratesData struct {
	// Minutes are the minutes' starts, oldest first.
	Minutes []time.Time `json:"minutes"`
	Series  []series    `json:"series"`
}

// series is one count over the minutes.
type series struct {
	Name   string  `json:"name"`
	Label  string  `json:"label"`
	Counts []int64 `json:"counts"`
	Total  int64   `json:"total"`
	// minutes, for the bars' titles.
	minutes []time.Time
}

// seriesDefs are the series the overview charts.
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

func (h *handler) rates(ctx context.Context, queues []string) (*ratesData, error) {
	last := time.Now().Truncate(time.Minute)
	first := last.Add(-(rateMinutes - 1) * time.Minute)
	sum := make([]queue.OutcomeCounts, rateMinutes)
	for _, q := range queues {
		cs, err := h.src.Queue.Rates(ctx, q, first)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			i := int(c.Minute.Sub(first) / time.Minute)
			if c.Minute.Before(first) || i >= rateMinutes {
				continue
			}
			sum[i].Add(c)
		}
	}
	d := &ratesData{Minutes: make([]time.Time, rateMinutes)}
	for i := range d.Minutes {
		d.Minutes[i] = first.Add(time.Duration(i) * time.Minute).UTC()
	}
	for _, def := range seriesDefs {
		s := series{Name: def.name, Label: def.label, Counts: make([]int64, rateMinutes), minutes: d.Minutes}
		for i, c := range sum {
			s.Counts[i] = def.count(c)
			s.Total += s.Counts[i]
		}
		d.Series = append(d.Series, s)
	}
	return d, nil
}

// The charts' geometry, in SVG units; static/app.js draws with the same.
const (
	chartHeight = 40
	barStep     = 10
	barWidth    = 8
)

// bar is one minute's bar of a chart.
type bar struct {
	I       int
	X, Y, H int
	Title   string
}

// bars lays out s's bars, scaled to its largest count.
func bars(s series) []bar {
	top := max(slices.Max(append([]int64{1}, s.Counts...)), 1)
	out := make([]bar, len(s.Counts))
	for i, c := range s.Counts {
		h := 0
		if c > 0 {
			h = max(1, int((c*chartHeight+top/2)/top))
		}
		title := strconv.FormatInt(c, 10)
		if i < len(s.minutes) {
			title = s.minutes[i].Format("15:04") + " UTC: " + title
		}
		out[i] = bar{I: i, X: i*barStep + 1, Y: chartHeight - h, H: h, Title: title}
	}
	return out
}
