package worker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// One enqueue changes a task's retries and timeout: the task is built to
// retry once with 30s per run, and this import may take three retries and
// must give up after 50ms each.
func ExampleRetries() {
	backend := memorybackend.New()
	name, results := backend.Queue(), backend.Store()
	runs := make(chan int, 10)
	imp := task.New("import", func(ctx context.Context, file string) (int, error) {
		<-ctx.Done() // the remote end never answers
		return 0, ctx.Err()
	}, middleware.StoreResult(results),
		middleware.RetryUpTo(1, middleware.RetryBackoff(time.Millisecond, time.Millisecond)),
		func(next task.Func) task.Func { // counts the runs
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				runs <- inv.Attempt
				return next(ctx, inv)
			}
		},
		middleware.Timeout(30*time.Second))

	w := worker.New(name, worker.PromoteEvery(10*time.Millisecond))
	worker.Register(w, imp)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	client := worker.NewClient(name, results)
	h, err := worker.Enqueue(context.Background(), client, imp, "big.csv",
		worker.Retries(3), worker.Timeout(50*time.Millisecond))
	if err != nil {
		stop()
		fmt.Println(err)
		return
	}
	_, err = h.Get(context.Background()) // out of retries, each run timed out
	fmt.Println(errors.Is(err, queue.ErrDeadLettered), errors.Is(err, context.DeadlineExceeded))
	fmt.Println(len(runs), "runs")

	stop()
	<-done
	// Output:
	// true true
	// 4 runs
}
