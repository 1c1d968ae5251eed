package worker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// batchLog records the calls of a batch handler: each call's arguments.
type batchLog struct {
	mu    sync.Mutex
	calls [][]int
}

func (l *batchLog) add(args []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, slices.Clone(args))
}

func (l *batchLog) snapshot() [][]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// doubler is a task whose batch handler doubles each argument.
func doubler(b *taskwaretest.Backend, log *batchLog, mws ...task.Middleware) (*task.Task[int, int], func(context.Context, []int) ([]int, error)) {
	tk := task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil },
		append([]task.Middleware{middleware.StoreResult(b.Store)}, mws...)...)
	return tk, func(ctx context.Context, args []int) ([]int, error) {
		log.add(args)
		out := make([]int, len(args))
		for i, n := range args {
			out[i] = 2 * n
		}
		return out, nil
	}
}

// 1,000 tasks of one group with batches of 100 run as 10 batches of 100,
// each task in exactly one; each keeps its own result, read back through
// its handle, and its own events.
func TestBatchThousand(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		log := &batchLog{}
		tk, fn := doubler(b, log)
		var mu sync.Mutex
		ended := map[string]int{}
		w := worker.New(b.Queue, fast(worker.OnEvent(func(e worker.Event) {
			if e.Kind == worker.EventSucceeded {
				mu.Lock()
				ended[e.ID]++
				mu.Unlock()
			}
		}))...)
		worker.RegisterBatch(w, tk, fn, worker.BatchSize(100), worker.BatchDelay(time.Hour))
		c := worker.NewClient(b.Queue, b.Store)
		args := make([]int, 1000)
		for i := range args {
			args[i] = i
		}
		hs, err := worker.EnqueueMany(t.Context(), c, tk, args, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		start(t, w)
		for i, h := range hs {
			if got, err := getWithin(t, h, 30*time.Second); err != nil || got != 2*i {
				t.Fatalf("task %d: Get = %d, %v; want %d", i, got, err, 2*i)
			}
		}
		calls := log.snapshot()
		seen := map[int]int{}
		for _, call := range calls {
			if len(call) != 100 {
				t.Errorf("a batch of %d tasks, want 100", len(call))
			}
			for _, n := range call {
				seen[n]++
			}
		}
		if len(calls) != 10 || len(seen) != 1000 {
			t.Fatalf("%d batches holding %d tasks; want 10 holding 1000", len(calls), len(seen))
		}
		for n, k := range seen {
			if k != 1 {
				t.Fatalf("task %d in %d batches", n, k)
			}
		}
		st, err := hs[7].State(t.Context())
		if err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored || st.Attempt != 1 {
			t.Fatalf("state of a member: %+v, %v", st, err)
		}
		count := func() (tasks, events int) {
			mu.Lock()
			defer mu.Unlock()
			for _, k := range ended {
				events += k
			}
			return len(ended), events
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			tasks, events := count()
			if tasks == 1000 && events == 1000 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("EventSucceeded of %d tasks, %d in all; want 1000, one each", tasks, events)
			}
		}
	})
}

// A batch handler's outcomes: a *BatchError ends each task its own way, an
// error ends them all; a task whose arguments do not decode fails alone,
// dead; a small group is flushed after its delay.
func TestBatchOutcomes(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		errOdd := errors.New("odd")
		tk := task.New("judge", func(ctx context.Context, n int) (int, error) { return n, nil }, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast()...)
		var calls [][]int
		var mu sync.Mutex
		worker.RegisterBatch(w, tk, func(ctx context.Context, args []int) ([]int, error) {
			mu.Lock()
			calls = append(calls, slices.Clone(args))
			mu.Unlock()
			if args[0] < 0 {
				return nil, errors.New("all of them")
			}
			errs := make([]error, len(args))
			out := make([]int, len(args))
			for i, n := range args {
				out[i] = n * 10
				if n%2 == 1 {
					errs[i] = task.Permanent(errOdd)
				}
			}
			return out, &worker.BatchError{Errs: errs}
		}, worker.BatchSize(10), worker.BatchDelay(50*time.Millisecond))
		c := worker.NewClient(b.Queue, b.Store)
		ctx := t.Context()
		var each []*worker.Handle[int]
		for i := range 4 {
			h, err := worker.Enqueue(ctx, c, tk, i, worker.Group("each"))
			if err != nil {
				t.Fatal(err)
			}
			each = append(each, h)
		}
		bad := &queue.Message{ID: "bad", Task: "judge", Queue: queue.Default, Payload: []byte("{not json"), EnqueuedAt: time.Now(),
			Attempt: 1, Group: "each"}
		if err := b.Queue.Enqueue(ctx, bad, time.Time{}); err != nil {
			t.Fatal(err)
		}
		var all []*worker.Handle[int]
		for _, n := range []int{-1, 2} {
			h, err := worker.Enqueue(ctx, c, tk, n, worker.Group("all"))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, h)
		}
		start(t, w)
		for i, h := range each {
			got, err := getWithin(t, h, 10*time.Second)
			switch {
			case i%2 == 0 && (err != nil || got != 10*i):
				t.Errorf("task %d: %d, %v; want %d", i, got, err, 10*i)
			case i%2 == 1 && !errors.Is(err, queue.ErrDeadLettered):
				t.Errorf("task %d: %d, %v; want its own permanent failure, dead", i, got, err)
			}
			if st, _ := h.State(ctx); i%2 == 1 && (st.Status != queue.Dead || st.Error != "odd") {
				t.Errorf("task %d: state %+v; want dead of its own error", i, st)
			}
		}
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		st, err := b.Queue.Wait(waitCtx, queue.Default, "bad")
		if err != nil || st.Status != queue.Dead || st.Kind != task.ErrBadPayload.ErrorKind() {
			t.Fatalf("the task that does not decode: %+v, %v; want dead, %s", st, err, task.ErrBadPayload.ErrorKind())
		}
		for _, h := range all {
			if _, err := getWithin(t, h, 10*time.Second); err == nil {
				t.Errorf("task of a batch that failed whole: %v", err)
			}
			if st, err := h.State(ctx); err != nil || st.Status != queue.Failed || st.Error != "all of them" {
				t.Errorf("task of a batch that failed whole: state %+v, %v", st, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(calls) != 2 {
			t.Fatalf("batches %v; want one per group", calls)
		}
		for _, call := range calls {
			if !slices.Equal(call, []int{0, 1, 2, 3}) && !slices.Equal(call, []int{-1, 2}) {
				t.Errorf("batch %v: want [0 1 2 3] (the bad task left out) or [-1 2]", call)
			}
		}
	})
}

// A failed task of a batch follows its task's retry policy: it goes back
// to its group, and runs again in a later batch.
func TestBatchRetry(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		log := &batchLog{}
		tk := task.New("flaky", func(ctx context.Context, n int) (int, error) { return n, nil },
			middleware.StoreResult(b.Store), middleware.Retry(3, middleware.RetryBackoff(10*time.Millisecond, 20*time.Millisecond)))
		w := worker.New(b.Queue, fast()...)
		var mu sync.Mutex
		failed := false
		worker.RegisterBatch(w, tk, func(ctx context.Context, args []int) ([]int, error) {
			log.add(args)
			mu.Lock()
			defer mu.Unlock()
			errs := make([]error, len(args))
			for i, n := range args {
				if n == 1 && !failed {
					failed, errs[i] = true, errors.New("once")
				}
			}
			return args, &worker.BatchError{Errs: errs}
		}, worker.BatchSize(2), worker.BatchDelay(50*time.Millisecond))
		c := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(t.Context(), c, tk, []int{0, 1}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		start(t, w)
		for i, h := range hs {
			if got, err := getWithin(t, h, 10*time.Second); err != nil || got != i {
				t.Fatalf("task %d: %d, %v", i, got, err)
			}
		}
		if st, _ := hs[1].State(t.Context()); st.Attempt != 2 {
			t.Fatalf("the retried task: attempt %d, want 2", st.Attempt)
		}
		if calls := log.snapshot(); len(calls) != 2 || !slices.Equal(calls[1], []int{1}) {
			t.Fatalf("batches %v; want [0 1], then [1] alone", calls)
		}
	})
}

// A worker with no batch handler for a batch's task runs each of its
// tasks with the plain handler.
func TestBatchPlainFallback(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("plain", func(ctx context.Context, n int) (string, error) { return fmt.Sprint("plain ", n), nil },
			middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(t.Context(), c, tk, []int{1, 2, 3}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		made, err := b.Queue.FlushGroups(t.Context(), queue.Default, []queue.GroupPolicy{{Task: "plain", Size: 3, Delay: time.Hour}}, time.Now())
		if err != nil || made != 1 {
			t.Fatalf("FlushGroups = %d, %v; want 1 batch", made, err)
		}
		w := worker.New(b.Queue, fast()...)
		worker.Register(w, tk)
		start(t, w)
		for i, h := range hs {
			if got, err := getWithin(t, h, 10*time.Second); err != nil || got != fmt.Sprint("plain ", i+1) {
				t.Fatalf("task %d: %q, %v", i+1, got, err)
			}
		}
	})
}

// A task canceled while its batch runs ends canceled; the others as the
// handler said.
func TestBatchCancelRunningMember(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("slow", func(ctx context.Context, n int) (int, error) { return n, nil })
		w := worker.New(b.Queue, fast()...)
		inside, release := make(chan struct{}), make(chan struct{})
		worker.RegisterBatch(w, tk, func(ctx context.Context, args []int) ([]int, error) {
			close(inside)
			<-release
			return args, nil
		}, worker.BatchSize(2))
		c := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(t.Context(), c, tk, []int{1, 2}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		start(t, w)
		select {
		case <-inside:
		case <-time.After(10 * time.Second):
			t.Fatal("the batch did not start")
		}
		if out, err := hs[1].Cancel(t.Context()); err != nil || out != queue.CancelSent {
			t.Fatalf("Cancel of a running member = %q, %v", out, err)
		}
		close(release)
		if _, err := getWithin(t, hs[0], 10*time.Second); err != nil {
			t.Fatalf("the other member: %v", err)
		}
		if _, err := getWithin(t, hs[1], 10*time.Second); !errors.Is(err, queue.ErrCanceled) {
			t.Fatalf("the canceled member: %v, want queue.ErrCanceled", err)
		}
	})
}

// blockingBatch registers a batch handler of tk that tells inside once it
// runs, then waits for its context's end, and sends its cause.
func blockingBatch(w *worker.Worker, tk *task.Task[int, int], inside chan<- struct{}, causes chan<- error, opts ...worker.BatchOption) {
	worker.RegisterBatch(w, tk, func(ctx context.Context, args []int) ([]int, error) {
		inside <- struct{}{}
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, context.Cause(ctx)
	}, opts...)
}

// A worker that learns its batch was taken over stops the batch handler,
// with cause queue.ErrClaimLost; each task of the batch ends in
// EventSuperseded, and the other worker's outcome stands.
func TestBatchClaimLost(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		tk := task.New("held", func(ctx context.Context, i int) (int, error) { return i, nil })
		var mu sync.Mutex
		events := map[string][]worker.Event{}
		w := worker.New(b.Queue, worker.Concurrency(1), worker.Prefetch(0), worker.Visibility(2*time.Second), worker.PollWait(20*time.Millisecond),
			worker.PromoteEvery(10*time.Millisecond), worker.OnEvent(func(e worker.Event) {
				mu.Lock()
				defer mu.Unlock()
				events[e.ID] = append(events[e.ID], e)
			}))
		inside, causes := make(chan struct{}, 1), make(chan error, 1)
		blockingBatch(w, tk, inside, causes, worker.BatchSize(2))
		client := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(ctx, client, tk, []int{1, 2}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, w)
		select {
		case <-inside:
		case <-time.After(10 * time.Second):
			t.Fatal("the batch did not start")
		}
		// Another worker takes the batch over, as if this one had been cut
		// off. (The worker's claims are renewed every 2s/3: it learns of
		// the takeover after the thief's Take, which it would else race.)
		if n, err := b.Queue.Recover(ctx, queue.Default, 0, 10); err != nil || n != 1 {
			t.Fatalf("Recover = %d, %v; want the batch", n, err)
		}
		ds, err := b.Queue.Take(ctx, queue.Default, "thief", 10, 0)
		if err != nil || len(ds) != 1 || ds[0].Batch == nil {
			t.Fatalf("the other worker took %+v, %v", ds, err)
		}
		ms, err := b.Queue.StartBatch(ctx, ds[0], "thief", time.Now())
		if err != nil || len(ms) != 2 {
			t.Fatalf("the other worker's StartBatch: %d members, %v", len(ms), err)
		}
		select {
		case cause := <-causes:
			if !errors.Is(cause, queue.ErrClaimLost) {
				t.Fatalf("the batch was cancelled with cause %v, want queue.ErrClaimLost", cause)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the batch whose claim was lost was not stopped")
		}
		ok := queue.Outcome{Status: queue.Succeeded, Attempt: 1}
		if err := b.Queue.FinishBatch(ctx, ds[0], ms, []queue.Outcome{ok, ok}); err != nil {
			t.Fatalf("the other worker's finish: %v", err)
		}
		stop()
		mu.Lock()
		defer mu.Unlock()
		for i, h := range hs {
			var kinds []worker.EventKind
			for _, e := range events[h.ID] {
				kinds = append(kinds, e.Kind)
			}
			if !slices.Equal(kinds, []worker.EventKind{worker.EventStarted, worker.EventSuperseded}) {
				t.Fatalf("task %d's events %q, want started, superseded", i+1, kinds)
			}
			if e := events[h.ID][1]; !errors.Is(e.Err, queue.ErrClaimLost) {
				t.Errorf("task %d's superseded event: Err %v, want queue.ErrClaimLost", i+1, e.Err)
			}
			if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded || st.Worker != "thief" {
				t.Errorf("task %d's state %+v, %v; want the other worker's success", i+1, st, err)
			}
		}
	})
}

// A batch cut short by its worker's stop (past the grace period) goes back
// to its group, no attempt counted, and another worker runs it.
func TestBatchAbandonedAtStop(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("long", func(ctx context.Context, i int) (int, error) { return i, nil }, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast(worker.Grace(50*time.Millisecond))...)
		inside, causes := make(chan struct{}, 1), make(chan error, 1)
		blockingBatch(w, tk, inside, causes, worker.BatchSize(2))
		client := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(t.Context(), client, tk, []int{1, 2}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, w)
		select {
		case <-inside:
		case <-time.After(10 * time.Second):
			t.Fatal("the batch did not start")
		}
		stop()
		if cause := <-causes; !errors.Is(cause, task.ErrAbandoned) {
			t.Fatalf("the batch was cancelled with cause %v, want task.ErrAbandoned", cause)
		}
		for _, h := range hs {
			if st, err := h.State(t.Context()); err != nil || st.Status.Terminal() || st.Attempt != 1 {
				t.Fatalf("a task of the abandoned batch: %+v, %v; want it waiting again, attempt 1", st, err)
			}
		}
		log := &batchLog{}
		_, fn := doubler(b, log)
		w2 := worker.New(b.Queue, fast()...)
		worker.RegisterBatch(w2, tk, fn, worker.BatchSize(2))
		start(t, w2)
		for i, h := range hs {
			if got, err := getWithin(t, h, 10*time.Second); err != nil || got != 2*(i+1) {
				t.Fatalf("task %d: %d, %v", i+1, got, err)
			}
		}
		if calls := log.snapshot(); len(calls) != 1 || !slices.Equal(slices.Sorted(slices.Values(calls[0])), []int{1, 2}) {
			t.Fatalf("batches %v; want 1 and 2 in one", calls)
		}
	})
}

// A task of a batch task enqueued without a group runs as a batch of one;
// a batch of a task the worker does not know ends each of its tasks dead
// with ErrUnknownTask.
func TestBatchOfOneAndUnknown(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		log := &batchLog{}
		tk, fn := doubler(b, log)
		nobody := task.New("nobody", func(ctx context.Context, n int) (int, error) { return n, nil })
		c := worker.NewClient(b.Queue, b.Store)
		ctx := t.Context()
		alone, err := worker.Enqueue(ctx, c, tk, 21)
		if err != nil {
			t.Fatal(err)
		}
		unknown, err := worker.EnqueueMany(ctx, c, nobody, []int{1, 2}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		if made, err := b.Queue.FlushGroups(ctx, queue.Default, []queue.GroupPolicy{{Task: "nobody", Size: 2, Delay: time.Hour}}, time.Now()); err != nil || made != 1 {
			t.Fatalf("FlushGroups = %d, %v; want 1 batch", made, err)
		}
		w := worker.New(b.Queue, fast()...)
		worker.RegisterBatch(w, tk, fn)
		start(t, w)
		if got, err := getWithin(t, alone, 10*time.Second); err != nil || got != 42 {
			t.Fatalf("the task enqueued alone: %d, %v", got, err)
		}
		if calls := log.snapshot(); len(calls) != 1 || !slices.Equal(calls[0], []int{21}) {
			t.Fatalf("batches %v; want [21]", calls)
		}
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for _, h := range unknown {
			st, err := b.Queue.Wait(waitCtx, h.Queue, h.ID)
			if err != nil || st.Status != queue.Dead || st.Kind != worker.ErrUnknownTask.ErrorKind() {
				t.Fatalf("a task of an unknown batch: %+v, %v; want dead, %s", st, err, worker.ErrUnknownTask.ErrorKind())
			}
		}
	})
}

// Cancel of a running batch's own ID is CancelSent, on every backend: its
// handler's context ends with cause queue.ErrCanceled, its tasks end
// canceled (none is retried), and the batch's state ends Succeeded, as
// every finished batch's does.
func TestBatchCancelRunningBatch(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("slow", func(ctx context.Context, n int) (int, error) { return n, nil },
			middleware.Retry(3, middleware.RetryBackoff(time.Millisecond, time.Millisecond)))
		w := worker.New(b.Queue, fast()...)
		inside, causes := make(chan struct{}, 1), make(chan error, 1)
		blockingBatch(w, tk, inside, causes, worker.BatchSize(2))
		c := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(t.Context(), c, tk, []int{1, 2}, worker.Group("g"))
		if err != nil {
			t.Fatal(err)
		}
		start(t, w)
		select {
		case <-inside:
		case <-time.After(10 * time.Second):
			t.Fatal("the batch did not start")
		}
		page, err := b.Queue.ListTasks(t.Context(), "default", queue.TaskQuery{Set: queue.RunningTasks})
		if err != nil || len(page.Tasks) != 1 {
			t.Fatalf("running tasks = %+v, %v; want the batch", page, err)
		}
		id := page.Tasks[0].ID
		if out, err := b.Queue.Cancel(t.Context(), "default", id); err != nil || out != queue.CancelSent {
			t.Fatalf("Cancel of the running batch = %q, %v; want CancelSent", out, err)
		}
		select {
		case cause := <-causes:
			if !errors.Is(cause, queue.ErrCanceled) {
				t.Fatalf("the handler's context ended with %v, want queue.ErrCanceled", cause)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the handler's context did not end")
		}
		for i, h := range hs {
			if _, err := getWithin(t, h, 10*time.Second); !errors.Is(err, queue.ErrCanceled) {
				t.Fatalf("task %d of the canceled batch: %v, want queue.ErrCanceled", i, err)
			}
		}
		st, err := b.Queue.Wait(t.Context(), "default", id)
		if err != nil || st.Status != queue.Succeeded {
			t.Fatalf("Wait of the batch = %+v, %v; want succeeded", st, err)
		}
	})
}
