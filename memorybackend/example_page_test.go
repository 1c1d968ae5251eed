package memorybackend_test

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
)

// ListTasks pages through a queue's tasks by cursor, filtered: here the
// ready "sms" tasks, two a page.
func ExampleQueue_ListTasks() {
	ctx := context.Background()
	q := memorybackend.New().Queue()
	for i := range 6 {
		name := []string{"email", "sms"}[i%2]
		m := &queue.Message{ID: fmt.Sprintf("t%d", i), Task: name, Queue: "notify", Payload: []byte(`["hi"]`), EnqueuedAt: time.Now()}
		if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
			fmt.Println(err)
			return
		}
	}
	tq := queue.TaskQuery{Set: queue.ReadyTasks, Task: "sms", Limit: 2}
	for {
		page, err := q.ListTasks(ctx, "notify", tq)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, t := range page.Tasks {
			fmt.Print(t.ID, " ")
		}
		fmt.Println("| more:", page.Next != "")
		if page.Next == "" {
			break
		}
		tq.After = page.Next
	}
	// Output:
	// t1 t3 | more: true
	// t5 | more: false
}
