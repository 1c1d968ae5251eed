package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// recorder keeps the events it is given, by task ID.
type recorder struct {
	mu   sync.Mutex
	byID map[string][]worker.Event
}

func newRecorder() *recorder { return &recorder{byID: map[string][]worker.Event{}} }

func (r *recorder) add(e worker.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[e.ID] = append(r.byID[e.ID], e)
}

// kinds returns the worker's events of id, in order, after checking that
// the client's enqueued came exactly once (the client and the worker feed
// the recorder on goroutines of their own: their order is not one).
func (r *recorder) kinds(t *testing.T, id string) []worker.EventKind {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []worker.EventKind
	enqueued := 0
	for _, e := range r.byID[id] {
		if e.Kind == worker.EventEnqueued {
			enqueued++
			continue
		}
		out = append(out, e.Kind)
	}
	if enqueued != 1 {
		t.Errorf("task %s: %d enqueued events, want 1", id, enqueued)
	}
	return out
}

func (r *recorder) last(id string, kind worker.EventKind) (worker.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.byID[id]) - 1; i >= 0; i-- {
		if e := r.byID[id][i]; e.Kind == kind {
			return e, true
		}
	}
	return worker.Event{}, false
}

// Every outcome the worker knows fires its event exactly once, the runs
// that never reach a chain (an unknown task) included, with the task's
// facts: its lock and fence, its duration, its error, matchable.
func TestEventsFireOncePerOutcome(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rec := newRecorder()
		inspector, ok := b.Locker.(lock.Inspector)
		if !ok {
			t.Fatalf("%T shows no locks", b.Locker)
		}
		errBoom := errors.New("boom")
		var flakyRuns, requeues atomic.Int32
		ok1 := task.New("ok", func(ctx context.Context, _ int) (int, error) { return 1, nil })
		fail := task.New("fail", func(ctx context.Context, _ int) (int, error) { return 0, errBoom })
		flaky := task.New("flaky", func(ctx context.Context, _ int) (int, error) {
			if flakyRuns.Add(1) == 1 {
				return 0, errBoom
			}
			return 2, nil
		}, middleware.Retry(2, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)))
		again := task.New("again", func(ctx context.Context, _ int) (int, error) {
			if requeues.Add(1) == 1 {
				return 0, task.Requeue(10*time.Millisecond, false, nil)
			}
			return 3, nil
		})
		locked := task.New("locked", func(ctx context.Context, _ int) (int, error) { return 4, nil },
			middleware.SkipLocked(), middleware.WithLock(b.Locker, "ev-held"))
		guarded := task.New("guarded", func(ctx context.Context, _ int) (int, error) { return 5, nil },
			middleware.WithLock(b.Locker, "ev-guard"))
		dead := task.New("dead", func(ctx context.Context, _ int) (int, error) { return 0, task.Permanent(errNoAccount) })
		lost := task.New("lost", func(ctx context.Context, _ int) (int, error) {
			if err := inspector.Break(ctx, "ev-lost"); err != nil {
				return 0, err
			}
			select { // the renewal finds the lease gone
			case <-ctx.Done():
				return 0, context.Cause(ctx)
			case <-time.After(5 * time.Second):
				return 0, errors.New("the lease was never found lost")
			}
		}, middleware.WithLock(b.Locker, "ev-lost", lock.TTL(300*time.Millisecond)))
		ghost := task.New("ghost", func(ctx context.Context, _ int) (int, error) { return 0, nil }) // not registered
		rescued := task.New("rescued", func(ctx context.Context, _ int) (int, error) { return 6, nil })

		// The held lock, and a task an earlier worker took and died with.
		lease, err := b.Locker.TryAcquire(ctx, "ev-held", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = b.Locker.Release(ctx, lease) }()
		c := worker.NewClient(b.Queue, b.Store, worker.OnEvent(rec.add))
		hRescued, err := worker.Enqueue(ctx, c, rescued, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ds, err := b.Queue.Take(ctx, queue.Default, "died", 1, 0); err != nil || len(ds) != 1 {
			t.Fatalf("Take = %d, %v", len(ds), err)
		}

		w := worker.New(b.Queue, fast(worker.OnEvent(rec.add), worker.Visibility(time.Second))...)
		worker.Register(w, ok1)
		worker.Register(w, fail)
		worker.Register(w, flaky)
		worker.Register(w, again)
		worker.Register(w, locked)
		worker.Register(w, guarded)
		worker.Register(w, dead)
		worker.Register(w, lost)
		worker.Register(w, rescued)
		stop := start(t, w)

		enqueue := func(tk *task.Task[int, int]) string {
			h, err := worker.Enqueue(ctx, c, tk, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = getWithin(t, h, 10*time.Second)
			return h.ID
		}
		ids := map[string]string{}
		for _, tk := range []*task.Task[int, int]{ok1, fail, flaky, again, locked, guarded, dead, lost, ghost} {
			ids[tk.Name()] = enqueue(tk)
		}
		_, _ = getWithin(t, hRescued, 10*time.Second)
		ids["rescued"] = hRescued.ID
		// A payload that does not decode: it reaches the chain, which
		// dead-letters it.
		if err := b.Queue.Enqueue(ctx, &queue.Message{ID: "bad-payload", Task: "ok", Queue: queue.Default,
			Payload: []byte("{not json"), EnqueuedAt: time.Now(), Attempt: 1}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		_, _ = getWithin(t, worker.HandleOf(c, ok1, queue.Default, "bad-payload"), 10*time.Second)
		stop() // Run returns once the subscribers saw every event

		const (
			started, succeeded, failed = worker.EventStarted, worker.EventSucceeded, worker.EventFailed
		)
		want := map[string][]worker.EventKind{
			"ok":      {started, succeeded},
			"fail":    {started, failed},
			"flaky":   {started, worker.EventRetrying, started, succeeded},
			"again":   {started, worker.EventRescheduled, started, succeeded},
			"locked":  {started, worker.EventSkipped},
			"guarded": {started, succeeded},
			"dead":    {started, worker.EventDeadLettered},
			"lost":    {started, worker.EventLeaseLost, failed},
			"ghost":   {worker.EventDeadLettered},
			"rescued": {worker.EventTakenOver, started, succeeded},
		}
		// A retry due in 10ms may start before its first run's end event
		// is published (see OnEvent): the two runs' events then interleave.
		interleaved := map[string][]worker.EventKind{
			"flaky": {started, started, worker.EventRetrying, succeeded},
			"again": {started, started, worker.EventRescheduled, succeeded},
		}
		for name, kinds := range want {
			got := rec.kinds(t, ids[name])
			if !slices.Equal(got, kinds) && (interleaved[name] == nil || !slices.Equal(got, interleaved[name])) {
				t.Errorf("%s: events %v, want %v", name, got, kinds)
			}
		}
		rec.mu.Lock()
		badPayload := rec.byID["bad-payload"]
		rec.mu.Unlock()
		if len(badPayload) != 2 || badPayload[0].Kind != started || badPayload[1].Kind != worker.EventDeadLettered ||
			!errors.Is(badPayload[1].Err, task.ErrBadPayload) {
			t.Errorf("bad payload: events %+v, want started, then dead_lettered matching task.ErrBadPayload", badPayload)
		}

		// The facts each carries.
		checks := []struct {
			name string
			kind worker.EventKind
			ok   func(e worker.Event) bool
		}{
			{"ok", succeeded, func(e worker.Event) bool {
				return e.Task == "ok" && e.Queue == queue.Default && e.Attempt == 1 && e.Worker != "" && e.Duration > 0 && e.Err == nil
			}},
			{"ok", started, func(e worker.Event) bool { return e.Waited > 0 && e.Duration == 0 }},
			{"fail", failed, func(e worker.Event) bool { return errors.Is(e.Err, errBoom) }},
			{"flaky", worker.EventRetrying, func(e worker.Event) bool {
				return e.Attempt == 1 && errors.Is(e.Err, errBoom) && !e.RunAt.IsZero()
			}},
			{"flaky", succeeded, func(e worker.Event) bool { return e.Attempt == 2 }},
			{"locked", worker.EventSkipped, func(e worker.Event) bool {
				return errors.Is(e.Err, task.ErrSkipped) && errors.Is(e.Err, lock.ErrLocked) && e.LockKey == "ev-held" && e.Fence == 0
			}},
			{"guarded", succeeded, func(e worker.Event) bool { return e.LockKey == "ev-guard" && e.Fence > 0 && e.LockHeld > 0 }},
			{"dead", worker.EventDeadLettered, func(e worker.Event) bool {
				return errors.Is(e.Err, queue.ErrDeadLettered) && errors.Is(e.Err, errNoAccount)
			}},
			{"lost", worker.EventLeaseLost, func(e worker.Event) bool { return e.LockKey == "ev-lost" && e.Fence > 0 }},
			{"lost", failed, func(e worker.Event) bool { return errors.Is(e.Err, lock.ErrLeaseLost) }},
			{"ghost", worker.EventDeadLettered, func(e worker.Event) bool {
				return errors.Is(e.Err, queue.ErrDeadLettered) && errors.Is(e.Err, worker.ErrUnknownTask) && e.Duration == 0
			}},
			{"rescued", worker.EventTakenOver, func(e worker.Event) bool { return e.Task == "rescued" }},
		}
		for _, ch := range checks {
			e, found := rec.last(ids[ch.name], ch.kind)
			if !found || !ch.ok(e) {
				t.Errorf("%s: %s event %+v (found %v) lacks its facts", ch.name, ch.kind, e, found)
			}
		}
		if n := w.DroppedEvents() + c.DroppedEvents(); n != 0 {
			t.Errorf("%d events dropped", n)
		}
	})
}

// A stop ends what runs past the grace period as abandoned, and gives back
// what was taken and never started as handed back: each once.
func TestEventsAtStop(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		rec := newRecorder()
		began := make(chan struct{}, 4)
		tk := task.New("stuck", func(ctx context.Context, _ int) (int, error) {
			began <- struct{}{}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		c := worker.NewClient(b.Queue, b.Store, worker.OnEvent(rec.add))
		h1, err := worker.Enqueue(ctx, c, tk, 1)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := worker.Enqueue(ctx, c, tk, 2)
		if err != nil {
			t.Fatal(err)
		}
		w := worker.New(b.Queue, fast(worker.OnEvent(rec.add), worker.Concurrency(1), worker.Prefetch(1),
			worker.Grace(100*time.Millisecond), worker.Visibility(time.Minute))...)
		worker.Register(w, tk)
		stop := start(t, w)
		select {
		case <-began:
		case <-time.After(5 * time.Second):
			t.Fatal("the first task did not start")
		}
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			// The second is prefetched once nobody else can take it.
			if ds, err := b.Queue.Take(ctx, queue.Default, "probe", 1, 0); err != nil || len(ds) == 0 {
				break
			} else if time.Now().After(end) {
				t.Fatal("the worker did not prefetch the second task")
			} else {
				_ = b.Queue.Finish(ctx, ds[0], queue.Outcome{Status: queue.Scheduled, RunAt: time.Now(), Attempt: 1})
			}
		}
		stop()
		if got, want := rec.kinds(t, h1.ID), []worker.EventKind{worker.EventStarted, worker.EventAbandoned}; !slices.Equal(got, want) {
			t.Errorf("running task: events %v, want %v", got, want)
		}
		if got, want := rec.kinds(t, h2.ID), []worker.EventKind{worker.EventHandedBack}; !slices.Equal(got, want) {
			t.Errorf("prefetched task: events %v, want %v", got, want)
		}
		if e, _ := rec.last(h1.ID, worker.EventAbandoned); !errors.Is(e.Err, task.ErrAbandoned) {
			t.Errorf("abandoned event's error %v, want task.ErrAbandoned", e.Err)
		}
	})
}

// A subscriber that blocks for 10 s does not hold up a single task, and a
// panicking one breaks nothing: the others still see every event.
func TestSlowOrPanickingSubscriberDoesNotSlowTheWorker(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		release := make(chan struct{})
		var blocked atomic.Bool
		var seen atomic.Int64
		slow := func(e worker.Event) {
			if blocked.CompareAndSwap(false, true) {
				select { // blocks for 10 s, unless the test ends first
				case <-release:
				case <-time.After(10 * time.Second):
				}
				blocked.Store(false)
			}
			seen.Add(1)
		}
		var panics atomic.Int64
		var counted atomic.Int64
		tk := task.New("quick", func(ctx context.Context, i int) (int, error) { return i, nil }, middleware.StoreResult(b.Store))
		w := worker.New(b.Queue, fast(
			worker.OnEvent(slow),
			worker.OnEvent(func(worker.Event) { panic("subscriber bug") }),
			worker.OnEvent(func(worker.Event) { counted.Add(1) }),
			worker.OnError(func(err error) {
				if strings.Contains(err.Error(), "subscriber bug") {
					panics.Add(1)
				}
			}))...)
		worker.Register(w, tk)
		stop := start(t, w)
		defer stop()
		c := worker.NewClient(b.Queue, b.Store)
		const n = 200
		args := make([]int, n)
		for i := range args {
			args[i] = i
		}
		began := time.Now()
		hs, err := worker.EnqueueMany(ctx, c, tk, args)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			if got, err := getWithin(t, h, 9*time.Second); err != nil || got != i {
				t.Fatalf("task %d: %d, %v", i, got, err)
			}
		}
		took := time.Since(began)
		if !blocked.Load() {
			t.Fatal("the slow subscriber is not blocked any more: the tasks waited for it")
		}
		t.Logf("FIGURE %d tasks done in %v while one subscriber was blocked", n, took.Round(time.Millisecond))
		close(release)
		for end := time.Now().Add(5 * time.Second); seen.Load() < 2*n || counted.Load() < 2*n || panics.Load() < 2*n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("after the release: slow saw %d, counter %d, panics %d; want %d each", seen.Load(), counted.Load(), panics.Load(), 2*n)
			}
		}
		if d := w.DroppedEvents(); d != 0 {
			t.Errorf("%d events dropped", d)
		}
	})
}

// Logger writes one record per event, at a level that tells contention
// (a skip: Info) from failure (Error).
func TestLoggerLevels(t *testing.T) {
	b := taskwaretest.NewMemory(t)
	ctx := context.Background()
	var mu sync.Mutex
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&lockedWriter{mu: &mu, w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	lease, err := b.Locker.TryAcquire(ctx, "log-held", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Locker.Release(ctx, lease) }()
	locked := task.New("locked", func(ctx context.Context, _ int) (int, error) { return 0, nil },
		middleware.SkipLocked(), middleware.WithLock(b.Locker, "log-held"))
	fail := task.New("fail", func(ctx context.Context, _ int) (int, error) { return 0, errors.New("boom") })
	w := worker.New(b.Queue, fast(worker.Logger(l))...)
	worker.Register(w, locked)
	worker.Register(w, fail)
	stop := start(t, w)
	c := worker.NewClient(b.Queue, b.Store, worker.Logger(l))
	h1, _ := worker.Enqueue(ctx, c, locked, 0)
	h2, _ := worker.Enqueue(ctx, c, fail, 0)
	_, _ = getWithin(t, h1, 5*time.Second)
	_, _ = getWithin(t, h2, 5*time.Second)
	stop()
	for end := time.Now().Add(5 * time.Second); c.DroppedEvents() == 0; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := strings.Count(buf.String(), `"msg":"task enqueued"`)
		mu.Unlock()
		if n == 2 || time.Now().After(end) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	got := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var r struct{ Level, Msg, Task, Err, Lock string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got[r.Task+" "+r.Msg] = r.Level
		if r.Msg == "task skipped" && r.Lock != "log-held" {
			t.Errorf("the skip's record names lock %q, want log-held", r.Lock)
		}
	}
	want := map[string]string{
		"locked task enqueued": "DEBUG", "locked task started": "DEBUG", "locked task skipped": "INFO",
		"fail task enqueued": "DEBUG", "fail task started": "DEBUG", "fail task failed": "ERROR",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records by level:\n got %v\nwant %v\nlog:\n%s", got, want, buf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// FlushEvents returns once the client's subscribers have caught up, or
// with ctx's cause while one is still behind.
func TestClientFlushEvents(t *testing.T) {
	b := taskwaretest.NewMemory(t)
	release := make(chan struct{})
	var seen atomic.Int64
	c := worker.NewClient(b.Queue, b.Store, worker.OnEvent(func(worker.Event) { <-release; seen.Add(1) }))
	tk := task.New("flush", func(ctx context.Context, i int) (int, error) { return i, nil })
	for i := range 3 {
		if _, err := worker.Enqueue(t.Context(), c, tk, i); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := c.FlushEvents(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FlushEvents behind a blocked subscriber = %v, want context.DeadlineExceeded", err)
	}
	close(release)
	long, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	if err := c.FlushEvents(long); err != nil || seen.Load() != 3 {
		t.Fatalf("FlushEvents = %v with %d events seen, want nil and 3", err, seen.Load())
	}
	if err := worker.NewClient(b.Queue, b.Store).FlushEvents(short); err != nil {
		t.Fatalf("FlushEvents without subscribers = %v, want nil at once", err)
	}
}
