package taskprom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/taskware/taskware/queue"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// The names of the metrics.
const (
	MetricEvents           = "taskware_events_total"
	MetricWorkflows        = "taskware_workflows_total"
	MetricSkips            = "taskware_task_skips_total"
	MetricTaskDuration     = "taskware_task_duration_seconds"
	MetricLockWait         = "taskware_lock_wait_seconds"
	MetricLockHeld         = "taskware_lock_held_seconds"
	MetricEventsDropped    = "taskware_events_dropped_total"
	MetricQueueTasks       = "taskware_queue_tasks"
	MetricQueueOldestReady = "taskware_queue_oldest_ready_age_seconds"
	MetricQueueWorkers     = "taskware_queue_workers"
	MetricLocksHeld        = "taskware_locks_held"
	MetricScrapeErrors     = "taskware_scrape_errors_total"
)

// The values of the state label of taskware_queue_tasks.
const (
	StateReady   = "ready"
	StateRunning = "running"
	StateDelayed = "delayed"
	StateDead    = "dead"
)

// The values of the source label of taskware_scrape_errors_total.
const (
	SourceQueues = "queues"
	SourceLocks  = "locks"
)

// Metrics counts a worker's and a client's events, and reads the state of
// queues and locks when it is scraped. It is a prometheus.Collector:
// register it with the registry of your choice; New registers it nowhere.
// Pass its Observe to worker.OnEvent. It is safe for concurrent use, and
// one Metrics may observe several workers and clients.
type Metrics struct {
	events, skips      *prometheus.CounterVec
	workflows          *prometheus.CounterVec
	duration           *prometheus.HistogramVec
	lockWait, lockHeld *prometheus.HistogramVec
	scrapeErrors       *prometheus.CounterVec

	queueTasks, oldestReady, workers, locksHeld, dropped *prometheus.Desc

	queues     queue.Admin
	queueNames []string
	locks      lock.Inspector
	timeout    time.Duration
	onError    func(error)

	mu       sync.Mutex
	droppers []Dropper
}

// Dropper is what counts the events dropped for subscribers that fell too
// far behind: a *worker.Worker or a *worker.Client.
type Dropper interface{ DroppedEvents() uint64 }

// New returns Metrics configured by opts. It panics with an error matching
// task.ErrInvalidConfig on a nil option or an invalid one.
func New(opts ...Option) *Metrics {
	c := config{
		timeout:  DefaultScrapeTimeout,
		duration: DefaultDurationBuckets, lockWait: DefaultLockWaitBuckets, lockHeld: DefaultDurationBuckets,
		onError: defaultOnError,
	}
	for _, o := range opts {
		if o == nil {
			panic(configError("New: nil Option"))
		}
		o.apply(&c)
	}
	cl := c.constLabels
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        MetricEvents,
			Help:        "Events of tasks, by task, queue and event: enqueued, started, then how each run ended (succeeded, failed, retrying, rescheduled, skipped, dead_lettered, abandoned, canceled, handed_back, superseded), lease_lost and taken_over. A superseded run (its task taken over from a worker cut off for longer than the visibility timeout) is counted apart, never as a success or failure.",
			ConstLabels: cl,
		}, []string{"task", "queue", "event"}),
		workflows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        MetricWorkflows,
			Help:        "Workflows, by home queue and event: workflow_started (by a client), then how each ended: workflow_succeeded, workflow_failed (by the worker whose step ended it), workflow_canceled (by a client). Each event is published at most once.",
			ConstLabels: cl,
		}, []string{"queue", "event"}),
		skips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        MetricSkips,
			Help:        "Runs skipped on purpose, by task, queue and reason: lock.locked is contention, middleware.expired a run that waited too long, middleware.joined a run that joined a holder that failed (the failure counts once, as the holder's). Not failures.",
			ConstLabels: cl,
		}, []string{"task", "queue", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        MetricTaskDuration,
			Help:        "How long runs took, by task and outcome (the event that ended the run).",
			Buckets:     c.duration,
			ConstLabels: cl,
		}, []string{"task", "outcome"}),
		lockWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        MetricLockWait,
			Help:        "How long runs took to take their lock, or to find it held, by task.",
			Buckets:     c.lockWait,
			ConstLabels: cl,
		}, []string{"task"}),
		lockHeld: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        MetricLockHeld,
			Help:        "How long runs held their lock, by task.",
			Buckets:     c.lockHeld,
			ConstLabels: cl,
		}, []string{"task"}),
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        MetricScrapeErrors,
			Help:        "Calls to a queue or lock inspector that failed or timed out during a scrape, by source (queues, locks).",
			ConstLabels: cl,
		}, []string{"source"}),
		queueTasks: prometheus.NewDesc(MetricQueueTasks,
			"Tasks of a queue, by state: ready (waiting for a worker), running (taken by one), delayed (waiting to be due), dead (dead letters).",
			[]string{"queue", "state"}, cl),
		oldestReady: prometheus.NewDesc(MetricQueueOldestReady,
			"How long the oldest ready task of a queue has waited, 0 if none.",
			[]string{"queue"}, cl),
		workers: prometheus.NewDesc(MetricQueueWorkers,
			"Workers seen on a queue within queue.LiveWorkerWindow.",
			[]string{"queue"}, cl),
		locksHeld: prometheus.NewDesc(MetricLocksHeld, "Locks held now.", nil, cl),
		dropped: prometheus.NewDesc(MetricEventsDropped,
			"Events dropped for this collector because it fell too far behind the workers and clients it watches (see WatchDropped).",
			nil, cl),
		queues:     c.queues,
		queueNames: c.queueNames,
		locks:      c.locks,
		timeout:    c.timeout,
		onError:    c.onError,
	}
	if m.queues != nil {
		m.scrapeErrors.WithLabelValues(SourceQueues)
	}
	if m.locks != nil {
		m.scrapeErrors.WithLabelValues(SourceLocks)
	}
	// Registering checks the names, labels and buckets as a registry will:
	// a bad ConstLabels fails here, when wiring up, not at the first scrape.
	if err := prometheus.NewRegistry().Register(m); err != nil {
		panic(configError("New: %v", err))
	}
	return m
}

// Observe counts e. Pass it to worker.OnEvent, for workers and clients:
//
//	worker.New(q, worker.OnEvent(m.Observe))
//	worker.NewClient(q, s, worker.OnEvent(m.Observe))
//
// Every task's event counts in taskware_events_total, and a skip in
// taskware_task_skips_total by its reason too; a workflow's event counts
// in taskware_workflows_total instead. An event that ends a run
// that reached its chain (its Duration is set) is observed in
// taskware_task_duration_seconds, and, if the run asked for a lock, in
// taskware_lock_wait_seconds and, if it took it, in
// taskware_lock_held_seconds.
func (m *Metrics) Observe(e worker.Event) {
	// A malformed message may name its task in bytes that are no UTF-8,
	// which a label value must be.
	e.Task, e.Queue = validUTF8(e.Task), validUTF8(e.Queue)
	if e.Kind.OfWorkflow() {
		m.workflows.WithLabelValues(e.Queue, string(e.Kind)).Inc()
		return
	}
	m.events.WithLabelValues(e.Task, e.Queue, string(e.Kind)).Inc()
	if e.Kind == worker.EventSkipped {
		m.skips.WithLabelValues(e.Task, e.Queue, skipReason(e.Err)).Inc()
	}
	if !endsRun(e.Kind) || e.Duration <= 0 {
		return
	}
	m.duration.WithLabelValues(e.Task, string(e.Kind)).Observe(e.Duration.Seconds())
	if e.LockKey != "" {
		m.lockWait.WithLabelValues(e.Task).Observe(e.LockWait.Seconds())
		if e.Fence != 0 {
			m.lockHeld.WithLabelValues(e.Task).Observe(e.LockHeld.Seconds())
		}
	}
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// endsRun reports whether an event of kind k ends a run.
func endsRun(k worker.EventKind) bool {
	switch k {
	case worker.EventSucceeded, worker.EventFailed, worker.EventRetrying, worker.EventRescheduled,
		worker.EventSkipped, worker.EventDeadLettered, worker.EventAbandoned:
		return true
	}
	return false
}

// skipReason returns the kind of the reason of a skip: "lock.locked",
// "middleware.expired", or "none" for a skip without one.
func skipReason(err error) string {
	if se, ok := errors.AsType[*task.SkipError](err); ok {
		if se.Reason == nil {
			return "none"
		}
		return task.KindOf(se.Reason)
	}
	if err == nil {
		return "none"
	}
	return task.KindOf(err)
}

// WatchDropped adds the events that d (a *worker.Worker or *worker.Client
// that this Metrics observes) drops for its subscribers to
// taskware_events_dropped_total: if it is not zero, the other counts miss
// events.
func (m *Metrics) WatchDropped(d Dropper) {
	if d == nil {
		panic(configError("WatchDropped: nil Dropper"))
	}
	m.mu.Lock()
	m.droppers = append(m.droppers, d)
	m.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.events.Describe(ch)
	m.workflows.Describe(ch)
	m.skips.Describe(ch)
	m.duration.Describe(ch)
	m.lockWait.Describe(ch)
	m.lockHeld.Describe(ch)
	m.scrapeErrors.Describe(ch)
	ch <- m.queueTasks
	ch <- m.oldestReady
	ch <- m.workers
	ch <- m.locksHeld
	ch <- m.dropped
}

// Collect implements prometheus.Collector. It reads the queues and locks
// from their inspectors, within the scrape timeout; what fails or does not
// answer in time is left out and counted in taskware_scrape_errors_total.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.events.Collect(ch)
	m.workflows.Collect(ch)
	m.skips.Collect(ch)
	m.duration.Collect(ch)
	m.lockWait.Collect(ch)
	m.lockHeld.Collect(ch)
	m.mu.Lock()
	droppers := m.droppers
	m.mu.Unlock()
	if len(droppers) > 0 {
		var n uint64
		for _, d := range droppers {
			n += d.DroppedEvents()
		}
		ch <- prometheus.MustNewConstMetric(m.dropped, prometheus.CounterValue, float64(n))
	}
	if m.queues != nil || m.locks != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
		if m.queues != nil {
			m.collectQueues(ctx, ch)
		}
		if m.locks != nil {
			m.collectLocks(ctx, ch)
		}
		cancel()
	}
	// Last, so that this scrape's errors count in it.
	m.scrapeErrors.Collect(ch)
}

func (m *Metrics) collectQueues(ctx context.Context, ch chan<- prometheus.Metric) {
	names := m.queueNames
	if len(names) == 0 {
		var err error
		if names, err = m.queues.Queues(ctx); err != nil {
			m.scrapeError(SourceQueues, fmt.Errorf("taskprom: listing queues: %w", err))
			return
		}
	}
	for _, q := range names {
		if err := ctx.Err(); err != nil {
			// One error for the queues left, not one each.
			m.scrapeError(SourceQueues, fmt.Errorf("taskprom: queue %q and those after it: %w", q, err))
			return
		}
		s, err := m.queues.Stats(ctx, q)
		if err == nil && s == nil {
			err = errors.New("no stats and no error")
		}
		if err != nil {
			m.scrapeError(SourceQueues, fmt.Errorf("taskprom: stats of queue %q: %w", q, err))
			continue
		}
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
		}
		gauge(m.queueTasks, float64(s.Ready), q, StateReady)
		gauge(m.queueTasks, float64(s.Running), q, StateRunning)
		gauge(m.queueTasks, float64(s.Delayed), q, StateDelayed)
		gauge(m.queueTasks, float64(s.Dead), q, StateDead)
		gauge(m.oldestReady, s.OldestReady.Seconds(), q)
		gauge(m.workers, float64(s.Workers), q)
	}
}

func (m *Metrics) collectLocks(ctx context.Context, ch chan<- prometheus.Metric) {
	if err := ctx.Err(); err != nil {
		m.scrapeError(SourceLocks, fmt.Errorf("taskprom: held locks: %w", err))
		return
	}
	held, err := m.locks.Held(ctx)
	if err != nil {
		m.scrapeError(SourceLocks, fmt.Errorf("taskprom: held locks: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(m.locksHeld, prometheus.GaugeValue, float64(len(held)))
}

func (m *Metrics) scrapeError(source string, err error) {
	m.scrapeErrors.WithLabelValues(source).Inc()
	m.onError(err)
}
