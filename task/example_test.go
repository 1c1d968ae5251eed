package task_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/taskware/taskware/task"
)

// trace is a middleware that prints when a run enters and leaves it.
func trace(name string) task.Middleware {
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			fmt.Println(name, "before")
			res, err := next(ctx, inv)
			fmt.Println(name, "after")
			return res, err
		}
	}
}

// The first middleware of a chain is outermost: it runs first and sees the
// outcome last.
func ExampleChain() {
	run := task.Chain(trace("first"), trace("second"), trace("third"))(
		func(ctx context.Context, inv *task.Invocation) (any, error) {
			fmt.Println("task")
			return nil, nil
		})
	_, _ = run(context.Background(), &task.Invocation{ID: "1", Name: "demo"})
	// Output:
	// first before
	// second before
	// third before
	// task
	// third after
	// second after
	// first after
}

func ExampleNew() {
	type Args struct{ A, B int }
	add := task.New("add", func(ctx context.Context, a Args) (int, error) {
		return a.A + a.B, nil
	}, trace("policy"))

	sum, err := add.Call(context.Background(), Args{A: 2, B: 3})
	fmt.Println(sum, err)
	// Output:
	// policy before
	// policy after
	// 5 <nil>
}

// A worker runs a task from its encoded payload through the untyped Func.
func ExampleTask_Func() {
	greet := task.New("greet", func(ctx context.Context, name string) (string, error) {
		return "hello " + name, nil
	})
	payload, _ := greet.Encode("ada")
	res, err := greet.Func()(context.Background(), &task.Invocation{ID: "1", Name: "greet", Payload: payload, Attempt: 1})
	fmt.Println(res, err)

	_, err = greet.Func()(context.Background(), &task.Invocation{ID: "2", Name: "greet", Payload: []byte("{not json")})
	fmt.Println(errors.Is(err, task.ErrBadPayload))
	// Output:
	// hello ada <nil>
	// true
}

func ExampleSkip() {
	errBusy := errors.New("busy")
	err := task.Skip(errBusy)
	fmt.Println(errors.Is(err, task.ErrSkipped), errors.Is(err, errBusy), task.KindOf(err))
	// Output: true true task.skipped
}

// errHeld is a sentinel of this example's own. Its kind is unique, so a
// stored failure of that kind matches it and nothing else.
var errHeld = task.NewError("example.held", "held by another owner")

// A failure read back from a store still matches its sentinel by kind.
func ExampleFailure() {
	errLocked := errHeld
	stored := &task.Failure{Kind: task.KindOf(errLocked), Message: "lock \"report\": held by w1:42"}
	fmt.Println(errors.Is(stored, errLocked), errors.Is(stored, task.ErrSkipped))
	// Output: true false
}
