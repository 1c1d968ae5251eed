package task_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// A failure no retry can mend is marked permanent: Retry leaves it alone,
// and a worker dead-letters its task at once. It keeps its kind.
func ExamplePermanent() {
	err := task.Permanent(errHeld)
	fmt.Println(errors.Is(err, task.ErrPermanent), errors.Is(err, errHeld), task.KindOf(err))
	// Output: true true example.held
}

// A retry that ends in a skip (it expired, say) must not hide the failure
// that made it a retry: AfterFailure makes it that failure, permanent.
func ExampleAfterFailure() {
	first := &task.Failure{Kind: task.KindError, Message: "upstream timed out"}
	err := task.AfterFailure(task.Skip(errHeld), first)
	fmt.Println(task.IsSkipped(err), errors.Is(err, task.ErrPermanent), errors.Is(err, errHeld))
	fmt.Println(err)
	// A run that never failed may be skipped.
	fmt.Println(task.IsSkipped(task.AfterFailure(task.Skip(errHeld), nil)))
	// Output:
	// false true true
	// retry could not run (held by another owner); last failure: upstream timed out
	// true
}

// Errors of the infrastructure are not a task's: a worker runs the task
// again later, without an attempt, and policies neither store nor retry
// them.
func ExampleUnavailable() {
	err := task.Unavailable(errors.New("dial tcp 10.0.0.7:6379: connection refused"))
	fmt.Println(errors.Is(err, task.ErrUnavailable), task.KindOf(err))
	// Output: true task.unavailable
}

// A panic becomes a failure with a one-line message; the stack is kept
// apart, for logs.
func ExampleRecovered() {
	var err *task.PanicError
	func() {
		defer func() { err = task.Recovered(recover()) }()
		panic("index out of range\nin report 7")
	}()
	fmt.Println(err, len(err.Stack) > 0)
	// Output: task panicked: index out of range in report 7 true
}

// Under a worker, the run's own lock release and result write wait in
// Invocation.Final, for the round trip that ends the task; the worker's
// queue makes them. Run in-process (Final is nil), policies write at once.
func ExampleFinalWrites() {
	var final task.FinalWrites
	final.Release(write("release the lock"))
	final.Result(write("write the record"))
	fmt.Println(final.Apply(context.Background()))
	// Output:
	// release the lock
	// write the record
	// <nil>
}

// write is a deferred write that prints what it does.
type write string

func (w write) Apply(context.Context) error { fmt.Println(string(w)); return nil }

// Tests move time with a clock of their own on the invocation; Expires
// reads it with Now.
func ExampleInvocation_Now() {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	inv := &task.Invocation{ID: "1", Clock: func() time.Time { return at }}
	fmt.Println(inv.Now())
	// Output: 2026-11-25 09:00:00 +0000 UTC
}

// A policy that acts on failures leaves an outcome alone: here, one that
// turns a failure into a skip, but never a skip, requeue, permanent failure
// or an error of the infrastructure into anything else.
func ExampleIsOutcome() {
	skipFailures := func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if err == nil || task.IsOutcome(err) {
				return res, err
			}
			return nil, task.Skip(err)
		}
	}
	for _, err := range []error{errors.New("flaky"), task.Permanent(errors.New("bad input"))} {
		_, got := skipFailures(func(context.Context, *task.Invocation) (any, error) { return nil, err })(context.Background(), &task.Invocation{})
		fmt.Println(got, task.IsSkipped(got))
	}
	// Output:
	// task: skipped: flaky true
	// bad input false
}
