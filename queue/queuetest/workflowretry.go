package queuetest

import (
	"time"

	"github.com/taskware/taskware/queue"
)

// The promises of RetryStep after more than one step went wrong: the
// Workflow group, continued.

// A step a worker held when the workflow failed, and that then failed on
// its own (failed, dead, or canceled by its run), runs again with the
// step RetryStep names, as attempt 1: left failed, it would never release
// its children, and the workflow would never end.
func retryAfterLateFailure(t *tester) {
	for _, o := range []queue.Outcome{boom, permanent, stopped} {
		t.sub(string(o.Status), func(t *tester) {
			wf := "wf-" + string(o.Status)
			f := newFlow("w30", wf, step("A"), step("B"), step("C", "A", "B"), step("D", "B"))
			t.enqueueFlow(f, time.Time{})
			ds := t.takeSteps(f, wf, "A", "B")
			t.finish(ds["A"], boom)
			t.wantWorkflow(f, queue.Failed, 3, "A", boom.Kind)
			t.finish(ds["B"], o)
			t.wantStep(f, "B", o.Status, 1, o.Kind)
			t.wantWorkflow(f, queue.Failed, 4, "A", boom.Kind)

			if err := t.q.RetryStep(t.Context(), wf, "w30", "A"); err != nil {
				t.Fatalf("RetryStep(A): %v", err)
			}
			t.wantWorkflow(f, queue.Running, 0, "", "")
			t.wantSteps(f, queue.Queued, "", "A", "B")
			t.wantSteps(f, queue.Waiting, "", "C", "D")
			ds = t.takeSteps(f, wf, "A", "B")
			if b := ds["B"]; b.Attempt != 1 || b.LastKind != "" || b.LastError != "" {
				t.Fatalf("B run again: attempt %d, last failure %q %q; want a fresh attempt 1", b.Attempt, b.LastKind, b.LastError)
			}
			t.succeed(ds["A"], "a")
			t.noneReady(wf)
			t.succeed(ds["B"], "b")
			ds = t.takeSteps(f, wf, "C", "D")
			wantInputs(t, ds["C"], input("A", "a"), input("B", "b"))
			wantInputs(t, ds["D"], input("B", "b"))
			t.succeed(ds["C"], "c")
			t.succeed(ds["D"], "d")
			t.wantWorkflow(f, queue.Succeeded, 4, "", "")
			t.noneReady(wf)
		})
	}
}

// A step the workflow's failure canceled while it waited waits again
// after RetryStep, until its parents have all ended once more: at once
// queued if they had (a parent that was running at the failure
// succeeded), else released by the last of them, run again if it failed
// meanwhile. So does the step below it.
func retryOfAWaitingStepCanceled(t *tester) {
	for _, late := range []queue.Outcome{boom, {Status: queue.Succeeded, Attempt: 1, Result: []byte("b")}} {
		t.sub("parent "+string(late.Status), func(t *tester) {
			wf := "wf-" + string(late.Status)
			f := newFlow("w31", wf, step("A"), step("B"), step("S"), step("C", "B", "S"), step("E", "C"))
			t.enqueueFlow(f, time.Time{})
			ds := t.takeSteps(f, wf, "A", "B", "S")
			t.succeed(ds["S"], "s")
			t.finish(ds["A"], boom)
			t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, "C", "E")
			t.finish(ds["B"], late)
			t.wantWorkflow(f, queue.Failed, 5, "A", boom.Kind)

			if err := t.q.RetryStep(t.Context(), wf, "w31", "A"); err != nil {
				t.Fatalf("RetryStep(A): %v", err)
			}
			t.wantSteps(f, queue.Waiting, "", "E")
			t.wantSteps(f, queue.Succeeded, "", "S")
			var b *queue.Delivery
			if late.Status == queue.Succeeded {
				t.wantWorkflow(f, queue.Running, 2, "", "")
				t.wantSteps(f, queue.Queued, "", "A", "C")
				ds = t.takeSteps(f, wf, "A", "C")
			} else {
				t.wantWorkflow(f, queue.Running, 1, "", "")
				t.wantSteps(f, queue.Queued, "", "A", "B")
				t.wantSteps(f, queue.Waiting, "", "C")
				ds = t.takeSteps(f, wf, "A", "B")
				b = ds["B"]
			}
			t.succeed(ds["A"], "a")
			if b != nil {
				t.noneReady(wf)
				t.succeed(b, "b")
				ds = t.takeSteps(f, wf, "C")
			}
			wantInputs(t, ds["C"], input("B", "b"), input("S", "s"))
			t.succeed(ds["C"], "c")
			e := t.takeSteps(f, wf, "E")["E"]
			wantInputs(t, e, input("C", "c"))
			t.succeed(e, "e")
			t.wantWorkflow(f, queue.Succeeded, 5, "", "")
			t.noneReady(wf)
		})
	}
}
