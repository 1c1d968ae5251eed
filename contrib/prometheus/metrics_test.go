package taskprom_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	taskprom "github.com/taskware/taskware/contrib/prometheus"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// registry returns a fresh registry holding m.
func registry(t *testing.T, m *taskprom.Metrics) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return reg
}

func TestObserveCountsEveryEventAndTimesRunEnds(t *testing.T) {
	m := taskprom.New()
	reg := registry(t, m)
	ev := func(kind worker.EventKind, name string, d time.Duration, f func(*worker.Event)) {
		e := worker.Event{Kind: kind, Task: name, Queue: "q", ID: "x", Attempt: 1, Duration: d}
		if f != nil {
			f(&e)
		}
		m.Observe(e)
	}
	locked := func(e *worker.Event) {
		e.LockKey, e.LockWait, e.Err = "report:1", 2*time.Millisecond, task.Skip(&lock.LockedError{Key: "report:1"})
	}
	held := func(e *worker.Event) {
		e.LockKey, e.Fence, e.LockWait, e.LockHeld = "report:2", 7, time.Millisecond, 300*time.Millisecond
	}
	ev(worker.EventEnqueued, "report", 0, nil)
	ev(worker.EventEnqueued, "report", 0, nil)
	ev(worker.EventEnqueued, "report", 0, nil)
	ev(worker.EventStarted, "report", 0, func(e *worker.Event) { e.Waited = time.Second })
	ev(worker.EventSucceeded, "report", 20*time.Millisecond, held)
	ev(worker.EventStarted, "report", 0, nil)
	ev(worker.EventSkipped, "report", time.Millisecond, locked)
	ev(worker.EventStarted, "report", 0, nil)
	ev(worker.EventSkipped, "report", time.Millisecond, func(e *worker.Event) { e.Err = task.Skip(middleware.ErrExpired) })
	ev(worker.EventStarted, "report", 0, nil)
	ev(worker.EventSkipped, "report", time.Millisecond, func(e *worker.Event) {
		e.Err = task.Skip(&middleware.JoinedError{Err: errors.New("upstream down")})
	})
	ev(worker.EventStarted, "report", 0, nil)
	ev(worker.EventLeaseLost, "report", 0, held)
	ev(worker.EventFailed, "report", 2*time.Second, func(e *worker.Event) { held(e); e.Err = lock.ErrLeaseLost })
	ev(worker.EventCanceled, "report", 0, nil)
	ev(worker.EventDeadLettered, "ghost", 0, func(e *worker.Event) { e.Err = worker.ErrUnknownTask })

	for _, c := range []struct {
		task, event string
		want        float64
	}{
		{"report", "enqueued", 3}, {"report", "started", 5}, {"report", "succeeded", 1},
		{"report", "skipped", 3}, {"report", "lease_lost", 1}, {"report", "failed", 1},
		{"report", "canceled", 1}, {"ghost", "dead_lettered", 1},
	} {
		if got := counter(t, reg, taskprom.MetricEvents, "task", c.task, "queue", "q", "event", c.event); got != c.want {
			t.Errorf("events_total{%s,%s} = %v, want %v", c.task, c.event, got, c.want)
		}
	}
	if n := series(t, reg, taskprom.MetricEvents); n != 8 {
		t.Errorf("%d series of events_total, want 8:\n%s", n, dump(t, reg))
	}
	// Contention, expiry and a joined failure are skips, each under its
	// reason: the joined one is no failure.
	if got := counter(t, reg, taskprom.MetricSkips, "task", "report", "queue", "q", "reason", "middleware.joined"); got != 1 {
		t.Errorf("skips{middleware.joined} = %v, want 1", got)
	}
	if got := counter(t, reg, taskprom.MetricSkips, "task", "report", "queue", "q", "reason", "lock.locked"); got != 1 {
		t.Errorf("skips{lock.locked} = %v, want 1", got)
	}
	if got := counter(t, reg, taskprom.MetricSkips, "task", "report", "queue", "q", "reason", "middleware.expired"); got != 1 {
		t.Errorf("skips{middleware.expired} = %v, want 1", got)
	}
	// One observation per run end that reached the chain: not the
	// dead letter of an unknown task, not a cancel, not a lease loss.
	for _, c := range []struct {
		outcome string
		want    uint64
	}{{"succeeded", 1}, {"skipped", 3}, {"failed", 1}} {
		if got := observations(t, reg, taskprom.MetricTaskDuration, "task", "report", "outcome", c.outcome); got != c.want {
			t.Errorf("duration{%s} has %d observations, want %d", c.outcome, got, c.want)
		}
	}
	if n := series(t, reg, taskprom.MetricTaskDuration); n != 3 {
		t.Errorf("%d series of duration, want 3:\n%s", n, dump(t, reg))
	}
	h := must(t, reg, taskprom.MetricTaskDuration, "task", "report", "outcome", "failed").GetHistogram()
	if h.GetSampleSum() != 2 {
		t.Errorf("duration{failed} sums %v, want 2", h.GetSampleSum())
	}
	// Lock wait: the three runs that asked for a lock; lock held: the two
	// that took it.
	if got := observations(t, reg, taskprom.MetricLockWait, "task", "report"); got != 3 {
		t.Errorf("lock wait has %d observations, want 3", got)
	}
	if got := observations(t, reg, taskprom.MetricLockHeld, "task", "report"); got != 2 {
		t.Errorf("lock held has %d observations, want 2", got)
	}
	held2 := must(t, reg, taskprom.MetricLockHeld, "task", "report").GetHistogram().GetSampleSum()
	if held2 != 0.6 {
		t.Errorf("lock held sums %v, want 0.6", held2)
	}
	// No inspector: no gauges, no scrape errors.
	for _, name := range []string{taskprom.MetricQueueTasks, taskprom.MetricLocksHeld, taskprom.MetricScrapeErrors, taskprom.MetricEventsDropped} {
		if n := series(t, reg, name); n != 0 {
			t.Errorf("%d series of %s without an inspector", n, name)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// A workflow's events count in taskware_workflows_total, by home queue
// and event, and not among the tasks' events.
func TestObserveWorkflowEvents(t *testing.T) {
	m := taskprom.New()
	reg := registry(t, m)
	for _, k := range []worker.EventKind{worker.EventWorkflowStarted, worker.EventWorkflowStarted, worker.EventWorkflowSucceeded,
		worker.EventWorkflowFailed, worker.EventWorkflowCanceled} {
		m.Observe(worker.Event{Kind: k, Queue: "q", Workflow: "wf"})
	}
	m.Observe(worker.Event{Kind: worker.EventSucceeded, Task: "t", Queue: "q", ID: "wf:a", Workflow: "wf", Step: "a"})
	for event, want := range map[string]float64{"workflow_started": 2, "workflow_succeeded": 1, "workflow_failed": 1, "workflow_canceled": 1} {
		if got := counter(t, reg, taskprom.MetricWorkflows, "queue", "q", "event", event); got != want {
			t.Errorf("workflows_total{event=%q} = %v, want %v", event, got, want)
		}
	}
	if n := series(t, reg, taskprom.MetricEvents); n != 1 {
		t.Errorf("events_total has %d series, want the step's one", n)
	}
}

func TestObserveInvalidUTF8(t *testing.T) {
	m := taskprom.New()
	reg := registry(t, m)
	m.Observe(worker.Event{Kind: worker.EventDeadLettered, Task: "bad\xffname", Queue: "q", Err: queue.ErrBadMessage})
	if got := counter(t, reg, taskprom.MetricEvents, "task", "bad\uFFFDname", "queue", "q", "event", "dead_lettered"); got != 1 {
		t.Errorf("events_total = %v, want 1", got)
	}
}

func TestBucketsAndConstLabels(t *testing.T) {
	m := taskprom.New(taskprom.DurationBuckets(1, 10), taskprom.LockWaitBuckets(0.5), taskprom.LockHeldBuckets(2, 4, 8),
		taskprom.ConstLabels(prometheus.Labels{"service": "billing"}))
	reg := registry(t, m)
	m.Observe(worker.Event{Kind: worker.EventSucceeded, Task: "t", Queue: "q", Duration: 3 * time.Second,
		LockKey: "k", Fence: 1, LockWait: time.Second, LockHeld: 3 * time.Second})
	for _, c := range []struct {
		name    string
		labels  []string
		buckets []float64
	}{
		{taskprom.MetricTaskDuration, []string{"task", "t", "outcome", "succeeded"}, []float64{1, 10}},
		{taskprom.MetricLockWait, []string{"task", "t"}, []float64{0.5}},
		{taskprom.MetricLockHeld, []string{"task", "t"}, []float64{2, 4, 8}},
	} {
		h := must(t, reg, c.name, append(c.labels, "service", "billing")...).GetHistogram()
		var got []float64
		for _, b := range h.GetBucket() {
			got = append(got, b.GetUpperBound())
		}
		if fmt.Sprint(got) != fmt.Sprint(c.buckets) {
			t.Errorf("%s buckets %v, want %v", c.name, got, c.buckets)
		}
	}
	if got := counter(t, reg, taskprom.MetricEvents, "task", "t", "queue", "q", "event", "succeeded", "service", "billing"); got != 1 {
		t.Errorf("events_total = %v, want 1", got)
	}
}

// fakeQueues is a queue.Admin with canned answers.
type fakeQueues struct {
	queue.Admin // the rest, unused: a call panics
	mu          sync.Mutex
	stats       map[string]*queue.Stats
	listErr     error
	errs        map[string]error
	block       bool // Stats waits for its ctx to end
	calls       atomic.Int64
}

func (f *fakeQueues) Queues(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var names []string
	for q := range f.stats {
		names = append(names, q)
	}
	return names, nil
}

func (f *fakeQueues) Stats(ctx context.Context, name string) (*queue.Stats, error) {
	f.calls.Add(1)
	f.mu.Lock()
	block, err, s := f.block, f.errs[name], f.stats[name]
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if s == nil {
		return &queue.Stats{Queue: name}, nil
	}
	cp := *s
	return &cp, nil
}

func (f *fakeQueues) Workers(ctx context.Context, name string) ([]queue.WorkerInfo, error) {
	return nil, nil
}

// fakeLocks is a lock.Inspector with canned answers.
type fakeLocks struct {
	held []lock.Info
	err  error
}

func (f *fakeLocks) Held(ctx context.Context) ([]lock.Info, error) { return f.held, f.err }

func (f *fakeLocks) Break(ctx context.Context, key string) error { return nil }

func TestGaugesFromInspectors(t *testing.T) {
	fq := &fakeQueues{stats: map[string]*queue.Stats{
		"emails":  {Queue: "emails", Ready: 5, Running: 2, Delayed: 3, Dead: 1, OldestReady: 1500 * time.Millisecond, Workers: 2},
		"reports": {Queue: "reports", Dead: 4},
	}}
	fl := &fakeLocks{held: []lock.Info{{Key: "a"}, {Key: "b"}, {Key: "c"}}}
	m := taskprom.New(taskprom.InspectQueues(fq), taskprom.InspectLocks(fl))
	reg := registry(t, m)
	want := `
# HELP taskware_locks_held Locks held now.
# TYPE taskware_locks_held gauge
taskware_locks_held 3
# HELP taskware_queue_oldest_ready_age_seconds How long the oldest ready task of a queue has waited, 0 if none.
# TYPE taskware_queue_oldest_ready_age_seconds gauge
taskware_queue_oldest_ready_age_seconds{queue="emails"} 1.5
taskware_queue_oldest_ready_age_seconds{queue="reports"} 0
# HELP taskware_queue_tasks Tasks of a queue, by state: ready (waiting for a worker), running (taken by one), delayed (waiting to be due), dead (dead letters).
# TYPE taskware_queue_tasks gauge
taskware_queue_tasks{queue="emails",state="dead"} 1
taskware_queue_tasks{queue="emails",state="delayed"} 3
taskware_queue_tasks{queue="emails",state="ready"} 5
taskware_queue_tasks{queue="emails",state="running"} 2
taskware_queue_tasks{queue="reports",state="dead"} 4
taskware_queue_tasks{queue="reports",state="delayed"} 0
taskware_queue_tasks{queue="reports",state="ready"} 0
taskware_queue_tasks{queue="reports",state="running"} 0
# HELP taskware_queue_workers Workers seen on a queue within queue.LiveWorkerWindow.
# TYPE taskware_queue_workers gauge
taskware_queue_workers{queue="emails"} 2
taskware_queue_workers{queue="reports"} 0
# HELP taskware_scrape_errors_total Calls to a queue or lock inspector that failed or timed out during a scrape, by source (queues, locks).
# TYPE taskware_scrape_errors_total counter
taskware_scrape_errors_total{source="locks"} 0
taskware_scrape_errors_total{source="queues"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), taskprom.MetricLocksHeld, taskprom.MetricQueueOldestReady,
		taskprom.MetricQueueTasks, taskprom.MetricQueueWorkers, taskprom.MetricScrapeErrors); err != nil {
		t.Error(err)
	}
	// Read at scrape time: a change shows at the next scrape.
	fq.mu.Lock()
	fq.stats["emails"].Ready = 0
	delete(fq.stats, "reports")
	fq.mu.Unlock()
	if got := gauge(t, reg, taskprom.MetricQueueTasks, "queue", "emails", "state", "ready"); got != 0 {
		t.Errorf("ready = %v after the change, want 0", got)
	}
	if m := find(t, reg, taskprom.MetricQueueTasks, "queue", "reports", "state", "dead"); m != nil {
		t.Errorf("a queue the inspector no longer lists is still reported")
	}
}

func TestNamedQueuesAreReportedEvenEmpty(t *testing.T) {
	fq := &fakeQueues{stats: map[string]*queue.Stats{
		"emails": {Queue: "emails", Ready: 5},
		"other":  {Queue: "other", Ready: 9},
	}}
	reg := registry(t, taskprom.New(taskprom.InspectQueues(fq, "emails", "idle", "emails")))
	if got := gauge(t, reg, taskprom.MetricQueueTasks, "queue", "emails", "state", "ready"); got != 5 {
		t.Errorf("emails ready = %v, want 5", got)
	}
	if got := gauge(t, reg, taskprom.MetricQueueTasks, "queue", "idle", "state", "ready"); got != 0 {
		t.Errorf("idle ready = %v, want 0", got)
	}
	if n := series(t, reg, taskprom.MetricQueueTasks); n != 8 {
		t.Errorf("%d series of queue_tasks, want 8 (two queues, four states):\n%s", n, dump(t, reg))
	}
}

func TestScrapeErrorsAreCountedNotFatal(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	onError := taskprom.OnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() })
	boom := errors.New("boom")

	t.Run("list", func(t *testing.T) {
		fq := &fakeQueues{listErr: boom}
		fl := &fakeLocks{err: boom}
		reg := registry(t, taskprom.New(taskprom.InspectQueues(fq), taskprom.InspectLocks(fl), onError))
		for i := 1; i <= 3; i++ {
			if got := counter(t, reg, taskprom.MetricScrapeErrors, "source", "queues"); got != float64(i) {
				t.Fatalf("scrape %d: queue errors = %v, want %d", i, got, i)
			}
		}
		if got := counter(t, reg, taskprom.MetricScrapeErrors, "source", "locks"); got != 4 {
			t.Errorf("lock errors = %v after 4 scrapes, want 4", got)
		}
		if n := series(t, reg, taskprom.MetricQueueTasks) + series(t, reg, taskprom.MetricLocksHeld); n != 0 {
			t.Errorf("%d gauges from failing inspectors", n)
		}
	})

	t.Run("one queue", func(t *testing.T) {
		fq := &fakeQueues{
			stats: map[string]*queue.Stats{"good": {Ready: 1}, "bad": {Ready: 2}},
			errs:  map[string]error{"bad": boom},
		}
		reg := registry(t, taskprom.New(taskprom.InspectQueues(fq), onError))
		if got := gauge(t, reg, taskprom.MetricQueueTasks, "queue", "good", "state", "ready"); got != 1 {
			t.Errorf("good ready = %v, want 1", got)
		}
		if m := find(t, reg, taskprom.MetricQueueTasks, "queue", "bad", "state", "ready"); m != nil {
			t.Errorf("the failing queue is reported")
		}
		if got := counter(t, reg, taskprom.MetricScrapeErrors, "source", "queues"); got != 3 {
			t.Errorf("queue errors = %v after 3 scrapes, want 3", got)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		stats := map[string]*queue.Stats{}
		for i := range 50 {
			stats[fmt.Sprintf("q%02d", i)] = &queue.Stats{}
		}
		fq := &fakeQueues{stats: stats, block: true}
		reg := registry(t, taskprom.New(taskprom.InspectQueues(fq), taskprom.ScrapeTimeout(20*time.Millisecond), onError))
		start := time.Now()
		if _, err := reg.Gather(); err != nil {
			t.Fatalf("Gather: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a scrape of a stuck inspector took %v", d)
		}
		if n := fq.calls.Load(); n != 1 {
			t.Errorf("%d Stats calls after the timeout, want the one that timed out", n)
		}
		// The stuck call, and one for the queues left behind.
		if got := counter(t, reg, taskprom.MetricScrapeErrors, "source", "queues"); got < 2 {
			t.Errorf("queue errors = %v, want at least 2", got)
		}
	})

	mu.Lock()
	defer mu.Unlock()
	if len(reported) == 0 {
		t.Fatal("OnError saw nothing")
	}
	for _, err := range reported {
		if !errors.Is(err, boom) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("OnError saw %v", err)
		}
	}
}

type dropper struct{ n atomic.Uint64 }

func (d *dropper) DroppedEvents() uint64 { return d.n.Load() }

func TestWatchDropped(t *testing.T) {
	m := taskprom.New()
	reg := registry(t, m)
	a, b := &dropper{}, &dropper{}
	m.WatchDropped(a)
	m.WatchDropped(b)
	a.n.Store(3)
	b.n.Store(4)
	if got := counter(t, reg, taskprom.MetricEventsDropped); got != 7 {
		t.Errorf("dropped = %v, want 7", got)
	}
}

func TestInvalidOptionsPanic(t *testing.T) {
	for name, fn := range map[string]func(){
		"nil option":           func() { taskprom.New(nil) },
		"nil queue inspector":  func() { taskprom.InspectQueues(nil) },
		"bad queue name":       func() { taskprom.InspectQueues(&fakeQueues{}, "a{b}") },
		"empty queue name":     func() { taskprom.InspectQueues(&fakeQueues{}, "") },
		"nil lock inspector":   func() { taskprom.InspectLocks(nil) },
		"zero timeout":         func() { taskprom.ScrapeTimeout(0) },
		"no buckets":           func() { taskprom.DurationBuckets() },
		"decreasing buckets":   func() { taskprom.LockWaitBuckets(1, 0.5) },
		"equal buckets":        func() { taskprom.LockHeldBuckets(1, 1) },
		"infinite bucket":      func() { taskprom.DurationBuckets(1, inf()) },
		"nil OnError":          func() { taskprom.OnError(nil) },
		"label clash":          func() { taskprom.New(taskprom.ConstLabels(prometheus.Labels{"task": "x"})) },
		"invalid label":        func() { taskprom.New(taskprom.ConstLabels(prometheus.Labels{"__x": "y"})) },
		"nil dropper":          func() { taskprom.New().WatchDropped(nil) },
		"nil event subscriber": func() { worker.OnEvent(nil) }, // the core's, for comparison
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				v := recover()
				err, ok := v.(error)
				if !ok || !errors.Is(err, task.ErrInvalidConfig) {
					t.Fatalf("panicked with %v, want an error matching task.ErrInvalidConfig", v)
				}
			}()
			fn()
		})
	}
}

func inf() float64 { return math.Inf(1) }
