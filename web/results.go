package web

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/store"
)

// resultsData is the results page, and api/results.
type resultsData struct {
	// Available says whether the Source has a result store.
	Available bool               `json:"available"`
	Queues    []rows.ResultStats `json:"queues"`
	Total     int                `json:"total"`
	// Recent are a page of the records stored that match Find, the latest
	// first.
	Recent []rows.Record `json:"recent"`
	Find   findParams    `json:"find"`
	// Queue keeps the records of one queue (?queue=, "" in-process), if
	// ByQueue.
	Queue   string    `json:"queue,omitempty"`
	ByQueue bool      `json:"by_queue,omitempty"`
	Page    pageLinks `json:"page"`
	liveData
}

// recordStatuses are the statuses the results page filters by.
var recordStatuses = []string{string(store.Succeeded), string(store.Failed), string(store.Skipped)}

// Statuses lists the statuses to filter by.
func (*resultsData) Statuses() []string { return recordStatuses }

func (h *handler) results(r *http.Request) (*view, error) {
	find, tq, err := findParamsOf(r, "")
	if err != nil {
		return nil, err
	}
	if find.Status != "" && !slices.Contains(recordStatuses, find.Status) {
		return nil, &httpError{http.StatusBadRequest, "Bad status: say succeeded, failed or skipped."}
	}
	d := &resultsData{Available: h.src.Results != nil, Queues: []rows.ResultStats{}, Recent: []rows.Record{},
		Find: find, Queue: r.FormValue("queue"), ByQueue: r.Form.Has("queue"), liveData: liveData{Rows: []string{}}}
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
		if d.Recent, d.Page, err = recordPage(recs, d, tq); err != nil {
			return nil, err
		}
	}
	d.set(d.Total, "results", "total")
	return &view{Title: "Results", Nav: "results", Data: d, API: "api/results", template: "results", Slow: true}, nil
}

// recordPage is the page of recs that d.Find asks for, the latest first,
// and its links. The page reads every record (the per-queue counts above
// need them all); its cursor is the time and ID of its last record.
func recordPage(recs []*store.Record, d *resultsData, tq queue.TaskQuery) ([]rows.Record, pageLinks, error) {
	recent := slices.Clone(recs)
	slices.SortStableFunc(recent, func(a, b *store.Record) int {
		return cmp.Or(micros(b.At).Compare(micros(a.At)), strings.Compare(recordKey(a), recordKey(b)))
	})
	start := 0
	if d.Find.After != "" {
		raw, err := base64.RawURLEncoding.DecodeString(d.Find.After)
		us, key, ok := strings.Cut(string(raw), "-")
		n, err2 := strconv.ParseInt(us, 10, 64)
		if err != nil || !ok || err2 != nil {
			return nil, pageLinks{}, &httpError{http.StatusBadRequest, "Bad page cursor: start again from the first page."}
		}
		at := time.UnixMicro(n)
		start = sort.Search(len(recent), func(i int) bool {
			c := micros(recent[i].At).Compare(at)
			return c < 0 || c == 0 && recordKey(recent[i]) > key
		})
	}
	limit := tq.PageLimit()
	out := []rows.Record{}
	next := ""
	for i := start; i < len(recent); i++ {
		rec := recent[i]
		ti := queue.TaskInfo{ID: rec.ID, Task: rec.Task, Queue: rec.Queue, Status: queue.Status(rec.Status),
			Kind: rec.Kind, FinishedAt: rec.At}
		if d.ByQueue && rec.Queue != d.Queue || !tq.Match(ti, []byte(rec.Error)) {
			continue
		}
		out = append(out, rows.RecordOf(rec))
		if len(out) == limit {
			if i+1 < len(recent) {
				next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(rec.At.UnixMicro(), 10) + "-" + recordKey(rec)))
			}
			break
		}
	}
	base := url.Values{}
	if d.ByQueue {
		base.Set("queue", d.Queue)
	}
	return out, linksOf("results", base, d.Find, next), nil
}

// recordKey orders records of one time, and names a record in a cursor.
func recordKey(r *store.Record) string { return r.Queue + "\x00" + r.ID }

// micros is t to the microsecond, as cursors keep it.
func micros(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
