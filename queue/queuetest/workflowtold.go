package queuetest

import (
	"time"

	"github.com/taskware/taskware/queue"
)

// The promises of what a workflow's calls tell their caller, so that a
// worker or client can publish the workflow's start and end once: the
// Workflow group, continued.

// finishTold finishes d as o and wants d.WorkflowEnd to be want.
func (t *tester) finishTold(d *queue.Delivery, o queue.Outcome, want queue.Status) {
	t.Helper()
	d.WorkflowEnd = "" // as a finish sent again finds it: set by the first
	t.finish(d, o)
	if d.WorkflowEnd != want {
		t.Fatalf("Finish(%q, %s): WorkflowEnd = %q; want %q", d.ID, o.Status, d.WorkflowEnd, want)
	}
}

// Finish says, in Delivery.WorkflowEnd, that it ended its step's workflow,
// and how, exactly on the finish that ended it: the last step's success,
// the success of a step whose skip ended the rest, a failure, or a skip
// that a FailIfSkipped child turns into a failure. Every other finish,
// and a finish sent again after any of those, sets nothing. Nor does the
// failure of a step that ran on after the workflow failed, or a
// superseded finish.
func finishTellsWorkflowEnd(t *tester) {
	t.sub("Succeeded", func(t *tester) {
		f := newFlow("w40", "wf", step("A"), step("B"), step("C", "A", "B").isOutput())
		t.enqueueFlow(f, time.Time{})
		ds := t.takeSteps(f, "wf", "A", "B")
		t.finishTold(ds["A"], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("a")}, "")
		t.finishTold(ds["A"], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("a")}, "")
		t.finishTold(ds["B"], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("b")}, "")
		c := t.takeSteps(f, "wf", "C")["C"]
		t.finishTold(c, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("c")}, queue.Succeeded)
		t.finishTold(c, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("c")}, "")
		t.wantWorkflow(f, queue.Succeeded, 3, "", "")
	})
	t.sub("SkipCascade", func(t *tester) {
		f := chainFlow("w41", "wf", "A", "B", "C")
		t.enqueueFlow(f, time.Time{})
		a := t.takeSteps(f, "wf", "A")["A"]
		t.finishTold(a, locked, queue.Succeeded)
		t.finishTold(a, locked, "")
		t.wantWorkflow(f, queue.Succeeded, 3, "", "")
	})
	t.sub("Failed", func(t *tester) {
		f := newFlow("w42", "wf", step("A"), step("B"), step("C", "A", "B"))
		t.enqueueFlow(f, time.Time{})
		ds := t.takeSteps(f, "wf", "A", "B")
		t.finishTold(ds["A"], boom, queue.Failed)
		t.finishTold(ds["A"], boom, "")
		t.finishTold(ds["B"], boom, "") // ran on: the workflow had failed
		t.wantWorkflow(f, queue.Failed, 3, "A", boom.Kind)
	})
	t.sub("FailIfSkipped", func(t *tester) {
		f := newFlow("w43", "wf", step("A"), step("B", "A").ifSkip(queue.FailIfSkipped))
		t.enqueueFlow(f, time.Time{})
		a := t.takeSteps(f, "wf", "A")["A"]
		t.finishTold(a, locked, queue.Failed)
		t.finishTold(a, locked, "")
		t.wantWorkflow(f, queue.Failed, 2, "B", queue.KindParentSkipped)
	})
	t.sub("Superseded", func(t *tester) {
		f := chainFlow("w44", "wf", "A")
		t.enqueueFlow(f, time.Time{})
		slow := t.takeStepsBy(f, "wf", "slow", "A")["A"]
		fast := t.reclaimSteps(f, "wf", "fast", "A")["A"]
		t.superseded(slow, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("late")})
		if slow.WorkflowEnd != "" {
			t.Fatalf("a superseded Finish: WorkflowEnd = %q; want \"\"", slow.WorkflowEnd)
		}
		t.finishTold(fast, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("a")}, queue.Succeeded)
	})
}

// EnqueueWorkflow says, in WorkflowSpec.Existed, whether the workflow was
// stored already: not on the call that stores it, yes on the same call
// sent again, before or after its steps ran and once it ended.
func enqueueTellsExisted(t *tester) {
	f := chainFlow("w45", "wf", "A")
	enqueue := func(want bool) {
		t.Helper()
		f.spec.Existed = !want
		t.enqueueFlow(f, time.Time{})
		if f.spec.Existed != want {
			t.Fatalf("EnqueueWorkflow(%q): Existed = %v; want %v", f.spec.ID, f.spec.Existed, want)
		}
	}
	enqueue(false)
	enqueue(true)
	t.succeed(t.takeSteps(f, "wf", "A")["A"], "a")
	t.wantWorkflow(f, queue.Succeeded, 1, "", "")
	enqueue(true)
	t.noneReady("wf")
}
