package worker_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// Tasks enqueued in one group run together: here, three greetings sent in
// one call of the batch handler once the group holds three. Each task
// keeps its own handle and result.
func ExampleRegisterBatch() {
	backend := memorybackend.New()
	q, results := backend.Queue(), backend.Store()
	greet := task.New("greet", func(ctx context.Context, name string) (string, error) {
		return "hello " + name, nil // a task enqueued without a group runs in a batch of one
	}, middleware.StoreResult(results))

	w := worker.New(q, worker.PromoteEvery(10*time.Millisecond))
	worker.RegisterBatch(w, greet, func(ctx context.Context, names []string) ([]string, error) {
		fmt.Println("one call for", strings.Join(names, ", "))
		out := make([]string, len(names))
		for i, name := range names {
			out[i] = "hello " + name
		}
		return out, nil
	}, worker.BatchSize(3), worker.BatchDelay(time.Minute))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	client := worker.NewClient(q, results)
	hs, err := worker.EnqueueMany(context.Background(), client, greet, []string{"ada", "bob", "cy"}, worker.Group("team-1"))
	if err != nil {
		stop()
		fmt.Println(err)
		return
	}
	for _, h := range hs {
		fmt.Println(h.Get(context.Background()))
	}
	stop()
	<-done
	// Output:
	// one call for ada, bob, cy
	// hello ada <nil>
	// hello bob <nil>
	// hello cy <nil>
}
