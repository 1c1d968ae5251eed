package worker_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// An order key keeps one account's tasks in the order they were enqueued,
// even on a queue split into partitions (here a memory queue, which is
// never split: the key changes nothing there, and costs nothing). A worker
// of concurrency 1 runs them in that order.
func ExampleOrderKey() {
	backend := memorybackend.New()
	var mu sync.Mutex
	var ran []string
	var wg sync.WaitGroup
	post := task.New("post", func(ctx context.Context, entry string) (struct{}, error) {
		mu.Lock()
		ran = append(ran, entry)
		mu.Unlock()
		wg.Done()
		return struct{}{}, nil
	})
	client := worker.NewClient(backend.Queue(), nil)
	ctx := context.Background()
	for _, entry := range []string{"open", "deposit 10", "withdraw 5", "close"} {
		wg.Add(1)
		if _, err := worker.Enqueue(ctx, client, post, entry, worker.OrderKey("acct-1")); err != nil {
			fmt.Println(err)
		}
	}
	w := worker.New(backend.Queue(), worker.Concurrency(1))
	worker.Register(w, post)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w.Run(wctx) }()
	wg.Wait()
	stop()
	<-done
	fmt.Println(ran)
	// Output:
	// [open deposit 10 withdraw 5 close]
}
