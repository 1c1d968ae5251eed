package task

import (
	"context"
	"time"
)

// Reserved headers. Header names that begin with "taskware-" belong to
// taskware: a producer sets them (worker.WithRetries, worker.WithTimeout)
// to change how one run is treated, and the policies read them from
// Invocation.Headers. A producer in another language may set them too, in
// the formats below. Do not use the prefix for headers of your own.
const (
	// HeaderRetries overrides, for one enqueued run, how many times
	// middleware.Retry (or RetryUpTo) retries it: a decimal count of
	// retries after the first run, "0" for none. A count above
	// MaxHeaderRetries counts as MaxHeaderRetries; anything else that is
	// not a count of 0 or more is ignored, and the configured count holds.
	HeaderRetries = "taskware-retries"
	// HeaderTimeout overrides, for one enqueued run, the time
	// middleware.Timeout gives it: a Go duration ("50ms", "1m30s", as
	// time.ParseDuration reads it). A duration above MaxHeaderTimeout
	// counts as MaxHeaderTimeout; one that is not positive, or does not
	// parse, is ignored, and the configured timeout holds.
	HeaderTimeout = "taskware-timeout"

	// MaxHeaderRetries bounds HeaderRetries, so that a message cannot keep
	// a failing run going for days: sidekiq's default count of retries.
	MaxHeaderRetries = 25
	// MaxHeaderTimeout bounds HeaderTimeout.
	MaxHeaderTimeout = 24 * time.Hour
)

// RetriesHeader returns the count of retries the run's HeaderRetries
// header asks for, bounded by MaxHeaderRetries, and whether there is a
// valid one. It does not allocate when the header is absent or valid.
func (inv *Invocation) RetriesHeader() (retries int, ok bool) {
	if len(inv.Headers) == 0 {
		return 0, false
	}
	v, ok := inv.Headers[HeaderRetries]
	if !ok {
		return 0, false
	}
	return parseRetries(v)
}

// TimeoutHeader returns the timeout the run's HeaderTimeout header asks
// for, bounded by MaxHeaderTimeout, and whether there is a valid one. It
// does not allocate when the header is absent or valid.
func (inv *Invocation) TimeoutHeader() (timeout time.Duration, ok bool) {
	if len(inv.Headers) == 0 {
		return 0, false
	}
	v, ok := inv.Headers[HeaderTimeout]
	if !ok {
		return 0, false
	}
	return parseTimeout(v)
}

// parseRetries reads a HeaderRetries value: a decimal count of 0 or more,
// bounded by MaxHeaderRetries. ok is false if v is not one.
func parseRetries(v string) (retries int, ok bool) {
	if v == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= MaxHeaderRetries { // past the bound, only the digits matter
			n = n*10 + int(c-'0')
		}
	}
	return min(n, MaxHeaderRetries), true
}

// parseTimeout reads a HeaderTimeout value: a positive Go duration,
// bounded by MaxHeaderTimeout. ok is false if v is not one.
func parseTimeout(v string) (timeout time.Duration, ok bool) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, false
	}
	return min(d, MaxHeaderTimeout), true
}

type invocationKey struct{}

// InvocationContext is a context that carries an invocation, for
// InvocationFrom: the parent context with Inv on top. Whoever starts a run
// sets one up and passes a pointer to it as the run's ctx. A runner that
// already allocates something per run embeds an InvocationContext in it,
// so that carrying the invocation costs no allocation:
//
//	type run struct {
//		inv task.Invocation
//		ctx task.InvocationContext
//	}
//	r := &run{inv: task.Invocation{ID: id, Name: name, Attempt: 1}}
//	r.ctx = task.InvocationContext{Context: parent, Inv: &r.inv}
//	res, err := fn(&r.ctx, &r.inv)
//
// Use it by pointer: a value in a context.Context interface is a copy, and
// an allocation. Deadlines, cancellation, causes and every other value come
// from Context, which must not be nil; contexts derived from it
// (context.WithValue, WithCancel, WithTimeout, WithoutCancel) keep the
// invocation, without a goroutine of their own.
type InvocationContext struct {
	context.Context
	// Inv is the invocation InvocationFrom returns.
	Inv *Invocation
}

// Value returns c.Inv for the key of InvocationFrom, and asks the parent
// context for any other key.
func (c *InvocationContext) Value(key any) any {
	if _, ok := key.(invocationKey); ok {
		return c.Inv
	}
	return c.Context.Value(key)
}

// WithInvocation returns a context that carries inv, for InvocationFrom. It
// allocates one small value: a runner that allocates per run anyway embeds
// an InvocationContext instead.
func WithInvocation(ctx context.Context, inv *Invocation) context.Context {
	return &InvocationContext{Context: ctx, Inv: inv}
}

// InvocationFrom returns the invocation of the run whose context ctx is,
// or derives from, and whether there is one. A task reads its ID, attempt
// or headers this way without taking them as arguments:
//
//	func send(ctx context.Context, m Mail) (string, error) {
//		if inv, ok := task.InvocationFrom(ctx); ok && inv.Attempt > 1 {
//			...
//		}
//	}
//
// The invocation belongs to its run: read it, do not change it, and do not
// keep it once the run has ended. Nothing is paid for it unless it is
// asked for: the lookup walks ctx's chain of contexts, as any Value does.
func InvocationFrom(ctx context.Context) (*Invocation, bool) {
	inv, _ := ctx.Value(invocationKey{}).(*Invocation)
	return inv, inv != nil
}

// inProcess is an in-process run (Task.Call): its invocation and the
// context that carries it, allocated together.
type inProcess struct {
	inv Invocation
	ctx InvocationContext
}

// newInProcess returns a run of inv under parent: the context to run it
// with, which carries it, and the invocation, in one allocation.
func newInProcess(parent context.Context, inv Invocation) (context.Context, *Invocation) {
	r := &inProcess{inv: inv}
	r.ctx = InvocationContext{Context: parent, Inv: &r.inv}
	return &r.ctx, &r.inv
}
