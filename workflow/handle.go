package workflow

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// Handle is an enqueued workflow, whose result is an R. It is safe for
// concurrent use.
type Handle[R any] struct {
	// Queue is the workflow's home queue, and ID its ID there.
	Queue, ID string
	flows     queue.Workflows
	codec     task.Codec
	output    string
}

// HandleOf returns a handle on workflow id of def, enqueued before (by
// another process, say), through c's workflow side.
func HandleOf[R any](c *worker.Client, def *Def[R], id string) (*Handle[R], error) {
	if def == nil {
		return nil, fmt.Errorf("%w: workflow.HandleOf: a nil Def", task.ErrInvalidConfig)
	}
	flows, err := workflowsOf(c)
	if err != nil {
		return nil, err
	}
	return &Handle[R]{Queue: def.queue, ID: id, flows: flows, codec: def.codec, output: def.output}, nil
}

// Get waits for the workflow to end and returns its result, the output
// step's, decoded with that step's codec. If the workflow failed, the
// error is an *Error, which matches ErrFailed and the failed step's own
// error (its kind; a dead letter matches queue.ErrDeadLettered, a
// canceled step queue.ErrCanceled). If it was canceled, the error
// matches queue.ErrCanceled; if its output step was skipped,
// task.ErrSkipped and the skip's reason. A failed workflow that is
// retried (Retry) runs again: a Get after the Retry waits for its new
// end.
func (h *Handle[R]) Get(ctx context.Context) (R, error) {
	st, err := h.flows.WaitWorkflow(ctx, h.Queue, h.ID)
	if err != nil {
		var zero R
		return zero, err
	}
	return h.result(st)
}

// result is the outcome of the workflow that st says ended.
func (h *Handle[R]) result(st *queue.WorkflowState) (R, error) {
	var r R
	switch st.Status {
	case queue.Succeeded:
		out := st.Output
		if out == "" {
			out = h.output
		}
		if s := stepState(st, out); s != nil && s.Status == queue.Skipped {
			return r, fmt.Errorf("workflow %s: output step %q: %w", h.ID, out, stepErr(s, s.Kind, s.Error))
		}
		if len(st.Result) == 0 {
			return r, nil
		}
		if err := h.codec.Unmarshal(st.Result, &r); err != nil {
			return r, fmt.Errorf("workflow %s: result does not decode: %w", h.ID, err)
		}
		return r, nil
	case queue.Failed:
		s := stepState(st, st.FailedStep)
		if s == nil {
			s = &queue.StepState{Name: st.FailedStep, ID: queue.StepID(h.ID, st.FailedStep), Status: queue.Failed}
		}
		return r, &Error{Step: st.FailedStep, Err: stepErr(s, st.Kind, st.Error)}
	case queue.Canceled:
		return r, fmt.Errorf("workflow %s: %w", h.ID, queue.ErrCanceled)
	}
	return r, fmt.Errorf("workflow %s is %s, not ended", h.ID, st.Status)
}

// stepErr is the error of step s that ended as kind and msg say.
func stepErr(s *queue.StepState, kind, msg string) error {
	err := (&queue.State{ID: s.ID, Status: s.Status, Kind: kind, Error: msg}).Err()
	if err == nil { // a status that names no failure: say what the workflow said
		err = &task.Failure{Kind: kind, Message: msg}
	}
	return err
}

// stepState returns step name's state in st, or nil.
func stepState(st *queue.WorkflowState, name string) *queue.StepState {
	for i := range st.StepStates {
		if st.StepStates[i].Name == name {
			return &st.StepStates[i]
		}
	}
	return nil
}

// State returns what the queue knows of the workflow now: its status and
// every step's, parents before children.
func (h *Handle[R]) State(ctx context.Context) (*queue.WorkflowState, error) {
	return h.flows.Workflow(ctx, h.Queue, h.ID)
}

// Cancel cancels the workflow: it ends canceled, its steps not started
// never run, and those running are told to stop (see
// queue.Workflows.CancelWorkflow).
func (h *Handle[R]) Cancel(ctx context.Context) (*queue.WorkflowCancel, error) {
	return h.flows.CancelWorkflow(ctx, h.Queue, h.ID)
}

// Retry runs step, which failed the workflow, again, and the workflow
// resumes from it: the steps its failure canceled wait or run again, and
// those that succeeded do not run again. It returns an error matching
// queue.ErrNotRetryable if the workflow did not fail, or step is not the
// one that failed it.
func (h *Handle[R]) Retry(ctx context.Context, step string) error {
	return h.flows.RetryStep(ctx, h.Queue, h.ID, step)
}
