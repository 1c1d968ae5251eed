package queuetest

import (
	"bytes"
	"errors"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// The promises of a workflow's bounds, and of steps that cannot run as
// they should: the Workflow group, continued.

// A Finish whose Result is over queue.MaxStepResult is refused with an
// error matching task.ErrTooLarge, and changes nothing: the step is still
// the worker's, and a Finish with a result of the cap ends it, its child
// receiving the result whole.
func stepResultTooLarge(t *tester) {
	f := chainFlow("w32", "wf", "A", "B")
	t.enqueueFlow(f, time.Time{})
	a := t.takeSteps(f, "wf", "A")["A"]
	over := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: bytes.Repeat([]byte("x"), queue.MaxStepResult+1)}
	if err := t.q.Finish(t.Context(), a, over); !errors.Is(err, task.ErrTooLarge) {
		t.Fatalf("Finish with a result of %d bytes = %v; want task.ErrTooLarge", len(over.Result), err)
	}
	t.wantSteps(f, queue.Queued, "", "A") // taken, not started: as before the Finish
	t.wantSteps(f, queue.Waiting, "", "B")
	t.wantWorkflow(f, queue.Running, 0, "", "")
	t.noneReady("wf")
	capped := string(bytes.Repeat([]byte("y"), queue.MaxStepResult))
	t.succeed(a, capped)
	b := t.takeSteps(f, "wf", "B")["B"]
	wantInputs(t, b, input("A", capped))
	t.succeed(b, "b")
	t.wantWorkflow(f, queue.Succeeded, 2, "", "")
}
