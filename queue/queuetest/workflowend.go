package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// The promises of a workflow's failures, skips, cancels and retries, of
// its waiters, its result and its TTLs: the Workflow group, continued.

var (
	boom      = queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "it broke"}
	permanent = queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "task.permanent", Error: "gave up"}
	stopped   = queue.Outcome{Status: queue.Canceled, Attempt: 1, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()}
	locked    = queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held elsewhere"}
)

// outcomeInput is what a child receives of a parent that ended as o.
func outcomeInput(step string, o queue.Outcome) task.Input {
	return task.Input{Step: step, Status: string(o.Status), Kind: o.Kind, Error: o.Error}
}

// A step that fails (failed, dead, or canceled by its run), and is not
// absorbed, fails the workflow at once, which says which step failed it
// and how: every step still waiting, and every step queued or scheduled
// that no worker holds, ends canceled with kind workflow.failed, and
// leaves its queue. A step a worker holds runs on, and its end is its
// own; a second failure does not change the workflow's.
func failureCancelsWaitingAndQueued(t *tester) {
	for _, o := range []queue.Outcome{boom, permanent, stopped} {
		t.sub(string(o.Status), func(t *tester) {
			wf, idle := "wf-"+string(o.Status), "wf-"+string(o.Status)+"-idle"
			f := newFlow("w12", wf,
				step("A"), step("B", "A"), step("C", "B"),
				step("D").on(idle),
				step("E"), step("F", "E"),
				step("G"),
				step("H", "C", "F", "G", "D"))
			t.enqueueFlow(f, time.Time{})
			ds := t.takeSteps(f, wf, "A", "E", "G")
			t.finish(ds["G"], queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour), Retry: true, Kind: "boom", Error: "x"})
			t.succeed(ds["A"], "a")
			t.finish(t.takeSteps(f, wf, "B")["B"], o)

			w := t.wantWorkflow(f, queue.Failed, 7, "B", o.Kind)
			if w.Error != o.Error {
				t.Fatalf("Workflow.Error = %q; want the failed step's, %q", w.Error, o.Error)
			}
			t.wantStep(f, "B", o.Status, 1, o.Kind)
			t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, "C", "D", "F", "H")
			t.wantStep(f, "G", queue.Canceled, 2, queue.KindWorkflowFailed)
			t.wantSteps(f, queue.Queued, "", "E")
			dead := int64(0)
			if o.Status == queue.Dead {
				dead = 1
			}
			t.wantStats(wf, 0, 1, 0, dead)
			t.wantStats(idle, 0, 0, 0, 0)
			t.promote(wf, time.Now().Add(2*time.Hour), 10)
			t.noneReady(wf, idle)

			t.finish(ds["E"], queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "other", Error: "also broke"})
			t.wantStep(f, "E", queue.Failed, 1, "other")
			t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, "F")
			if w := t.wantWorkflow(f, queue.Failed, 8, "B", o.Kind); w.Error != o.Error {
				t.Fatalf("Workflow.Error after a second failure = %q; want the first's, %q", w.Error, o.Error)
			}
			t.noneReady(wf, idle)
		})
	}
}

// A step whose children all take outcomes is absorbed: its failure (or
// dead letter, or cancel before it ran) fails nothing. Its children
// record its outcome as they would a success, run once their other
// parents end, and the workflow succeeds.
func absorbedFailureRuns(t *tester) {
	for _, o := range []queue.Outcome{boom, permanent, stopped} {
		t.sub(string(o.Status), func(t *tester) {
			wf := "wf-" + string(o.Status)
			f := newFlow("w13", wf, step("A"), step("P"), step("O", "A", "P").takesOutcomes())
			t.enqueueFlow(f, time.Time{})
			var p *queue.Delivery
			if o.Status == queue.Canceled {
				t.cancel(wf, f.id("A"), queue.CancelDone)
				p = t.takeSteps(f, wf, "P")["P"]
			} else {
				ds := t.takeSteps(f, wf, "A", "P")
				t.finish(ds["A"], o)
				p = ds["P"]
			}
			t.wantStep(f, "A", o.Status, 1, o.Kind)
			t.wantSteps(f, queue.Waiting, "", "O")
			t.wantWorkflow(f, queue.Running, 1, "", "")
			t.succeed(p, "p")
			d := t.takeSteps(f, wf, "O")["O"]
			wantInputs(t, d, outcomeInput("A", o), input("P", "p"))
			t.succeed(d, "o")
			if w := t.wantWorkflow(f, queue.Succeeded, 3, "", ""); string(w.Result) != "o" {
				t.Fatalf("Workflow.Result = %q, want %q", w.Result, "o")
			}
		})
	}
}

// A skip is no failure. A child that does not take outcomes decides what
// a skipped parent means to it, once all its parents ended: SkipToo
// skips it too, and its children in turn; RunWithout runs it, the skip
// among its inputs; FailIfSkipped fails it, and so the workflow. A child
// that takes outcomes runs, whatever its policy.
func skipPolicyPromises() []promise {
	return []promise{
		{Name: "SkipTooCascades", Check: skipTooCascades},
		{Name: "RunWithout", Check: skipRunWithout},
		{Name: "FailIfSkipped", Check: skipFailIfSkipped},
		{Name: "OutcomesChildRuns", Check: skipOutcomesChildRuns},
	}
}

func skipTooCascades(t *tester) {
	f := newFlow("w14", "wf", step("S"), step("P"), step("K", "S", "P"), step("K2", "K"), step("R", "K2").ifSkip(queue.RunWithout))
	t.enqueueFlow(f, time.Time{})
	ds := t.takeSteps(f, "wf", "S", "P")
	t.finish(ds["S"], locked)
	t.wantStep(f, "S", queue.Skipped, 1, locked.Kind)
	t.wantSteps(f, queue.Waiting, "", "K", "K2", "R")
	t.wantWorkflow(f, queue.Running, 1, "", "")
	t.noneReady("wf")
	t.succeed(ds["P"], "p")
	t.wantSteps(f, queue.Skipped, queue.KindParentSkipped, "K", "K2")
	r := t.takeSteps(f, "wf", "R")["R"]
	if len(r.Inputs) != 1 || r.Inputs[0].Step != "K2" || r.Inputs[0].Status != string(queue.Skipped) ||
		r.Inputs[0].Kind != queue.KindParentSkipped || r.Inputs[0].Value != nil {
		t.Fatalf("R's Inputs = %+v; want K2's skip, of kind %q", r.Inputs, queue.KindParentSkipped)
	}
	t.wantWorkflow(f, queue.Running, 4, "", "")
	t.succeed(r, "r")
	t.wantWorkflow(f, queue.Succeeded, 5, "", "")
}

func skipRunWithout(t *tester) {
	f := newFlow("w14", "wf", step("S"), step("P"), step("R", "S", "P").ifSkip(queue.RunWithout))
	t.enqueueFlow(f, time.Time{})
	ds := t.takeSteps(f, "wf", "S", "P")
	t.finish(ds["S"], locked)
	t.wantSteps(f, queue.Waiting, "", "R")
	t.succeed(ds["P"], "p")
	r := t.takeSteps(f, "wf", "R")["R"]
	wantInputs(t, r, outcomeInput("S", locked), input("P", "p"))
	t.succeed(r, "r")
	t.wantWorkflow(f, queue.Succeeded, 3, "", "")
}

func skipFailIfSkipped(t *tester) {
	f := newFlow("w14", "wf", step("S"), step("F", "S").ifSkip(queue.FailIfSkipped), step("Q").on("wf-idle"), step("Z", "F", "Q"))
	t.enqueueFlow(f, time.Time{})
	t.finish(t.takeSteps(f, "wf", "S")["S"], locked)
	t.wantSteps(f, queue.Failed, queue.KindParentSkipped, "F")
	t.wantWorkflow(f, queue.Failed, 4, "F", queue.KindParentSkipped)
	t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, "Q", "Z")
	t.noneReady("wf", "wf-idle")
}

func skipOutcomesChildRuns(t *tester) {
	f := newFlow("w14", "wf", step("S"), step("O", "S").takesOutcomes())
	t.enqueueFlow(f, time.Time{})
	t.finish(t.takeSteps(f, "wf", "S")["S"], locked)
	o := t.takeSteps(f, "wf", "O")["O"]
	wantInputs(t, o, outcomeInput("S", locked))
	t.succeed(o, "o")
	t.wantWorkflow(f, queue.Succeeded, 2, "", "")
}

// Producer.Cancel of a step that has not started, waiting or queued,
// ends it canceled at once, and fails the workflow as a failed step does.
// Of a step a worker holds, it is the run's: the workflow fails when the
// run ends canceled.
func stepCancelFails(t *tester) {
	for _, c := range []struct{ name, step string }{{"waiting", "B"}, {"queued", "A"}, {"running", "A"}} {
		t.sub(c.name, func(t *tester) {
			wf, idle := "wf-"+c.name, "wf-"+c.name+"-idle"
			f := newFlow("w15", wf, step("A"), step("B", "A"), step("C").on(idle), step("D", "B", "C"))
			t.enqueueFlow(f, time.Time{})
			if c.name == "running" {
				a := t.takeSteps(f, wf, "A")["A"]
				t.cancel(wf, f.id("A"), queue.CancelSent)
				t.wantWorkflow(f, queue.Running, 0, "", "")
				t.finish(a, stopped)
			} else {
				t.cancel(wf, f.id(c.step), queue.CancelDone)
				t.cancel(wf, f.id(c.step), queue.CancelTooLate)
			}
			t.wantCanceled(wf, f.id(c.step), 1)
			w := t.wantWorkflow(f, queue.Failed, 4, c.step, queue.ErrCanceled.ErrorKind())
			if w.Error != queue.ErrCanceled.Error() {
				t.Fatalf("Workflow.Error = %q; want the cancel's, %q", w.Error, queue.ErrCanceled.Error())
			}
			for _, name := range []string{"A", "B", "C", "D"} {
				if name != c.step {
					t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, name)
				}
			}
			t.noneReady(wf, idle)
		})
	}
}

// watchCancels watches cancels for the rest of t, and returns whether it
// was told of queue name's task id. The watch may begin on its own time:
// it has once it hears of a probe's cancel.
func (t *tester) watchCancels() func(name, id string) bool {
	t.Helper()
	var mu sync.Mutex
	told := map[[2]string]bool{}
	t.Cleanup(t.q.WatchCancels(func(name, id string) {
		mu.Lock()
		told[[2]string{name, id}] = true
		mu.Unlock()
	}))
	toldOf := func(name, id string) bool {
		mu.Lock()
		defer mu.Unlock()
		return told[[2]string{name, id}]
	}
	t.enqueue(msg("probe", "probe"), time.Time{})
	t.takeOne("probe", "probe")
	t.eventually(5*time.Second, "WatchCancels was never told of the probe's cancel", func() bool {
		t.cancel("probe", "probe", queue.CancelSent)
		time.Sleep(20 * time.Millisecond)
		return toldOf("probe", "probe")
	})
	return toldOf
}

// CancelWorkflow ends the workflow canceled: its waiting steps, and those
// queued or scheduled that no worker holds, end canceled with kind
// workflow.canceled and leave their queues; the workers holding the
// others are told, as Producer.Cancel tells them, and a retry of theirs
// never runs. Their ends fail nothing. A second CancelWorkflow finds it
// ended.
func cancelWorkflow(t *tester) {
	toldOf := t.watchCancels()
	f := newFlow("w16", "wf", step("A"), step("B", "A"), step("D").on("wf-idle"), step("G"), step("R"), step("Z", "B", "D", "G", "R"))
	t.enqueueFlow(f, time.Time{})
	ds := t.takeSteps(f, "wf", "A", "G", "R")
	t.finish(ds["G"], queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour), Retry: true, Kind: "boom", Error: "x"})

	wc, err := t.q.CancelWorkflow(t.Context(), "wf", "w16")
	if err != nil || *wc != (queue.WorkflowCancel{Canceled: 4, Sent: 2}) {
		t.Fatalf("CancelWorkflow = %+v, %v; want 4 canceled (B, D, G, Z), 2 sent (A, R)", wc, err)
	}
	t.wantWorkflow(f, queue.Canceled, 4, "", "")
	t.wantSteps(f, queue.Canceled, queue.KindWorkflowCanceled, "B", "D", "Z")
	t.wantStep(f, "G", queue.Canceled, 2, queue.KindWorkflowCanceled)
	t.wantSteps(f, queue.Queued, "", "A", "R")
	for _, name := range []string{"A", "R"} {
		t.eventually(5*time.Second, "WatchCancels was not told of step "+name, func() bool { return toldOf("wf", f.id(name)) })
	}
	t.promote("wf", time.Now().Add(2*time.Hour), 10)
	t.noneReady("wf", "wf-idle")

	t.finish(ds["A"], stopped)
	t.wantCanceled("wf", f.id("A"), 1)
	t.wantWorkflow(f, queue.Canceled, 5, "", "")
	// R's run ignored the cancel, failed, and asked for a retry.
	t.finish(ds["R"], queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Retry: true, Kind: "boom", Error: "x"})
	t.promote("wf", time.Now(), 10)
	t.noneReady("wf")
	t.wantCanceled("wf", f.id("R"), 2)
	t.wantWorkflow(f, queue.Canceled, 6, "", "")
	t.wantStats("wf", 0, 0, 0, 0)

	wc, err = t.q.CancelWorkflow(t.Context(), "wf", "w16")
	if err != nil || *wc != (queue.WorkflowCancel{Ended: true}) {
		t.Fatalf("CancelWorkflow again = %+v, %v; want it ended, nothing canceled or sent", wc, err)
	}
	if wc, err := t.q.CancelWorkflow(t.Context(), "wf", "nope"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("CancelWorkflow of an unknown workflow = %+v, %v; want queue.ErrNotFound", wc, err)
	}
}

// RetryStep of the step that failed the workflow sends it back to its
// queue as attempt 1, with its inputs; every step the failure canceled
// waits again, or is queued at once if its parents all ended (a root;
// the child of a step that was running at the failure and succeeded);
// the workflow runs again, and succeeds. No step that succeeded runs
// again. A second RetryStep finds the workflow running.
func retryReopensAndResumes(t *tester) {
	for _, o := range []queue.Outcome{boom, permanent, stopped} {
		t.sub(string(o.Status), func(t *tester) {
			wf, idle := "wf-"+string(o.Status), "wf-"+string(o.Status)+"-idle"
			f := newFlow("w17", wf,
				step("A"), step("B", "A"), step("C", "B"),
				step("D").on(idle),
				step("E"), step("F", "E"),
				step("H", "C", "F"))
			t.enqueueFlow(f, time.Time{})
			ds := t.takeSteps(f, wf, "A", "E")
			t.succeed(ds["A"], "a")
			if o.Status == queue.Canceled { // canceled before it ran
				t.cancel(wf, f.id("B"), queue.CancelDone)
				t.noneReady(wf)
			} else {
				t.finish(t.takeSteps(f, wf, "B")["B"], o)
			}
			t.wantWorkflow(f, queue.Failed, 6, "B", o.Kind)
			t.succeed(ds["E"], "e")
			t.wantSteps(f, queue.Canceled, queue.KindWorkflowFailed, "C", "D", "F", "H")
			t.wantWorkflow(f, queue.Failed, 7, "B", o.Kind)

			if err := t.q.RetryStep(t.Context(), wf, "w17", "B"); err != nil {
				t.Fatalf("RetryStep(B): %v", err)
			}
			t.wantWorkflow(f, queue.Running, 2, "", "")
			t.wantSteps(f, queue.Succeeded, "", "A", "E")
			t.wantSteps(f, queue.Queued, "", "B", "D", "F")
			t.wantSteps(f, queue.Waiting, "", "C", "H")
			if err := t.q.RetryStep(t.Context(), wf, "w17", "B"); !errors.Is(err, queue.ErrNotRetryable) {
				t.Fatalf("RetryStep(B) again = %v; want queue.ErrNotRetryable: the workflow runs", err)
			}

			ds = t.takeSteps(f, wf, "B", "F")
			if b := ds["B"]; b.Attempt != 1 || b.LastKind != "" || b.LastError != "" {
				t.Fatalf("B retried: attempt %d, last failure %q %q; want a fresh attempt 1", b.Attempt, b.LastKind, b.LastError)
			}
			wantInputs(t, ds["B"], input("A", "a"))
			wantInputs(t, ds["F"], input("E", "e"))
			d := t.takeSteps(f, idle, "D")["D"]
			t.succeed(ds["B"], "b")
			c := t.takeSteps(f, wf, "C")["C"]
			wantInputs(t, c, input("B", "b"))
			t.succeed(ds["F"], "f")
			t.succeed(d, "d")
			t.succeed(c, "c")
			h := t.takeSteps(f, wf, "H")["H"]
			wantInputs(t, h, input("C", "c"), input("F", "f"))
			t.succeed(h, "h")
			if w := t.wantWorkflow(f, queue.Succeeded, 7, "", ""); string(w.Result) != "h" {
				t.Fatalf("Workflow.Result = %q, want %q", w.Result, "h")
			}
			t.noneReady(wf, idle)
		})
	}
}

// RetryStep is refused with queue.ErrNotRetryable unless the workflow
// failed and the step is the one that failed it, and changes nothing;
// with queue.ErrNotFound for an unknown workflow or step.
func retryNotFailedRefused(t *tester) {
	retry := func(f *flow, name string, want error) {
		t.Helper()
		if err := t.q.RetryStep(t.Context(), f.spec.Queue, f.spec.ID, name); !errors.Is(err, want) {
			t.Fatalf("RetryStep(%s, %s) = %v; want %v", f.spec.ID, name, err, want)
		}
	}
	running := chainFlow("w18", "wf-running", "A", "B")
	t.enqueueFlow(running, time.Time{})
	retry(running, "A", queue.ErrNotRetryable)
	retry(running, "B", queue.ErrNotRetryable)
	t.wantWorkflow(running, queue.Running, 0, "", "")
	t.wantSteps(running, queue.Queued, "", "A")
	if err := t.q.RetryStep(t.Context(), "wf-running", "nope", "A"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("RetryStep of an unknown workflow = %v; want queue.ErrNotFound", err)
	}

	failed := chainFlow("w19", "wf-failed", "A", "B", "C")
	t.enqueueFlow(failed, time.Time{})
	t.succeed(t.takeSteps(failed, "wf-failed", "A")["A"], "a")
	t.finish(t.takeSteps(failed, "wf-failed", "B")["B"], boom)
	retry(failed, "A", queue.ErrNotRetryable)
	retry(failed, "C", queue.ErrNotRetryable)
	retry(failed, "nope", queue.ErrNotFound)
	t.wantWorkflow(failed, queue.Failed, 3, "B", boom.Kind)
	t.wantSteps(failed, queue.Canceled, queue.KindWorkflowFailed, "C")
	t.noneReady("wf-failed")

	succeeded := chainFlow("w20", "wf-ended", "A")
	t.enqueueFlow(succeeded, time.Time{})
	t.succeed(t.takeSteps(succeeded, "wf-ended", "A")["A"], "a")
	retry(succeeded, "A", queue.ErrNotRetryable)
	canceled := chainFlow("w21", "wf-ended", "A", "B")
	t.enqueueFlow(canceled, time.Time{})
	if _, err := t.q.CancelWorkflow(t.Context(), "wf-ended", "w21"); err != nil {
		t.Fatalf("CancelWorkflow: %v", err)
	}
	retry(canceled, "A", queue.ErrNotRetryable)
	t.wantWorkflow(canceled, queue.Canceled, 2, "", "")
	t.noneReady("wf-ended")
}

type workflowWait struct {
	w   *queue.WorkflowState
	err error
}

// waitFor waits for f in the background, until ctx ends.
func (t *tester) waitFor(ctx context.Context, f *flow) <-chan workflowWait {
	done := make(chan workflowWait, 1)
	go func() {
		w, err := t.q.WaitWorkflow(ctx, f.spec.Queue, f.spec.ID)
		done <- workflowWait{w, err}
	}()
	return done
}

// wantWaited fails t unless a wait of done returns a state of status
// within 5s.
func (t *tester) wantWaited(done <-chan workflowWait, status queue.Status) *queue.WorkflowState {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil || r.w.Status != status {
			t.Fatalf("WaitWorkflow = %+v, %v; want it %s", r.w, r.err, status)
		}
		return r.w
	case <-time.After(5 * time.Second):
		t.Fatalf("WaitWorkflow did not return within 5s of the workflow's end (%s)", status)
	}
	return nil
}

// WaitWorkflow returns once the workflow ends: succeeded, failed (though
// a step still runs) or canceled; at once if it has; the cause of its
// context if that ends first; queue.ErrNotFound for an unknown workflow.
func waitWorkflow(t *tester) {
	t.sub("succeeded", func(t *tester) {
		f := chainFlow("w22", "wait-ok", "A", "B")
		t.enqueueFlow(f, time.Time{})
		first, second := t.waitFor(t.Context(), f), t.waitFor(t.Context(), f)
		t.succeed(t.takeSteps(f, "wait-ok", "A")["A"], "a")
		t.succeed(t.takeSteps(f, "wait-ok", "B")["B"], "b")
		for _, done := range []<-chan workflowWait{first, second} {
			if w := t.wantWaited(done, queue.Succeeded); w.Ended != 2 || string(w.Result) != "b" {
				t.Fatalf("WaitWorkflow = %+v; want both steps ended, and B's result", *w)
			}
		}
		t.wantWaited(t.waitFor(t.Context(), f), queue.Succeeded)
	})
	t.sub("failed", func(t *tester) {
		f := newFlow("w22", "wait-failed", step("A"), step("B", "A"), step("C"))
		t.enqueueFlow(f, time.Time{})
		done := t.waitFor(t.Context(), f)
		ds := t.takeSteps(f, "wait-failed", "A", "C")
		t.finish(ds["A"], boom)
		if w := t.wantWaited(done, queue.Failed); w.FailedStep != "A" {
			t.Fatalf("WaitWorkflow = %+v; want it failed by A", *w)
		}
		t.wantSteps(f, queue.Queued, "", "C")
	})
	t.sub("canceled", func(t *tester) {
		f := chainFlow("w22", "wait-canceled", "A", "B")
		t.enqueueFlow(f, time.Time{})
		done := t.waitFor(t.Context(), f)
		if _, err := t.q.CancelWorkflow(t.Context(), "wait-canceled", "w22"); err != nil {
			t.Fatalf("CancelWorkflow: %v", err)
		}
		t.wantWaited(done, queue.Canceled)
	})
	t.sub("context ends", func(t *tester) {
		f := chainFlow("w22", "wait-ctx", "A", "B")
		t.enqueueFlow(f, time.Time{})
		cause := errors.New("caller gave up")
		ctx, cancel := context.WithCancelCause(t.Context())
		done := t.waitFor(ctx, f)
		cancel(cause)
		select {
		case r := <-done:
			if !errors.Is(r.err, cause) {
				t.Fatalf("WaitWorkflow after its context ended = %+v, %v; want the cause", r.w, r.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("WaitWorkflow did not return within 5s of its context ending")
		}
		t.wantWorkflow(f, queue.Running, 0, "", "")
	})
	t.sub("not found", func(t *tester) {
		if w, err := t.q.WaitWorkflow(t.Context(), "wf", "nope"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("WaitWorkflow of an unknown workflow = %+v, %v; want queue.ErrNotFound", w, err)
		}
	})
}

// A workflow that succeeded holds its output step's result, as the step's
// Finish gave it, though other steps ended after it; none while it runs,
// and none if the output step was skipped.
func succeededHasResult(t *tester) {
	result := "b\x00\xff\n"
	f := newFlow("w23", "wf", step("A"), step("B", "A").isOutput(), step("C", "B"))
	t.enqueueFlow(f, time.Time{})
	t.succeed(t.takeSteps(f, "wf", "A")["A"], "a")
	t.succeed(t.takeSteps(f, "wf", "B")["B"], result)
	t.wantWorkflow(f, queue.Running, 2, "", "") // no result yet
	c := t.takeSteps(f, "wf", "C")["C"]
	wantInputs(t, c, input("B", result))
	t.succeed(c, "c")
	if w := t.wantWorkflow(f, queue.Succeeded, 3, "", ""); string(w.Result) != result {
		t.Fatalf("Workflow.Result = %q; want the output step's, %q", w.Result, result)
	}

	s := newFlow("w24", "wf", step("A"), step("S", "A"))
	t.enqueueFlow(s, time.Time{})
	t.succeed(t.takeSteps(s, "wf", "A")["A"], "a")
	t.finish(t.takeSteps(s, "wf", "S")["S"], locked)
	if w := t.wantWorkflow(s, queue.Succeeded, 2, "", ""); w.Result != nil {
		t.Fatalf("Workflow.Result = %q; want none: the output step was skipped", w.Result)
	}
}

// A running workflow's record, and its waiting and queued steps, do not
// expire. Once it ended (succeeded, failed or canceled), its record and
// every step's state are kept for the queue's state TTL; then they are
// gone, and its ID is free.
func workflowTTLsAfterEnd(t *tester) {
	ttl := t.b.StateTTL
	ok := chainFlow("t-ok", "ttl-ok", "A", "B")
	failed := chainFlow("t-failed", "ttl-failed", "A", "B")
	canceled := chainFlow("t-canceled", "ttl-canceled", "A", "B")
	running := chainFlow("t-running", "ttl-running", "A", "B")
	for _, f := range []*flow{ok, failed, canceled, running} {
		t.enqueueFlow(f, time.Time{})
	}
	t.succeed(t.takeSteps(ok, "ttl-ok", "A")["A"], "a")
	t.succeed(t.takeSteps(ok, "ttl-ok", "B")["B"], "b")
	t.finish(t.takeSteps(failed, "ttl-failed", "A")["A"], boom)
	if _, err := t.q.CancelWorkflow(t.Context(), "ttl-canceled", "t-canceled"); err != nil {
		t.Fatalf("CancelWorkflow: %v", err)
	}
	t.takeSteps(running, "ttl-running", "A")

	t.advance(ttl / 2)
	t.wantWorkflow(ok, queue.Succeeded, 2, "", "")
	t.wantWorkflow(failed, queue.Failed, 2, "A", boom.Kind)
	t.wantWorkflow(canceled, queue.Canceled, 2, "", "")
	other := chainFlow("t-ok", "ttl-ok", "A", "B")
	other.spec.Digest = "another definition"
	if err := t.q.EnqueueWorkflow(t.Context(), other.spec, time.Time{}); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("EnqueueWorkflow of another definition %v after the end, within the state TTL %v = %v; want queue.ErrDuplicate", ttl/2, ttl, err)
	}

	t.advance(ttl/2 + max(ttl/10, 300*time.Millisecond))
	for _, f := range []*flow{ok, failed, canceled} {
		what := fmt.Sprintf("past the state TTL %v of %s", ttl, f.spec.ID)
		t.wantNoWorkflow(f)
		t.wantNotFound(f.spec.Queue, f.id("A"))
		t.wantNotFound(f.spec.Queue, f.id("B"))
		if w, err := t.q.WaitWorkflow(t.Context(), f.spec.Queue, f.spec.ID); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("WaitWorkflow %s = %+v, %v; want queue.ErrNotFound", what, w, err)
		}
		if wc, err := t.q.CancelWorkflow(t.Context(), f.spec.Queue, f.spec.ID); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("CancelWorkflow %s = %+v, %v; want queue.ErrNotFound", what, wc, err)
		}
	}
	if err := t.q.RetryStep(t.Context(), "ttl-failed", "t-failed", "A"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("RetryStep past the state TTL = %v; want queue.ErrNotFound", err)
	}
	t.wantWorkflow(running, queue.Running, 0, "", "")
	t.wantSteps(running, queue.Queued, "", "A")
	t.wantSteps(running, queue.Waiting, "", "B")

	t.enqueueFlow(other, time.Time{})
	t.wantWorkflow(other, queue.Running, 0, "", "")
	t.takeSteps(other, "ttl-ok", "A")
}

// Roots enqueued to run later wait, scheduled, until Promote finds them
// due; their children wait for them.
func delayedRoots(t *tester) {
	f := newFlow("w25", "wf", step("A"), step("B"), step("C", "A", "B"))
	runAt := time.Now().Add(time.Hour)
	t.enqueueFlow(f, runAt)
	t.wantSteps(f, queue.Scheduled, "", "A", "B")
	t.wantSteps(f, queue.Waiting, "", "C")
	t.wantStats("wf", 0, 0, 2, 0)
	if n := t.promote("wf", time.Now(), 10); n != 0 {
		t.Fatalf("Promote before the roots are due moved %d", n)
	}
	t.noneReady("wf")
	if n := t.promote("wf", runAt, 10); n != 2 {
		t.Fatalf("Promote when the roots are due moved %d, want 2", n)
	}
	ds := t.takeSteps(f, "wf", "A", "B")
	t.succeed(ds["A"], "a")
	t.succeed(ds["B"], "b")
	c := t.takeSteps(f, "wf", "C")["C"]
	wantInputs(t, c, input("A", "a"), input("B", "b"))
	t.succeed(c, "c")
	t.wantWorkflow(f, queue.Succeeded, 3, "", "")
}
