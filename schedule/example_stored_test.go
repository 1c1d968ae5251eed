package schedule_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// An entry stored in the backend while the scheduler runs, as another
// process (the taskware command, the web view) would store it: the
// scheduler picks it up within a second, and its ticks run with the
// arguments stored.
func ExampleStored() {
	backend := memorybackend.New()
	ran := make(chan string, 10)
	report := task.New("report", func(ctx context.Context, day string) (int, error) {
		ran <- day
		return 0, nil
	})
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	w := worker.New(backend.Queue())
	worker.Register(w, report)
	wg.Go(func() { w.Run(ctx) })
	s := schedule.New(worker.NewClient(backend.Queue(), nil), schedule.Stored(backend.Queue()))
	wg.Go(func() { s.Run(ctx) })

	// Elsewhere, at run time:
	if err := schedule.Put(ctx, backend.Queue(), "report", "every 1s", report, "monday"); err != nil {
		fmt.Println(err)
	}
	fmt.Println("ran with", <-ran)
	stop()
	wg.Wait()
	// Output:
	// ran with monday
}

// Stored entries put, paused, resumed, listed and removed: thin calls on
// the backend's queue.Schedules, which every running scheduler with
// Stored picks up.
func ExamplePut() {
	defs := memorybackend.New().Queue()
	ctx := context.Background()
	report := task.New("report", func(ctx context.Context, day string) (int, error) { return 0, nil })
	_ = schedule.Put(ctx, defs, "daily-report", "every 24h", report, "yesterday", schedule.OnQueue("reports"))
	_ = schedule.Put(ctx, defs, "nightly-report", "0 3 * * *", report, "today") // for a cron SpecParser
	_ = schedule.Pause(ctx, defs, "nightly-report")
	list := func() {
		entries, _ := schedule.List(ctx, defs)
		for _, e := range entries {
			fmt.Printf("%s | %s | %s on %s, args %s | paused %v\n", e.Name, e.Spec, e.Task, e.Queue, e.Args, e.Paused)
		}
	}
	list()
	_ = schedule.Resume(ctx, defs, "nightly-report")
	_ = schedule.Remove(ctx, defs, "daily-report")
	fmt.Println("--")
	list()
	fmt.Println("bad spec:", schedule.Put(ctx, defs, "x", "every now and then", report, ""))
	// Output:
	// daily-report | every 24h | report on reports, args "yesterday" | paused false
	// nightly-report | 0 3 * * * | report on default, args "today" | paused true
	// --
	// nightly-report | 0 3 * * * | report on default, args "today" | paused false
	// bad spec: schedule: put "x": taskware: invalid configuration: schedule: spec "every now and then": want a positive duration after "every"
}
