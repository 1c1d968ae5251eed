package taskprom_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	taskprom "github.com/taskware/taskware/contrib/prometheus"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// A worker and a client report to one Metrics, registered with a registry
// of the program's own and served on /metrics. A run that finds its lock
// held is a skip, with reason lock.locked: contention, not a failure.
func Example() {
	ctx := context.Background()
	b := memorybackend.New()

	m := taskprom.New(taskprom.InspectLocks(b.Locker()))
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	report := task.New("report", func(ctx context.Context, day string) (string, error) { return "report of " + day, nil },
		middleware.StoreResult(b.Store()), middleware.SkipLocked(), middleware.WithLock(b.Locker(), "report"))
	w := worker.New(b.Queue(), worker.OnEvent(m.Observe), worker.PollWait(10*time.Millisecond))
	worker.Register(w, report)
	client := worker.NewClient(b.Queue(), b.Store(), worker.OnEvent(m.Observe))

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w.Run(runCtx) }()

	// Someone else holds the lock: the first run is skipped.
	other, _ := b.Locker().TryAcquire(ctx, "report", time.Minute)
	h, _ := worker.Enqueue(ctx, client, report, "2026-11-25")
	_, err := h.Get(ctx)
	fmt.Println("skipped:", task.IsSkipped(err))
	_ = b.Locker().Release(ctx, other)
	h, _ = worker.Enqueue(ctx, client, report, "2026-11-25")
	res, _ := h.Get(ctx)
	fmt.Println(res)
	stop()
	<-done                      // the worker's events are all seen
	_ = client.FlushEvents(ctx) // and the client's, which come on their own

	scrape(mux, "taskware_events_total", "taskware_task_skips_total", "taskware_task_duration_seconds_count",
		"taskware_lock_", "taskware_locks_held")
	// Output:
	// skipped: true
	// report of 2026-11-25
	// taskware_events_total{event="enqueued",queue="default",task="report"} 2
	// taskware_events_total{event="skipped",queue="default",task="report"} 1
	// taskware_events_total{event="started",queue="default",task="report"} 2
	// taskware_events_total{event="succeeded",queue="default",task="report"} 1
	// taskware_lock_held_seconds_count{task="report"} 1
	// taskware_lock_wait_seconds_count{task="report"} 2
	// taskware_locks_held 0
	// taskware_task_duration_seconds_count{outcome="skipped",task="report"} 1
	// taskware_task_duration_seconds_count{outcome="succeeded",task="report"} 1
	// taskware_task_skips_total{queue="default",reason="lock.locked",task="report"} 1
}

// scrape gets /metrics from h, as Prometheus would, and prints the samples
// whose names start with one of prefixes (no buckets, no sums: their
// values vary from run to run).
func scrape(h http.Handler, prefixes ...string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "_bucket{") || strings.Contains(line, "_sum{") {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				fmt.Println(line)
				break
			}
		}
	}
}

// The queues' gauges are read from the backend at each scrape, here for
// every queue it lists.
func ExampleInspectQueues() {
	ctx := context.Background()
	b := memorybackend.New()
	m := taskprom.New(taskprom.InspectQueues(b.Queue()), taskprom.ScrapeTimeout(2*time.Second))
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)

	send := task.New("send", func(ctx context.Context, to string) (struct{}, error) { return struct{}{}, nil })
	client := worker.NewClient(b.Queue(), nil)
	_, _ = worker.Enqueue(ctx, client, send, "ada@example.com", worker.OnQueue("emails"))
	_, _ = worker.Enqueue(ctx, client, send, "bob@example.com", worker.OnQueue("emails"))
	_, _ = worker.Enqueue(ctx, client, send, "eve@example.com", worker.OnQueue("emails"), worker.Delay(time.Hour))

	scrape(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), "taskware_queue_tasks", "taskware_queue_workers", "taskware_scrape_errors_total")
	// Output:
	// taskware_queue_tasks{queue="emails",state="dead"} 0
	// taskware_queue_tasks{queue="emails",state="delayed"} 1
	// taskware_queue_tasks{queue="emails",state="ready"} 2
	// taskware_queue_tasks{queue="emails",state="running"} 0
	// taskware_queue_workers{queue="emails"} 0
	// taskware_scrape_errors_total{source="queues"} 0
}
