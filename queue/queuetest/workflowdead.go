package queuetest

import (
	"time"

	"github.com/taskware/taskware/queue"
)

// A dead step's letter stays when the dead letters are requeued: run
// again as a plain task, it would end in a workflow that failed already
// and release nothing, and the core its RetryStep needs would be gone.
// RetryStep runs it again, its letter leaves the dead letters, and the
// workflow resumes.
func deadStepStaysForRetry(t *tester) {
	const wf = "wf-dead"
	f := chainFlow("w30", wf, "A", "B")
	t.enqueueFlow(f, time.Time{})
	t.finish(t.takeSteps(f, wf, "A")["A"], permanent)
	t.wantWorkflow(f, queue.Failed, 2, "A", permanent.Kind)

	requeued, kept, err := t.q.RequeueDead(t.Context(), wf)
	if err != nil || len(requeued) != 0 || len(kept) != 1 {
		t.Fatalf("RequeueDead(%s) = %q, %q, %v; want the step's letter kept, nothing requeued", wf, requeued, kept, err)
	}
	t.noneReady(wf)
	t.wantSteps(f, queue.Dead, permanent.Kind, "A")

	if err := t.q.RetryStep(t.Context(), wf, "w30", "A"); err != nil {
		t.Fatalf("RetryStep(A) after RequeueDead: %v", err)
	}
	// The step runs again: its letter is no longer dead.
	if dls, err := t.q.DeadLetters(t.Context(), wf, 10); err != nil || len(dls) != 0 {
		t.Fatalf("DeadLetters(%s) after RetryStep = %+v, %v; want none", wf, dls, err)
	}
	t.succeed(t.takeSteps(f, wf, "A")["A"], "a")
	t.succeed(t.takeSteps(f, wf, "B")["B"], "b")
	t.wantWorkflow(f, queue.Succeeded, 2, "", "")
}
