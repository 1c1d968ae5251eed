package taskprom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/prometheus/client_golang/prometheus"

	taskprom "github.com/taskware/taskware/contrib/prometheus"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// backend is what a scenario runs on.
type backend struct {
	queue  queue.Queue
	insp   queue.Admin
	store  store.Store
	locker interface {
		lock.Locker
		lock.Inspector
	}
}

func TestWorkerMemory(t *testing.T) {
	b := memorybackend.New()
	scenario(t, backend{queue: b.Queue(), insp: b.Queue(), store: b.Store(), locker: b.Locker()})
}

func TestWorkerRedis(t *testing.T) {
	c, _ := taskwaretest.Redis(t)
	prefix := fmt.Sprintf("tw-prom-%s:%d:", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
	t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) }) // before Redis closes c
	b := redisbackend.New(c, redisbackend.Prefix(prefix))
	scenario(t, backend{queue: b.Queue(), insp: b.Queue(), store: b.Store(), locker: b.Locker()})
}

// scenario runs a worker on b over tasks that succeed, fail, are skipped
// because their lock is held, and are dead-lettered, and checks every
// count that Metrics makes of it.
func scenario(t *testing.T, b backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := taskprom.New(taskprom.InspectQueues(b.insp), taskprom.InspectLocks(b.locker), taskprom.OnError(func(err error) { t.Errorf("scrape: %v", err) }))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)

	// Another run holds "tw-prom:guarded", all along.
	held, err := b.locker.TryAcquire(ctx, "tw-prom:guarded", time.Minute)
	if err != nil {
		t.Fatalf("TryAcquire: %v", err)
	}

	ok1 := task.New("ok", func(ctx context.Context, n int) (int, error) { return n, nil })
	bad := task.New("bad", func(ctx context.Context, n int) (int, error) { return 0, errors.New("boom") })
	guarded := task.New("guarded", func(ctx context.Context, n int) (int, error) { return n, nil },
		middleware.SkipLocked(), middleware.WithLock(b.locker, "tw-prom:guarded"))
	locked := task.New("locked", func(ctx context.Context, n int) (int, error) { return n, nil },
		middleware.WithLock(b.locker, "tw-prom:free"))
	ghost := task.New("ghost", func(ctx context.Context, n int) (int, error) { return n, nil }) // never registered

	w := worker.New(b.queue, worker.OnEvent(m.Observe), worker.PollWait(20*time.Millisecond), worker.Concurrency(4))
	worker.Register(w, ok1)
	worker.Register(w, bad)
	worker.Register(w, guarded)
	worker.Register(w, locked)
	m.WatchDropped(w)
	client := worker.NewClient(b.queue, b.store, worker.OnEvent(m.Observe))
	m.WatchDropped(client)

	stop := taskwaretest.StartWorker(t, w)

	var waits []func() error
	enqueue := func(tk *task.Task[int, int], n int, opts ...worker.EnqueueOption) {
		t.Helper()
		for i := range n {
			h, err := worker.Enqueue(ctx, client, tk, i, opts...)
			if err != nil {
				t.Fatalf("Enqueue %s: %v", tk.Name(), err)
			}
			if len(opts) == 0 {
				waits = append(waits, func() error { _, err := h.Get(ctx); return err })
			}
		}
	}
	enqueue(ok1, 3)
	enqueue(bad, 2)
	enqueue(guarded, 2)
	enqueue(locked, 1)
	enqueue(ghost, 1)
	enqueue(ok1, 1, worker.Delay(time.Hour))   // delayed
	enqueue(ok1, 2, worker.OnQueue("tw-idle")) // ready: no worker reads it
	for _, wait := range waits {
		_ = wait() // every run ends, in one way or another
	}
	stop() // Run returns within 10 s, or the test fails
	// The worker's Run returned after its subscribers saw its events; the
	// client's come on their own goroutine: wait for them.
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.FlushEvents(flushCtx); err != nil {
		t.Fatalf("the client's events did not come: %v\n%s", err, dump(t, reg))
	}

	const dq = queue.Default
	for _, c := range []struct {
		task, queue, event string
		want               float64
	}{
		{"ok", dq, "enqueued", 4}, {"ok", "tw-idle", "enqueued", 2}, {"ok", dq, "started", 3}, {"ok", dq, "succeeded", 3},
		{"bad", dq, "enqueued", 2}, {"bad", dq, "started", 2}, {"bad", dq, "failed", 2},
		{"guarded", dq, "enqueued", 2}, {"guarded", dq, "started", 2}, {"guarded", dq, "skipped", 2},
		{"locked", dq, "enqueued", 1}, {"locked", dq, "started", 1}, {"locked", dq, "succeeded", 1},
		{"ghost", dq, "enqueued", 1}, {"ghost", dq, "dead_lettered", 1},
	} {
		if got := counter(t, reg, taskprom.MetricEvents, "task", c.task, "queue", c.queue, "event", c.event); got != c.want {
			t.Errorf("events_total{task=%s,queue=%s,event=%s} = %v, want %v", c.task, c.queue, c.event, got, c.want)
		}
	}
	if n := series(t, reg, taskprom.MetricEvents); n != 15 {
		t.Errorf("%d series of events_total, want 15:\n%s", n, dump(t, reg))
	}
	// Contention is a skip, under its reason; not a failure.
	if got := counter(t, reg, taskprom.MetricSkips, "task", "guarded", "queue", dq, "reason", "lock.locked"); got != 2 {
		t.Errorf("skips{guarded, lock.locked} = %v, want 2", got)
	}
	if e := find(t, reg, taskprom.MetricEvents, "task", "guarded", "queue", dq, "event", "failed"); e != nil {
		t.Errorf("a skip counted as a failure")
	}
	// One duration per run that reached its chain; none for the dead
	// letter of a task the worker does not know.
	for _, c := range []struct {
		task, outcome string
		want          uint64
	}{{"ok", "succeeded", 3}, {"bad", "failed", 2}, {"guarded", "skipped", 2}, {"locked", "succeeded", 1}} {
		if got := observations(t, reg, taskprom.MetricTaskDuration, "task", c.task, "outcome", c.outcome); got != c.want {
			t.Errorf("duration{task=%s,outcome=%s} has %d observations, want %d", c.task, c.outcome, got, c.want)
		}
	}
	if n := series(t, reg, taskprom.MetricTaskDuration); n != 4 {
		t.Errorf("%d series of duration, want 4:\n%s", n, dump(t, reg))
	}
	// Lock wait: the runs that asked for a lock; lock held: the one that
	// took it.
	if got := observations(t, reg, taskprom.MetricLockWait, "task", "guarded"); got != 2 {
		t.Errorf("lock wait{guarded} has %d observations, want 2", got)
	}
	if got := observations(t, reg, taskprom.MetricLockWait, "task", "locked"); got != 1 {
		t.Errorf("lock wait{locked} has %d observations, want 1", got)
	}
	if got := observations(t, reg, taskprom.MetricLockHeld, "task", "locked"); got != 1 {
		t.Errorf("lock held{locked} has %d observations, want 1", got)
	}
	if n := series(t, reg, taskprom.MetricLockHeld); n != 1 {
		t.Errorf("%d series of lock held, want 1 (the skipped runs held nothing):\n%s", n, dump(t, reg))
	}
	if got := counter(t, reg, taskprom.MetricEventsDropped); got != 0 {
		t.Errorf("%v events dropped", got)
	}

	// The queues, read at scrape time.
	for _, c := range []struct {
		queue, state string
		want         float64
	}{
		{dq, "ready", 0}, {dq, "running", 0}, {dq, "delayed", 1}, {dq, "dead", 1},
		{"tw-idle", "ready", 2}, {"tw-idle", "running", 0}, {"tw-idle", "delayed", 0}, {"tw-idle", "dead", 0},
	} {
		if got := gauge(t, reg, taskprom.MetricQueueTasks, "queue", c.queue, "state", c.state); got != c.want {
			t.Errorf("queue_tasks{queue=%s,state=%s} = %v, want %v", c.queue, c.state, got, c.want)
		}
	}
	if n := series(t, reg, taskprom.MetricQueueTasks); n != 8 {
		t.Errorf("%d series of queue_tasks, want 8 (two queues):\n%s", n, dump(t, reg))
	}
	if age := gauge(t, reg, taskprom.MetricQueueOldestReady, "queue", "tw-idle"); age <= 0 || age > 60 {
		t.Errorf("oldest ready age of tw-idle = %vs", age)
	}
	if age := gauge(t, reg, taskprom.MetricQueueOldestReady, "queue", dq); age != 0 {
		t.Errorf("oldest ready age of an empty queue = %vs", age)
	}
	must(t, reg, taskprom.MetricQueueWorkers, "queue", dq)
	if got := gauge(t, reg, taskprom.MetricLocksHeld); got != 1 {
		t.Errorf("locks_held = %v, want 1 (the test's)", got)
	}
	if err := b.locker.Release(ctx, held); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got := gauge(t, reg, taskprom.MetricLocksHeld); got != 0 {
		t.Errorf("locks_held = %v after the release, want 0", got)
	}
	for _, source := range []string{taskprom.SourceQueues, taskprom.SourceLocks} {
		if got := counter(t, reg, taskprom.MetricScrapeErrors, "source", source); got != 0 {
			t.Errorf("scrape errors{%s} = %v", source, got)
		}
	}
}
