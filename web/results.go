package web

import (
	"net/http"
	"slices"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/store"
)

// resultsData is the results page, and api/results.
type resultsData struct {
	// Available says whether the Source has a result store.
	Available bool               `json:"available"`
	Queues    []rows.ResultStats `json:"queues"`
	Total     int                `json:"total"`
	// Recent are the latest records stored.
	Recent []rows.Record `json:"recent"`
	liveData
}

func (h *handler) results(r *http.Request) (*view, error) {
	d := &resultsData{Available: h.src.Results != nil, Queues: []rows.ResultStats{}, Recent: []rows.Record{},
		liveData: liveData{Rows: []string{}}}
	if d.Available {
		recs, err := h.src.Results.List(r.Context())
		if err != nil {
			return nil, err
		}
		d.Queues = rows.ResultStatsOf(recs)
		for _, rq := range d.Queues {
			d.Total += rq.Records
			d.Rows = append(d.Rows, rq.Queue)
			d.set(rq.Succeeded, "results", rq.Queue, "succeeded")
			d.set(rq.Failed, "results", rq.Queue, "failed")
			d.set(rq.Skipped, "results", rq.Queue, "skipped")
			d.set(rq.Records, "results", rq.Queue, "total")
		}
		d.Recent = latestRecords(recs)
	}
	d.set(d.Total, "results", "total")
	return &view{Title: "Results", Nav: "results", Data: d, API: "api/results", template: "results", Slow: true}, nil
}

// latestRecords are the rows of the latest records stored, the latest
// first; never nil.
func latestRecords(recs []*store.Record) []rows.Record {
	recent := slices.Clone(recs)
	slices.SortStableFunc(recent, func(a, b *store.Record) int { return b.At.Compare(a.At) })
	out := []rows.Record{}
	for _, rec := range recent[:min(len(recent), recentRecords)] {
		out = append(out, rows.RecordOf(rec))
	}
	return out
}
