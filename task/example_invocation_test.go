package task_test

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/task"
)

// A task reads its own invocation (its ID, its attempt, its headers) from
// its context, through whatever its middlewares wrapped the context in.
func ExampleInvocationFrom() {
	send := task.New("send", func(ctx context.Context, to string) (string, error) {
		inv, ok := task.InvocationFrom(ctx)
		if !ok {
			return "", fmt.Errorf("not run as a task")
		}
		return fmt.Sprintf("mail to %s, run %s, attempt %d, tenant %s", to, inv.ID, inv.Attempt, inv.Headers["tenant"]), nil
	}, func(next task.Func) task.Func {
		// A middleware that derives a context of its own, as Timeout does.
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			return next(ctx, inv)
		}
	})

	// What a worker does for each run it takes from a queue.
	inv := &task.Invocation{ID: "r-42", Attempt: 2, Headers: map[string]string{"tenant": "acme"}, Args: "ann@example.com"}
	s, _ := send.Invoke(context.Background(), inv)
	fmt.Println(s)

	// A context no run started carries none.
	_, ok := task.InvocationFrom(context.Background())
	fmt.Println(ok)
	// Output:
	// mail to ann@example.com, run r-42, attempt 2, tenant acme
	// false
}
