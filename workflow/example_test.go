package workflow_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// A group of three steps in parallel, a join of their results, and a
// chain after it, run by a worker on the memory backend.
func Example() {
	backend := memorybackend.New()
	q := backend.Queue()

	// Steps are ordinary tasks, registered on the worker as any task.
	count := task.New("count", func(ctx context.Context, line string) (int, error) {
		return len(strings.Fields(line)), nil
	})
	sum := task.New("sum", func(ctx context.Context, counts []int) (int, error) {
		total := 0
		for _, n := range counts {
			total += n
		}
		return total, nil
	})
	describe := task.New("describe", func(ctx context.Context, total int) (string, error) {
		return fmt.Sprintf("%d words", total), nil
	})
	w := worker.New(q)
	worker.Register(w, count)
	worker.Register(w, sum)
	worker.Register(w, describe)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	flow := workflow.New("words")
	lines := workflow.Group(flow, count, []string{"a b", "c d e", "f"})
	total := workflow.Join(flow, lines, sum)
	def, err := workflow.Build(flow, workflow.Then(flow, total, describe))
	if err != nil {
		fmt.Println(err)
		stop()
		return
	}

	client := worker.NewClient(q, backend.Store(), worker.WithWorkflows(q))
	h, err := workflow.Enqueue(context.Background(), client, def, workflow.ID("words-1"))
	if err != nil {
		fmt.Println(err)
		stop()
		return
	}
	fmt.Println(h.Get(context.Background()))
	st, _ := h.State(context.Background())
	for _, s := range st.StepStates {
		fmt.Println(s.Name, s.Status, s.Parents)
	}

	stop()
	fmt.Println(<-done)
	// Output:
	// 6 words <nil>
	// count succeeded []
	// count-2 succeeded []
	// count-3 succeeded []
	// sum succeeded [count count-2 count-3]
	// describe succeeded [sum]
	// <nil>
}
