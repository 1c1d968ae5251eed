package task_test

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/task"
)

// A task reads its own invocation (its ID, its attempt, its headers) from
// its context, through whatever its middlewares wrapped the context in.
// A runner that allocates per run embeds a task.InvocationContext there,
// so that carrying the invocation costs no allocation.
func ExampleInvocationFrom() {
	send := func(ctx context.Context, to string) (string, error) {
		inv, ok := task.InvocationFrom(ctx)
		if !ok {
			return "", fmt.Errorf("not run as a task")
		}
		return fmt.Sprintf("mail to %s, run %s, attempt %d, tenant %s", to, inv.ID, inv.Attempt, inv.Headers["tenant"]), nil
	}

	// What a runner does for each run.
	type run struct {
		inv task.Invocation
		ctx task.InvocationContext
	}
	r := &run{inv: task.Invocation{ID: "r-42", Name: "send", Attempt: 2, Headers: map[string]string{"tenant": "acme"}}}
	r.ctx = task.InvocationContext{Context: context.Background(), Inv: &r.inv}

	// A middleware that derives a context of its own, as Timeout does.
	ctx, cancel := context.WithCancel(&r.ctx)
	defer cancel()
	s, _ := send(ctx, "ann@example.com")
	fmt.Println(s)

	_, err := send(context.Background(), "bob@example.com")
	fmt.Println(err)
	// Output:
	// mail to ann@example.com, run r-42, attempt 2, tenant acme
	// not run as a task
}
