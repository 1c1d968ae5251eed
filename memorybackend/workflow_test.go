package memorybackend_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// fanIn is a workflow of n roots on queue name and a join of them all.
func fanIn(id, name string, n int) *queue.WorkflowSpec {
	wf := &queue.WorkflowSpec{ID: id, Name: "fan-in", Queue: name, Digest: "d"}
	join := &queue.Message{ID: queue.StepID(id, "join"), Task: "sum", Queue: name,
		Step: &queue.Step{Workflow: id, Home: name, Name: "join", Output: true}}
	for i := range n {
		root := fmt.Sprintf("r%03d", i)
		wf.Steps = append(wf.Steps, &queue.Message{ID: queue.StepID(id, root), Task: "part", Queue: name,
			Step: &queue.Step{Workflow: id, Home: name, Name: root, Children: []queue.StepRef{{Queue: name, Name: "join"}}}})
		join.Step.Parents = append(join.Step.Parents, queue.StepRef{Queue: name, Name: root})
	}
	wf.Steps = append(wf.Steps, join)
	return wf
}

// Workers that finish a fan-out of 100 at once, each finish sent twice,
// release its join once, with its 100 inputs in order: the release
// happens under the queue's lock, in the finish of the last parent.
func TestWorkflowConcurrentFanIn(t *testing.T) {
	const n, workers = 100, 8
	b, _ := newBackend()
	q := b.Queue()
	ctx := context.Background()
	if err := q.EnqueueWorkflow(ctx, fanIn("f", "wf", n), time.Time{}); err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		joins []*queue.Delivery
	)
	for w := range workers {
		wg.Go(func() {
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
				ds, err := q.Take(ctx, "wf", fmt.Sprintf("w%d", w), 3, 20*time.Millisecond)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					if d.Step.Name == "join" {
						mu.Lock()
						joins = append(joins, d)
						mu.Unlock()
						continue
					}
					o := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte(d.Step.Name)}
					for range 2 {
						if err := q.Finish(ctx, d, o); err != nil {
							t.Error(err)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	ds, err := q.Take(ctx, "wf", "last", 10, 0)
	ds = append(joins, ds...)
	if err != nil || len(ds) != 1 || len(ds[0].Inputs) != n {
		t.Fatalf("the workers took %d joins, and then Take %d deliveries, %v; want the join once, with %d inputs", len(joins), len(ds)-len(joins), err, n)
	}
	for i, in := range ds[0].Inputs {
		if want := fmt.Sprintf("r%03d", i); in.Step != want || string(in.Value) != want {
			t.Fatalf("join's input %d = %+v; want %s's result", i, in, want)
		}
	}
	if err := q.Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("sum")}); err != nil {
		t.Fatal(err)
	}
	w, err := q.WaitWorkflow(ctx, "wf", "f")
	if err != nil || w.Status != queue.Succeeded || w.Ended != n+1 || string(w.Result) != "sum" {
		t.Fatalf("WaitWorkflow = %+v, %v; want it succeeded, every step ended, the join's result", w, err)
	}
}
