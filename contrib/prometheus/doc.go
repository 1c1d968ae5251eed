// Package taskprom exports taskware's events and queue state as
// Prometheus metrics.
//
// New returns a Metrics, a prometheus.Collector that you register with a
// registry of your choice (none by default). Its Observe method counts the
// events of workers and clients, passed to them with worker.OnEvent:
//
//	m := taskprom.New(taskprom.InspectQueues(backend.Queue()), taskprom.InspectLocks(backend.Locker()))
//	reg.MustRegister(m)
//	w := worker.New(backend.Queue(), worker.OnEvent(m.Observe))
//	c := worker.NewClient(backend.Queue(), backend.Store(), worker.OnEvent(m.Observe))
//
// From the events it keeps these:
//
//   - taskware_events_total{task, queue, event}: a counter of every event,
//     by its kind (worker.EventKind): enqueued, started, each way a run
//     ends, lease_lost, taken_over. A run skipped on purpose counts as
//     event="skipped", never as a failure; one whose task another worker
//     took over (its worker cut off from Redis) as event="superseded";
//   - taskware_workflows_total{queue, event}: a counter of workflows'
//     events, by home queue: workflow_started, then workflow_succeeded,
//     workflow_failed or workflow_canceled (not in taskware_events_total);
//   - taskware_task_skips_total{task, queue, reason}: the skips again, by
//     the kind of their reason: "lock.locked" is lock contention,
//     "middleware.expired" a run that waited too long, "middleware.joined"
//     a run that joined a holder that failed (middleware.JoinLocked): the
//     holder's failure counts once, as its own failed or dead_lettered;
//   - taskware_task_duration_seconds{task, outcome}: a histogram of how
//     long runs took, by the event that ended them;
//   - taskware_lock_wait_seconds{task} and taskware_lock_held_seconds{task}:
//     histograms of how long runs took to take their lock (or to find it
//     held) and how long they held it. They are by task, never by lock key,
//     whose values are unbounded.
//
// At each scrape it asks the inspectors it was given, within a timeout
// (ScrapeTimeout), for:
//
//   - taskware_queue_tasks{queue, state}: ready, running, delayed and dead
//     tasks, from a queue.Admin (InspectQueues);
//   - taskware_queue_oldest_ready_age_seconds{queue} and
//     taskware_queue_workers{queue};
//   - taskware_locks_held, from a lock.Inspector (InspectLocks).
//
// An inspector that fails or does not answer in time never fails the
// scrape: its gauges are left out, the error goes to OnError, and
// taskware_scrape_errors_total{source} counts it. WatchDropped adds
// taskware_events_dropped_total, the events a worker or client dropped
// because the subscriber fell behind.
//
// This package lives in a module of its own, so that taskware's core
// does not depend on Prometheus.
package taskprom
