package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/task"
)

// Workflows is the side of a queue that runs workflows: DAGs of steps,
// each an ordinary message whose Step says where it sits. A step with
// parents waits (status Waiting) until every parent has ended; the Finish
// that ends its last parent releases it, in the same atomic operation as
// the parent's end: its inputs recorded, then the step queued, skipped,
// or canceled as its policy and the workflow's status say. A Finish sent
// again, or the late Finish of a delivery that Recover took over, releases
// nothing and counts no parent twice.
//
// What a step's end does:
//   - Succeeded or Skipped: each child records the step's Input (its
//     result, for a success) and, if it was its last parent, is released.
//   - Failed, Dead or Canceled, and the step is not Absorbed: the workflow
//     fails at once (Status Failed, FailedStep, Kind, Error). Every step
//     still Waiting, and every step Queued or Scheduled that has not
//     started, ends Canceled with kind KindWorkflowFailed. Steps running
//     finish; their children are then canceled when released.
//   - Failed, Dead or Canceled of an Absorbed step: as a success, the
//     children (which all take outcomes) record its Input and run.
//
// A released child whose parents are all done:
//   - the workflow is Failed or Canceled: it ends Canceled, kind
//     KindWorkflowFailed or KindWorkflowCanceled;
//   - a parent was skipped, and the child does not take outcomes: its
//     IfSkipped decides: SkipToo ends it Skipped (kind KindParentSkipped,
//     and its own children are released in turn), RunWithout queues it,
//     FailIfSkipped ends it Failed (kind KindParentSkipped), which fails
//     the workflow;
//   - otherwise it is queued (Queued, in its queue's ready messages), and
//     its delivery carries its Inputs, in the order of Step.Parents.
//
// A Finish ends a step in its workflow even if the step's message could
// not be read (Delivery.Malformed, no Step): the queue knows the step by
// its ID, so that the worker's dead letter (ErrBadMessage) fails the
// workflow rather than leaves it waiting for ever.
//
// Producer.Cancel of a step that has not started ends it Canceled, which
// fails the workflow as any failed step does. A running step's cancel is
// its run's, and its Finish ends it.
//
// The workflow ends Succeeded when every step has ended and it did not
// fail: the output step's result is then in its state's record (see
// Outcome.Result), and Get of a handle reads it with Result.
type Workflows interface {
	// EnqueueWorkflow stores wf: each step with parents as Waiting, each
	// root queued to run at runAt (now if zero or past). It returns an
	// error matching ErrDuplicate if a workflow of wf.ID with another
	// Digest exists in wf.Queue; one of the same Digest is a success that
	// changes nothing, so that a call sent again completes the first; it
	// sets wf.Existed then (if the backend can tell: one that lost the
	// reply of the call that stored it may say so of its own resend).
	EnqueueWorkflow(ctx context.Context, wf *WorkflowSpec, runAt time.Time) error
	// Workflow returns what the queue knows of workflow id of queue (its
	// home queue), steps included, or an error matching ErrNotFound.
	Workflow(ctx context.Context, queue, id string) (*WorkflowState, error)
	// WaitWorkflow returns workflow id's state once its status is
	// terminal (Succeeded, Failed or Canceled), or when ctx ends.
	WaitWorkflow(ctx context.Context, queue, id string) (*WorkflowState, error)
	// CancelWorkflow cancels workflow id: it ends Canceled, its waiting
	// and not yet started steps end Canceled (kind KindWorkflowCanceled),
	// and the workers running its steps are told to cancel them (as
	// Producer.Cancel does). A workflow ended already is left as it is
	// (Ended is then true). ErrNotFound if unknown.
	CancelWorkflow(ctx context.Context, queue, id string) (*WorkflowCancel, error)
	// RetryStep runs failed step of failed workflow id again, and the
	// workflow's status is Running again. The step goes back to its queue
	// as attempt 1. So does every other step that ended Failed, Dead or
	// Canceled of its own (a kind that is not a workflow's) and is not
	// Absorbed, such as a step running when the workflow failed that then
	// failed too: left ended, it would never release its children. Each
	// step the failure canceled (kind KindWorkflowFailed) goes back to
	// Waiting, or to its queue if its parents are all done. It returns an
	// error matching ErrNotRetryable if the workflow did not fail, or the
	// step is not the one that failed it, and ErrNotFound if either is
	// unknown.
	RetryStep(ctx context.Context, queue, id, step string) error
	// ListWorkflows returns one page of the workflows whose home is queue,
	// newest first (by CreatedAt, then ID, both descending), of q.Status
	// if given, and the cursor of the next page ("" at the end). Paging
	// from "" to the end lists every workflow kept meanwhile exactly once;
	// workflows enqueued meanwhile come before the first page. A listing
	// leaves out Result and StepStates (Workflow reads them). A page
	// filtered by status may hold fewer than its limit, and still have a
	// Next. Bad input (see WorkflowQuery) is an error matching
	// task.ErrInvalidConfig.
	ListWorkflows(ctx context.Context, queue string, q WorkflowQuery) (*WorkflowPage, error)
}

// ErrNotRetryable matches a RetryStep of a step or workflow that did not
// fail.
var ErrNotRetryable = task.NewError("queue.not_retryable", "queue: not a failed step of a failed workflow")

// The statuses of a step waiting for its parents, and the kinds of the
// ends a workflow gives its steps.
const (
	// Waiting: a step whose parents have not all ended.
	Waiting Status = "waiting"

	KindWorkflowFailed   = "workflow.failed"         // canceled: the workflow failed
	KindWorkflowCanceled = "workflow.canceled"       // canceled: the workflow was canceled
	KindParentSkipped    = "workflow.parent_skipped" // a parent was skipped (SkipToo, FailIfSkipped)
)

// SkipPolicy is what a step that does not take outcomes does when a
// parent was skipped.
type SkipPolicy uint8

// The skip policies.
const (
	SkipToo       SkipPolicy = iota // the step is skipped too (the default)
	RunWithout                      // the step runs; skipped parents give no value
	FailIfSkipped                   // the step fails, and so the workflow
)

// MaxWorkflowSteps bounds a workflow's steps, and MaxStepParents a step's
// parents.
const (
	MaxWorkflowSteps = 100_000
	MaxStepParents   = 10_000
)

// Step is a message's place in a workflow. A plain task's is nil.
type Step struct {
	// Workflow is the workflow's ID, and Home its queue: the queue whose
	// backend keeps the workflow's record.
	Workflow, Home string
	// Name is the step's name, unique in its workflow; the step's message
	// ID is StepID(Workflow, Name).
	Name string
	// Parents are the steps whose ends release this one, in the order of
	// its Inputs; Children those it releases.
	Parents, Children []StepRef
	// Bind and Fields say how the step's arguments are built from its
	// inputs (see task.BindMode).
	Bind   task.BindMode
	Fields []string
	// Outcomes: the step runs whatever its parents did, and receives their
	// outcomes; else it needs them to succeed.
	Outcomes bool
	// IfSkipped is the step's policy towards a skipped parent, when it
	// does not take outcomes.
	IfSkipped SkipPolicy
	// Absorbed: every child of the step takes outcomes, so its failure
	// does not fail the workflow.
	Absorbed bool
	// Output: the step's result is the workflow's.
	Output bool
}

// StepRef names a step of the same workflow, and its queue.
type StepRef struct{ Queue, Name string }

// StepID is the message ID of step name of workflow wf.
func StepID(wf, name string) string { return wf + ":" + name }

// WorkflowSpec is a workflow to enqueue, made by package workflow.
type WorkflowSpec struct {
	// ID names the workflow in Queue, its home queue; Name says what it
	// is.
	ID, Name, Queue string
	// Digest identifies the definition, so that the same enqueue sent
	// again is told from another workflow of the same ID.
	Digest string
	// Steps are the steps' messages, parents before children; each has
	// Step set, and ID StepID(ID, Step.Name).
	Steps []*Message
	// Existed is set by EnqueueWorkflow: the workflow was stored already,
	// with the same Digest, and the call changed nothing of its record.
	Existed bool
}

// Validate checks wf for backends: its IDs, names, references and sizes.
func (wf *WorkflowSpec) Validate() error {
	if err := ValidateName(wf.Queue); err != nil {
		return err
	}
	if wf.ID == "" || strings.ContainsAny(wf.ID, "{}") {
		return fmt.Errorf("%w: workflow: ID %q must be non-empty, without braces", task.ErrInvalidConfig, wf.ID)
	}
	if len(wf.Steps) == 0 || len(wf.Steps) > MaxWorkflowSteps {
		return fmt.Errorf("%w: workflow %s: %d steps, want 1 to %d", task.ErrInvalidConfig, wf.ID, len(wf.Steps), MaxWorkflowSteps)
	}
	names := make(map[string]string, len(wf.Steps))
	for _, m := range wf.Steps {
		s := m.Step
		switch {
		case s == nil:
			return fmt.Errorf("%w: workflow %s: message %s is no step", task.ErrInvalidConfig, wf.ID, m.ID)
		case s.Name == "" || strings.Contains(s.Name, ":"):
			// StepID joins the workflow's ID and the name with ':'; a
			// backend reads the name back after the workflow's ID.
			return fmt.Errorf("%w: workflow %s: step name %q must be non-empty, without ':'", task.ErrInvalidConfig, wf.ID, s.Name)
		case s.Workflow != wf.ID || s.Home != wf.Queue || m.ID != StepID(wf.ID, s.Name):
			return fmt.Errorf("%w: workflow %s: step %q names another workflow or ID", task.ErrInvalidConfig, wf.ID, s.Name)
		case len(s.Parents) > MaxStepParents:
			return fmt.Errorf("%w: workflow %s: step %q has %d parents, over %d", task.ErrInvalidConfig, wf.ID, s.Name, len(s.Parents), MaxStepParents)
		}
		if _, dup := names[s.Name]; dup {
			return fmt.Errorf("%w: workflow %s: step %q twice", task.ErrInvalidConfig, wf.ID, s.Name)
		}
		if err := ValidateMessage(m); err != nil {
			return err
		}
		for _, p := range s.Parents {
			if q, ok := names[p.Name]; !ok || q != p.Queue {
				return fmt.Errorf("%w: workflow %s: step %q's parent %q is not an earlier step", task.ErrInvalidConfig, wf.ID, s.Name, p.Name)
			}
		}
		names[s.Name] = m.Queue
	}
	return nil
}

// WorkflowState is what a queue knows of a workflow.
type WorkflowState struct {
	ID, Name, Queue string
	// Status is Running, Succeeded, Failed or Canceled.
	Status Status
	// Output is the output step's name.
	Output string
	// Steps counts the workflow's steps, and Ended those that ended.
	Steps, Ended int
	// FailedStep, Kind and Error say which step failed the workflow, and
	// how; empty unless Failed.
	FailedStep, Kind, Error string
	// CreatedAt is when it was enqueued, FinishedAt when it ended (zero
	// while it runs).
	CreatedAt, FinishedAt time.Time
	// Result is the output step's result, encoded, once the workflow
	// Succeeded; nil if that step was skipped.
	Result []byte
	// StepStates lists every step, in the order of WorkflowSpec.Steps.
	StepStates []StepState
}

// Terminal reports whether the workflow has ended. A failed workflow
// can run again (RetryStep).
func (w *WorkflowState) Terminal() bool {
	return w.Status == Succeeded || w.Status == Failed || w.Status == Canceled
}

// StepState is what a queue knows of one step of a workflow.
type StepState struct {
	Name, ID, Queue, Task string
	Status                Status
	Attempt               int
	Kind, Error           string
	// Parents are the names of the step's parents.
	Parents []string
}

// WorkflowCancel is what CancelWorkflow did: Canceled steps ended
// canceled, Sent running ones were told to cancel; Ended if the workflow
// had ended already.
type WorkflowCancel struct {
	Canceled, Sent int
	Ended          bool
}
