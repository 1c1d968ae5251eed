package middleware

import (
	"context"

	"github.com/taskware/taskware/task"
)

// Recover turns a panic inside it into a failure, a *task.PanicError
// (matching task.ErrPanic) with the panic's value on one line and its stack
// apart, so that one bad run cannot take down a worker. Put it inside
// StoreResult and Retry, so that the failure is stored and retried.
func Recover() task.Middleware {
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (res any, err error) {
			defer func() {
				if v := recover(); v != nil {
					res, err = nil, task.Recovered(v)
				}
			}()
			return next(ctx, inv)
		}
	}
}
