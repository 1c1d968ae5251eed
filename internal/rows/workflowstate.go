package rows

import (
	"time"

	"github.com/taskware/taskware/queue"
)

// WorkflowDetail is one workflow with its steps, as `taskware workflow ID
// --json` prints it and api/workflow serves it.
type WorkflowDetail struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Queue  string `json:"queue"`
	Status string `json:"status"`
	// Output is the output step's name.
	Output string `json:"output,omitempty"`
	// Steps counts the steps, and Ended those that ended.
	Steps int `json:"steps"`
	Ended int `json:"ended"`
	// FailedStep, Kind and Error say which step failed the workflow.
	FailedStep string    `json:"failed_step,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Result is the output step's result as it was encoded (JSON by
	// default), once the workflow succeeded.
	Result string `json:"result,omitempty"`
	// StepStates are the steps, parents before children.
	StepStates []WorkflowStep `json:"step_states"`
}

// WorkflowStep is a step of a workflow: its task's ID and state.
type WorkflowStep struct {
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	Queue   string   `json:"queue"`
	Task    string   `json:"task"`
	Status  string   `json:"status"`
	Attempt int      `json:"attempt,omitempty"`
	Kind    string   `json:"kind,omitempty"`
	Error   string   `json:"error,omitempty"`
	Parents []string `json:"parents"`
}

// WorkflowDetailOf is the row of the workflow st describes.
func WorkflowDetailOf(st *queue.WorkflowState) WorkflowDetail {
	d := WorkflowDetail{ID: st.ID, Name: st.Name, Queue: st.Queue, Status: string(st.Status), Output: st.Output,
		Steps: st.Steps, Ended: st.Ended, FailedStep: st.FailedStep, Kind: st.Kind, Error: st.Error,
		CreatedAt: st.CreatedAt.UTC(), FinishedAt: st.FinishedAt.UTC(), Result: string(st.Result),
		StepStates: make([]WorkflowStep, len(st.StepStates))}
	for i, s := range st.StepStates {
		d.StepStates[i] = WorkflowStep{Name: s.Name, ID: s.ID, Queue: s.Queue, Task: s.Task, Status: string(s.Status),
			Attempt: s.Attempt, Kind: s.Kind, Error: s.Error, Parents: append([]string{}, s.Parents...)}
	}
	return d
}
