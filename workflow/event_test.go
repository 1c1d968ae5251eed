package workflow_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// events records the events of a worker and a client.
type events struct {
	mu  sync.Mutex
	all []worker.Event
}

func (r *events) add(e worker.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, e)
}

// of returns the workflow events of workflow id, in order.
func (r *events) of(id string) []worker.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []worker.Event
	for _, e := range r.all {
		if e.Kind.OfWorkflow() && e.Workflow == id {
			out = append(out, e)
		}
	}
	return out
}

// TestWorkflowEvents: a workflow's start, end and failure are published
// once each: the start by the client that enqueued it (not again by an
// enqueue of the same ID, which stores nothing), the success or failure
// by the worker whose step's finish ended it, naming that step, and a
// cancel by the client, once; every step's own events name its workflow
// and step.
func TestWorkflowEvents(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rec := &events{}
		inc := task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
		broken := task.New("broken", func(ctx context.Context, n int) (int, error) { return 0, task.Permanent(errFlaky) })
		release := make(chan struct{})
		block := task.New("block", func(ctx context.Context, n int) (int, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return n, ctx.Err()
		})
		w := worker.New(b.Queue, worker.Concurrency(4), worker.PollWait(20*time.Millisecond), worker.PromoteEvery(10*time.Millisecond),
			worker.Grace(2*time.Second), worker.OnEvent(rec.add))
		worker.Register(w, inc)
		worker.Register(w, broken)
		worker.Register(w, block)
		stop := taskwaretest.StartWorker(t, w)
		defer close(release)
		c := worker.NewClient(b.Queue, b.Store, worker.WithWorkflows(b.Queue), worker.OnEvent(rec.add))

		build := func(name string, second *task.Task[int, int]) *workflow.Def[int] {
			wb := workflow.New(name)
			a := workflow.Start(wb, inc, 1, workflow.Name("a"))
			def, err := workflow.Build(wb, workflow.Then(wb, a, second, workflow.Name("b")))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			return def
		}
		run := func(id string, def *workflow.Def[int], wantErr bool) *workflow.Handle[int] {
			h, err := workflow.Enqueue(ctx, c, def, workflow.ID(id))
			if err != nil {
				t.Fatalf("Enqueue(%s): %v", id, err)
			}
			if _, err := get(t, h); (err != nil) != wantErr {
				t.Fatalf("Get(%s) = %v; want an error: %v", id, err, wantErr)
			}
			if _, err := workflow.Enqueue(ctx, c, def, workflow.ID(id)); err != nil { // sent again: stores nothing
				t.Fatalf("Enqueue(%s) again: %v", id, err)
			}
			return h
		}
		run("ev-ok", build("ok", inc), false)
		run("ev-bad", build("bad", broken), true)
		h, err := workflow.Enqueue(ctx, c, build("held", block), workflow.ID("ev-cancel"))
		if err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		eventually(t, "step b of ev-cancel running", func() bool {
			_, steps := stateOf(t, h)
			return steps["b"].Status == queue.Running
		})
		for range 2 {
			if _, err := h.Cancel(ctx); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
		}
		if _, err := get(t, h); !errors.Is(err, queue.ErrCanceled) {
			t.Fatalf("Get of a canceled workflow = %v", err)
		}
		stop() // the worker's subscribers have seen its events
		if err := c.FlushEvents(ctx); err != nil {
			t.Fatal(err)
		}

		want := map[string][]worker.EventKind{
			"ev-ok":     {worker.EventWorkflowStarted, worker.EventWorkflowSucceeded},
			"ev-bad":    {worker.EventWorkflowStarted, worker.EventWorkflowFailed},
			"ev-cancel": {worker.EventWorkflowStarted, worker.EventWorkflowCanceled},
		}
		for id, kinds := range want {
			// The client publishes the start once Enqueue returns, and a
			// worker the end: a fast workflow's end may come first.
			got := rec.of(id)
			slices.SortStableFunc(got, func(a, b worker.Event) int {
				return cmp.Compare(boolInt(a.Kind != worker.EventWorkflowStarted), boolInt(b.Kind != worker.EventWorkflowStarted))
			})
			if len(got) != len(kinds) {
				t.Fatalf("%s: %d workflow events %+v; want %v", id, len(got), got, kinds)
			}
			for i, e := range got {
				if e.Kind != kinds[i] || e.Queue != queue.Default || e.Task != "" || e.ID != "" {
					t.Errorf("%s: event %d = %+v; want %s of queue %s, no task", id, i, e, kinds[i], queue.Default)
				}
			}
			switch end := got[1]; end.Kind {
			case worker.EventWorkflowSucceeded, worker.EventWorkflowFailed:
				if end.Step != "b" || end.Worker == "" {
					t.Errorf("%s: %+v; want step b, and the worker", id, end)
				}
			}
		}
		// The end, found by its kind: a fast workflow's end may be recorded
		// before its start.
		end := func(id string, kind worker.EventKind) worker.Event {
			i := slices.IndexFunc(rec.of(id), func(e worker.Event) bool { return e.Kind == kind })
			if i < 0 {
				t.Fatalf("%s: no %s event", id, kind)
			}
			return rec.of(id)[i]
		}
		if e := end("ev-bad", worker.EventWorkflowFailed); !errors.Is(e.Err, errFlaky) {
			t.Errorf("EventWorkflowFailed.Err = %v; want the step's failure", e.Err)
		}
		if e := end("ev-cancel", worker.EventWorkflowCanceled); !errors.Is(e.Err, queue.ErrCanceled) {
			t.Errorf("EventWorkflowCanceled.Err = %v; want queue.ErrCanceled", e.Err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		steps := 0
		for _, e := range rec.all {
			if e.Kind.OfWorkflow() {
				continue
			}
			steps++
			if e.Workflow == "" || e.Step == "" || e.ID != queue.StepID(e.Workflow, e.Step) {
				t.Errorf("a step's event %+v: want its workflow and step", e)
			}
		}
		if steps == 0 {
			t.Fatal("no step event")
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
