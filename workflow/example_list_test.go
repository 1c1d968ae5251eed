package workflow_test

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// An operator's view: the workflows of a queue, newest first, a page at a
// time (taskware workflows and the web view's Workflows page read the
// same). No worker runs here, so both wait on their first step.
func Example_list() {
	q := memorybackend.New().Queue()
	client := worker.NewClient(q, nil, worker.WithWorkflows(q))
	inc := task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	flow := workflow.New("count")
	def, err := workflow.Build(flow, workflow.Then(flow, workflow.Start(flow, inc, 1), inc))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []string{"count-1", "count-2"} {
		if _, err := workflow.Enqueue(context.Background(), client, def, workflow.ID(id)); err != nil {
			fmt.Println(err)
			return
		}
	}

	page, err := client.Workflows().ListWorkflows(context.Background(), queue.Default, queue.WorkflowQuery{Status: queue.Running, Limit: 1})
	for err == nil {
		for _, w := range page.Workflows {
			fmt.Println(w.ID, w.Name, w.Status, w.Ended, "of", w.Steps)
		}
		if page.Next == "" {
			break
		}
		page, err = client.Workflows().ListWorkflows(context.Background(), queue.Default,
			queue.WorkflowQuery{Status: queue.Running, Limit: 1, After: page.Next})
	}
	fmt.Println(err)
	// Output:
	// count-2 count running 0 of 2
	// count-1 count running 0 of 2
	// <nil>
}
