package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// A periodic task that must not overlap itself, Huey's main use of
// lock_task: the lock makes the run of a tick that comes while the last
// one still runs a skip (SkipLocked), neither a failure nor a second run
// at once. Two schedulers, as two processes would, enqueue each tick once
// between them.
func Example() {
	backend := memorybackend.New()
	started, release, finished := make(chan string), make(chan struct{}), make(chan int)
	skipped := make(chan error, 1)
	var calls atomic.Int32
	cleanup := task.New("cleanup", func(ctx context.Context, dir string) (int, error) {
		if calls.Add(1) == 1 { // the first run outlasts its interval
			started <- dir
			<-release
			finished <- 3
		}
		return 3, nil
	},
		middleware.Expires(0), // a tick not started by the next one is skipped
		middleware.SkipLocked(func(ctx context.Context, inv *task.Invocation, err error) {
			select {
			case skipped <- err:
			default:
			}
		}),
		middleware.WithLock(backend.Locker(), "cleanup", lock.TTL(time.Minute)),
	)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	w := worker.New(backend.Queue())
	worker.Register(w, cleanup)
	wg.Go(func() { w.Run(ctx) })
	for range 2 {
		s := schedule.New(worker.NewClient(backend.Queue(), backend.Store()))
		schedule.Add(s, "cleanup", schedule.Every(time.Second), cleanup, "/var/tmp/reports")
		wg.Go(func() { s.Run(ctx) })
	}

	fmt.Println("a run started in", <-started)
	fmt.Println("the next tick's run skipped, the lock held:", errors.Is(<-skipped, lock.ErrLocked))
	close(release)
	fmt.Println("the first run removed", <-finished, "files")
	stop()
	wg.Wait()
	// Output:
	// a run started in /var/tmp/reports
	// the next tick's run skipped, the lock held: true
	// the first run removed 3 files
}

// A scheduler that publishes its entries to the backend, where the web
// view's schedules page (and anyone with the backend) reads them.
func ExamplePublish() {
	backend := memorybackend.New()
	report := task.New("report", func(ctx context.Context, day string) (string, error) { return "done", nil })
	s := schedule.New(worker.NewClient(backend.Queue(), nil), schedule.Publish(backend.Queue(), "reports-1"))
	schedule.Add(s, "daily-report", schedule.Every(24*time.Hour), report, "yesterday",
		schedule.EnqueueOptions(worker.OnQueue("reports")))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for {
		es, _ := backend.Queue().Schedules(ctx)
		if len(es) == 1 {
			e := es[0]
			fmt.Println(e.Name, "|", e.Spec, "|", e.Task, "on", e.Queue, "| by", e.Scheduler)
			fmt.Println("next tick at midnight UTC:", e.Next.UTC().Format(time.TimeOnly))
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	es, _ := backend.Queue().Schedules(context.Background())
	fmt.Println("after it stopped:", len(es))
	// Output:
	// daily-report | every 24h0m0s | report on reports | by reports-1
	// next tick at midnight UTC: 00:00:00
	// after it stopped: 0
}
