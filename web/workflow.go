package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// maxDrawnSteps is the most steps a workflow's graph draws one by one;
// past it, the graph draws its layers, each with its steps counted by
// state, and the table lists the steps that did not succeed.
const maxDrawnSteps = 500

// workflowRow names the row that workflowData embeds (see taskRow).
type workflowRow = rows.WorkflowDetail

// workflowData is a workflow's page, and api/workflow.
type workflowData struct {
	workflowRow
	// Listed are the steps the table lists: all of them, or past
	// maxDrawnSteps those that did not succeed or skip, at most
	// maxDrawnSteps; Unlisted counts the others.
	Listed   []rows.WorkflowStep `json:"-"`
	Unlisted int                 `json:"-"`
	// Graph is the drawing of the steps.
	Graph *graphView `json:"-"`
	liveData
}

// Running says the workflow has not ended: it can be canceled.
func (d *workflowData) Running() bool { return d.Status == string(queue.Running) }

// Failed says a step failed the workflow: that step can be retried.
func (d *workflowData) Failed() bool { return d.Status == string(queue.Failed) && d.FailedStep != "" }

// Progress shows how many steps ended.
func (d *workflowData) Progress() string { return fmt.Sprintf("%d/%d steps ended", d.Ended, d.Steps) }

// workflowParams reads ?queue= and ?id=, both required.
func workflowParams(r *http.Request) (name, id string, err error) {
	name, id = r.FormValue("queue"), r.FormValue("id")
	if queue.ValidateName(name) != nil || id == "" {
		return "", "", &httpError{http.StatusBadRequest, "Say which workflow: ?queue=&id=."}
	}
	return name, id, nil
}

// readWorkflow returns workflow id of queue name; not found is a 404
// that says so.
func (h *handler) readWorkflow(ctx context.Context, name, id string) (*queue.WorkflowState, error) {
	st, err := h.src.Queue.Workflow(ctx, name, id)
	if errors.Is(err, queue.ErrNotFound) {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("No workflow %s on queue %s.", id, name)}
	}
	return st, err
}

func (h *handler) workflow(r *http.Request) (*view, error) {
	name, id, err := workflowParams(r)
	if err != nil {
		return nil, err
	}
	st, err := h.readWorkflow(r.Context(), name, id)
	if err != nil {
		return nil, err
	}
	d := &workflowData{workflowRow: rows.WorkflowDetailOf(st)}
	if d.Graph, err = drawWorkflow(d.StepStates); err != nil {
		return nil, err
	}
	d.list()
	d.setLive()
	// A big workflow's JSON is big: its page polls ten times less often.
	v := &view{Title: "Workflow " + id, Nav: "workflows", Data: d, template: "workflow", Slow: d.Graph.Layered}
	if !st.Terminal() { // an ended workflow changes no more: no need to poll
		v.API = "api/workflow?" + r.URL.RawQuery
	}
	return v, nil
}

// list chooses the steps the table lists.
func (d *workflowData) list() {
	if len(d.StepStates) <= maxDrawnSteps {
		d.Listed = d.StepStates
		return
	}
	for _, s := range d.StepStates {
		if s.Status == string(queue.Succeeded) || s.Status == string(queue.Skipped) || len(d.Listed) == maxDrawnSteps {
			d.Unlisted++
			continue
		}
		d.Listed = append(d.Listed, s)
	}
}

// setLive fills what the page's script updates: the header's facts, each
// step's state (its text, and the data-state its box is coloured by) or
// each layer's counts, and as rows the workflow's status and the layers'
// states, so that a change the script cannot show says "reload".
func (d *workflowData) setLive() {
	for _, f := range [][2]string{{"status", d.Status}, {"progress", d.Progress()}, {"finished", orDash(stamp(d.FinishedAt))},
		{"failed_step", orDash(d.FailedStep)}, {"kind", orDash(d.Kind)}, {"error", orDash(d.Error)}} {
		d.set(f[1], "workflow", f[0])
	}
	d.Rows = []string{"workflow:" + d.Status}
	if g := d.Graph; g.Layered {
		for _, l := range g.Layers {
			for _, c := range l.Counts {
				d.set(c.N, "layer", l.Key, c.Status)
				d.Rows = append(d.Rows, liveKey("layer", l.Key, c.Status))
			}
		}
	} else {
		for _, s := range d.StepStates {
			d.set(s.Status, "step", s.Name, "state")
			d.set(stateLabel(s.Status), "step", s.Name, "label")
		}
	}
	for _, s := range d.Listed {
		d.set(s.Status, "step", s.Name, "status")
		d.set(s.Attempt, "step", s.Name, "attempt")
		d.set(orDash(s.Kind), "step", s.Name, "kind")
		d.set(orDash(s.Error), "step", s.Name, "error")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// stateSymbols mark each state in the graph's text, so that no state is
// told by its colour alone.
var stateSymbols = map[string]string{
	string(queue.Waiting): "…", string(queue.Queued): "○", string(queue.Scheduled): "◷", string(queue.Running): "▶",
	string(queue.Succeeded): "✓", string(queue.Failed): "✗", string(queue.Dead): "✗", string(queue.Skipped): "↷",
	string(queue.Canceled): "⊘",
}

// stateLabel is a step's state as its box says it: "✓ succeeded".
func stateLabel(status string) string {
	if s, ok := stateSymbols[status]; ok {
		return s + " " + status
	}
	return status
}

// workflowPage is the relative URL of workflow id's page.
func workflowPage(name, id string) string {
	return to("workflow", url.Values{"queue": {name}, "id": {id}})
}

// stepOf returns the workflow of the task d shows, if it is a step:
// from its message's Step when the queue keeps it, else from its ID, a
// workflow's ID and a step's name joined by ":" (queue.StepID), checked
// against the workflows of its queue.
func (h *handler) stepOf(ctx context.Context, d *taskData) (home, wf string) {
	if d.step != nil {
		return d.step.Home, d.step.Workflow
	}
	for i, n := 0, 0; i < len(d.ID) && n < 8; i++ {
		if d.ID[i] != ':' {
			continue
		}
		n++
		st, err := h.src.Queue.Workflow(ctx, d.Queue, d.ID[:i])
		if err != nil {
			continue
		}
		for _, s := range st.StepStates {
			if s.ID == d.ID {
				return st.Queue, st.ID
			}
		}
	}
	return "", ""
}
