package rows

import (
	"strconv"
	"time"

	"github.com/taskware/taskware/queue"
)

// WorkflowSummary is a workflow as a listing shows it: its record, its
// progress, and its failure if it failed; no step states, no result.
type WorkflowSummary struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Queue      string    `json:"queue"`
	Status     string    `json:"status"`
	Steps      int       `json:"steps"`
	Ended      int       `json:"ended"`
	Output     string    `json:"output,omitempty"`
	FailedStep string    `json:"failed_step,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// WorkflowSummaryOf is the row of a workflow of a listing.
func WorkflowSummaryOf(w queue.WorkflowState) WorkflowSummary {
	return WorkflowSummary{ID: w.ID, Name: w.Name, Queue: w.Queue, Status: string(w.Status), Steps: w.Steps, Ended: w.Ended,
		Output: w.Output, FailedStep: w.FailedStep, Kind: w.Kind, Error: w.Error, CreatedAt: w.CreatedAt.UTC(),
		FinishedAt: w.FinishedAt.UTC()}
}

// WorkflowSummariesOf are the rows of ws, in their order; never nil, so
// that no workflows is [] in JSON.
func WorkflowSummariesOf(ws []queue.WorkflowState) []WorkflowSummary {
	out := make([]WorkflowSummary, len(ws))
	for i, w := range ws {
		out[i] = WorkflowSummaryOf(w)
	}
	return out
}

// Progress shows how many of its steps ended: "3/5".
func (w WorkflowSummary) Progress() string {
	return strconv.Itoa(w.Ended) + "/" + strconv.Itoa(w.Steps)
}
