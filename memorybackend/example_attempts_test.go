package memorybackend_test

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
)

// Attempts tells a task's runs, oldest first: each with its outcome,
// error, worker and times.
func ExampleQueue_Attempts() {
	ctx := context.Background()
	q := memorybackend.New().Queue()
	_ = q.Enqueue(ctx, &queue.Message{ID: "t-1", Task: "email", Queue: "emails"}, time.Time{})
	for attempt := 1; attempt <= 2; attempt++ {
		ds, _ := q.Take(ctx, "emails", "worker-1", 1, 0)
		o := queue.Outcome{Status: queue.Failed, Attempt: attempt, Kind: "smtp", Error: "mailbox full",
			Worker: "worker-1", StartedAt: time.Now()}
		if attempt == 1 { // a retry: run again now, as attempt 2
			o.Status, o.Retry, o.Attempt, o.RunAt = queue.Scheduled, true, 2, time.Now()
		}
		_ = q.Finish(ctx, ds[0], o)
		_, _ = q.Promote(ctx, "emails", time.Now(), 10)
	}
	as, _ := q.Attempts(ctx, "emails", "t-1")
	for _, a := range as {
		fmt.Println(a.Attempt, a.Status, a.Retry, a.Kind, a.Error, a.Worker)
	}
	// Output:
	// 1 scheduled true smtp mailbox full worker-1
	// 2 failed false smtp mailbox full worker-1
}
