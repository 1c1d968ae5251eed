package worker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A worker that learns its claims were taken over (it was cut off for
// longer than the visibility timeout, and another worker recovered them)
// stops the run it holds, with cause queue.ErrClaimLost, and never starts
// the prefetched one: both end in EventSuperseded, with no other outcome,
// and the other worker's outcome stands.
func TestClaimLost(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		release := make(chan struct{})
		causes := make(chan error, 2)
		tk := task.New("held", func(ctx context.Context, i int) (int, error) {
			select {
			case <-ctx.Done():
				causes <- context.Cause(ctx)
				return 0, context.Cause(ctx)
			case <-release:
				return i, nil
			}
		})
		var mu sync.Mutex
		events := map[string][]worker.Event{}
		w := worker.New(b.Queue, worker.Concurrency(1), worker.Prefetch(1), worker.Visibility(300*time.Millisecond),
			worker.PollWait(20*time.Millisecond), worker.OnEvent(func(e worker.Event) {
				mu.Lock()
				defer mu.Unlock()
				events[e.ID] = append(events[e.ID], e)
			}))
		worker.Register(w, tk)
		client := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(ctx, client, tk, []int{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, w)
		defer close(release)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			st, err := hs[0].State(ctx)
			if err == nil && st.Status == queue.Running {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the first task did not start: %+v, %v", st, err)
			}
		}
		time.Sleep(50 * time.Millisecond) // the second is prefetched by now
		// Another worker takes both over, as if this one had been cut off.
		if n, err := b.Queue.Recover(ctx, queue.Default, 0, 10); err != nil || n != 2 {
			t.Fatalf("Recover = %d, %v; want 2", n, err)
		}
		ds, err := b.Queue.Take(ctx, queue.Default, "thief", 10, 0)
		if err != nil || len(ds) != 2 {
			t.Fatalf("the other worker took %d, %v", len(ds), err)
		}
		select {
		case cause := <-causes:
			if !errors.Is(cause, queue.ErrClaimLost) {
				t.Fatalf("the run was cancelled with cause %v, want queue.ErrClaimLost", cause)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the run whose claim was lost was not stopped")
		}
		for _, d := range ds {
			if err := b.Queue.Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
				t.Fatalf("the other worker's finish: %v", err)
			}
		}
		stop()
		mu.Lock()
		defer mu.Unlock()
		for i, h := range hs {
			var kinds []worker.EventKind
			for _, e := range events[h.ID] {
				kinds = append(kinds, e.Kind)
			}
			want := []worker.EventKind{worker.EventStarted, worker.EventSuperseded}
			if i == 1 {
				want = want[1:] // never started
			}
			if len(kinds) != len(want) || kinds[len(kinds)-1] != worker.EventSuperseded || kinds[0] != want[0] {
				t.Fatalf("task %d's events %q, want %q", i+1, kinds, want)
			}
			if e := events[h.ID][len(kinds)-1]; !errors.Is(e.Err, queue.ErrClaimLost) {
				t.Errorf("task %d's superseded event: Err %v, want queue.ErrClaimLost", i+1, e.Err)
			}
			if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded {
				t.Errorf("task %d's state %+v, %v; want the other worker's success", i+1, st, err)
			}
		}
		select {
		case cause := <-causes:
			t.Fatalf("the prefetched task ran (cause %v)", cause)
		default:
		}
	})
}
