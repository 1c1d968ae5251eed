package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// workflowsData is the workflows page, and api/workflows.
type workflowsData struct {
	// Queue is the home queue listed; with none, nothing is, and the page
	// offers the queues.
	Queue     string                 `json:"queue"`
	Status    string                 `json:"status,omitempty"`
	Limit     int                    `json:"limit"`
	Page      pageLinks              `json:"page"`
	Workflows []rows.WorkflowSummary `json:"workflows"`
	Queues    []string               `json:"queues"`
	Statuses  []string               `json:"-"`
	liveData
}

// workflowsParams reads ?status=, ?limit=, ?after= and ?prev= as the
// task listings read theirs, so that the pager links alike.
func workflowsParams(r *http.Request) (findParams, error) {
	f := findParams{Status: r.FormValue("status"), After: r.FormValue("after"), Prev: trail(r.Form["prev"]), Limit: defaultLimit}
	if f.Status != "" && !slices.Contains(queue.WorkflowStatuses, queue.Status(f.Status)) {
		return f, &httpError{http.StatusBadRequest, "Bad status: say running, succeeded, failed or canceled."}
	}
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > queue.MaxWorkflowPage {
			return f, &httpError{http.StatusBadRequest, fmt.Sprintf("Bad limit: say 1 to %d.", queue.MaxWorkflowPage)}
		}
		f.Limit = n
	}
	return f, nil
}

func (h *handler) workflows(r *http.Request) (*view, error) {
	name, err := queueParam(r)
	if err != nil {
		return nil, err
	}
	f, err := workflowsParams(r)
	if err != nil {
		return nil, err
	}
	d := &workflowsData{Queue: name, Status: f.Status, Limit: f.Limit, Workflows: []rows.WorkflowSummary{},
		liveData: liveData{Rows: []string{}}}
	for _, s := range queue.WorkflowStatuses {
		d.Statuses = append(d.Statuses, string(s))
	}
	if d.Queues, err = h.src.Queue.Queues(r.Context()); err != nil {
		return nil, err
	}
	title := "Workflows"
	if name != "" {
		page, err := h.src.Queue.ListWorkflows(r.Context(), name, queue.WorkflowQuery{Status: queue.Status(f.Status), Limit: f.Limit, After: f.After})
		if err != nil {
			return nil, badCursor(err)
		}
		d.Workflows = rows.WorkflowSummariesOf(page.Workflows)
		for _, w := range d.Workflows {
			d.Rows = append(d.Rows, w.ID)
			d.set(w.Status, "workflow", w.ID, "status")
			d.set(w.Progress(), "workflow", w.ID, "ended")
		}
		d.set(len(d.Workflows), "listed")
		d.Page = linksOf("workflows", url.Values{"queue": {name}}, f, page.Next)
		title = "Workflows of " + name
	}
	return &view{Title: title, Nav: "workflows", Data: d, API: "api/workflows?" + r.URL.RawQuery, template: "workflows"}, nil
}
