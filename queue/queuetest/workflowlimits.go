package queuetest

import (
	"bytes"
	"errors"
	"slices"
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

// unreadable returns d as a queue hands out a step whose message it could
// not read past its ID: Malformed set, and neither Step nor Inputs.
func unreadable(d *queue.Delivery) *queue.Delivery {
	u := *d
	u.Step, u.Inputs, u.Payload, u.Headers = nil, nil, nil, nil
	u.Malformed = errors.New("unreadable step")
	return &u
}

// A step whose message cannot be read, dead-lettered by its worker
// (queue.ErrBadMessage), ends in its workflow all the same: the workflow
// fails at that step, and its steps not started are canceled, rather than
// wait for ever. RetryStep runs it again, from the message as enqueued.
func malformedStepEnds(t *tester) {
	f := newFlow("w33", "wf", step("A"), step("B", "A"), step("C"))
	t.enqueueFlow(f, time.Time{})
	ds := t.takeSteps(f, "wf", "A", "C")
	bad := queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: queue.ErrBadMessage.ErrorKind(), Error: "unreadable step"}
	t.finish(unreadable(ds["A"]), bad)
	t.wantStep(f, "A", queue.Dead, 1, bad.Kind)
	t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, "B")
	t.wantWorkflow(f, queue.Failed, 2, "A", bad.Kind)
	t.succeed(ds["C"], "c")
	t.wantWorkflow(f, queue.Failed, 3, "A", bad.Kind)

	if err := t.q.RetryStep(t.Context(), "wf", "w33", "A"); err != nil {
		t.Fatalf("RetryStep(A): %v", err)
	}
	a := t.takeSteps(f, "wf", "A")["A"]
	t.succeed(a, "a")
	b := t.takeSteps(f, "wf", "B")["B"]
	wantInputs(t, b, input("A", "a"))
	t.succeed(b, "b")
	t.wantWorkflow(f, queue.Succeeded, 3, "", "")
}

// wantWaiting fails t unless queue name's Stats count n waiting steps.
func (t *tester) wantWaiting(name string, n int64) {
	t.Helper()
	st, err := t.q.Stats(t.Context(), name)
	if err != nil || st.Waiting != n {
		t.Fatalf("Stats(%q) = %+v, %v; want %d waiting", name, st, err, n)
	}
}

// Stats count a queue's waiting steps: each from its enqueue until its
// release queues it or an end (a cancel, the workflow's failure or
// cancel) ends it; again once a RetryStep makes it wait anew. A queue
// that holds only waiting steps is listed.
func statsCountWaiting(t *tester) {
	only := newFlow("w37", "wf-root", step("A"), step("B", "A").on("wf-waits"))
	t.enqueueFlow(only, time.Time{})
	t.wantWaiting("wf-waits", 1)
	if names, err := t.q.Queues(t.Context()); err != nil || !slices.Contains(names, "wf-waits") {
		t.Fatalf("Queues() = %q, %v; want wf-waits, which holds a waiting step", names, err)
	}

	f := newFlow("w34", "wf", step("A"), step("B", "A"), step("C", "A").on("wf-b"), step("D", "B", "C"), step("E", "D"))
	t.enqueueFlow(f, time.Time{})
	t.wantWaiting("wf", 3)
	t.wantWaiting("wf-b", 1)
	t.succeed(t.takeSteps(f, "wf", "A")["A"], "a")
	t.wantWaiting("wf", 2)
	t.wantWaiting("wf-b", 0)
	t.finish(t.takeSteps(f, "wf", "B")["B"], boom)
	t.wantWaiting("wf", 0)
	if err := t.q.RetryStep(t.Context(), "wf", "w34", "B"); err != nil {
		t.Fatalf("RetryStep(B): %v", err)
	}
	t.wantWaiting("wf", 2)
	t.wantWaiting("wf-b", 0)
	t.succeed(t.takeSteps(f, "wf", "B")["B"], "b")
	t.succeed(t.takeSteps(f, "wf-b", "C")["C"], "c")
	t.wantWaiting("wf", 1)
	t.succeed(t.takeSteps(f, "wf", "D")["D"], "d")
	t.wantWaiting("wf", 0)
	t.succeed(t.takeSteps(f, "wf", "E")["E"], "e")
	t.wantWorkflow(f, queue.Succeeded, 5, "", "")

	g := chainFlow("w35", "wf", "A", "B", "C")
	t.enqueueFlow(g, time.Time{})
	t.wantWaiting("wf", 2)
	if _, err := t.q.CancelWorkflow(t.Context(), "wf", "w35"); err != nil {
		t.Fatalf("CancelWorkflow: %v", err)
	}
	t.wantWaiting("wf", 0)
	h := chainFlow("w36", "wf-b", "A", "B")
	t.enqueueFlow(h, time.Time{})
	t.wantWaiting("wf-b", 1)
	t.cancel("wf-b", h.id("B"), queue.CancelDone)
	t.wantWaiting("wf-b", 0)
}
