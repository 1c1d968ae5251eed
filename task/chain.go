package task

import "context"

// Func runs one invocation and returns its result or the error that ended it.
type Func func(ctx context.Context, inv *Invocation) (any, error)

// Middleware wraps a Func in a policy and returns the wrapped Func. It is
// called once, when a chain is built; the Func it returns runs on every call.
type Middleware func(next Func) Func

// Chain composes middlewares into one. The first is outermost: it runs first
// and sees the final outcome last. Nil entries are ignored.
func Chain(mws ...Middleware) Middleware {
	return func(next Func) Func {
		for i := len(mws) - 1; i >= 0; i-- {
			if mws[i] != nil {
				next = mws[i](next)
			}
		}
		return next
	}
}
