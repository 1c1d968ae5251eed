package web

import (
	"net/http"
	"time"

	"github.com/taskware/taskware/internal/rows"
)

// overviewData is the overview, and api/overview.
type overviewData struct {
	Queues []rows.Queue `json:"queues"`
	// Rates are the outcome counts of the window asked for (?window=),
	// by queue; nil if they failed (RatesError).
	Rates      *ratesData `json:"rates"`
	RatesError string     `json:"rates_error,omitempty"`
	// Window is the window charted.
	Window chartWindow `json:"-"`
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
		}{{"partitions", q.Partitions}, {"ready", q.Ready}, {"running", q.Running}, {"delayed", q.Delayed}, {"dead", q.Dead}, {"waiting", q.Waiting}, {"grouped", q.Grouped},
			{"oldest", q.Oldest()}, {"workers", q.Workers}, {"paused", pausedText(q.Paused)}} {
			d.set(f.v, "q", q.Queue, f.name)
		}
	}
	win := windowParam(r)
	d.Window = win
	if d.Rates, err = h.rates(ctx, names, win, time.Now()); err != nil {
		d.RatesError = h.cfg.redact(err.Error())
	}
	if d.Rates != nil {
		d.Rates.live(&d.liveData)
	}
	return &view{Title: "Overview", Nav: "overview", Data: d, API: "api/overview?window=" + win.Name, template: "overview"}, nil
}
