package task

import (
	"context"
	"time"
)

type clockKey struct{}

// WithClock returns ctx with a clock of its own: Now(ctx), and so
// middleware.Expires, reads the time from now. Tests move time this way
// (see package taskwaretest).
func WithClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// Now returns the time by ctx's clock: time.Now() unless WithClock set one.
func Now(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now()
	}
	return time.Now()
}

// Invocation holds the facts of one run of one task. It is created by whoever
// starts the run (Task.Call, or a worker taking it from a queue) and passed by
// pointer through the chain, so middlewares may read it and the typed task
// may fill in Args and Codec. It belongs to that one run.
type Invocation struct {
	// ID identifies the run. It is stable across retries and keys the result.
	ID string
	// Name is the task's registered name.
	Name string
	// Queue is the queue the run came from, "" for a run in-process. IDs
	// are unique per queue, so a result is stored under (Queue, ID).
	Queue string
	// Payload holds the encoded arguments (JSON unless the task says otherwise).
	Payload []byte
	// EnqueuedAt is when the run was requested.
	EnqueuedAt time.Time
	// ExpiresAt, if not zero, is a deadline set when the run was requested,
	// after which it must not start (see middleware.Expires).
	ExpiresAt time.Time
	// Attempt counts runs of this ID, 1 on the first.
	Attempt int
	// LastErr is the failure that made this run a retry, nil on a run that
	// never failed. A retry must not end as a silent skip: see
	// AfterFailure.
	LastErr error
	// Headers is the metadata the run's message carries (trace context,
	// say), set at enqueue; nil if none. Read it, do not change it.
	Headers map[string]string

	// Args holds the decoded arguments. A typed task sets it from Payload
	// before any middleware runs, so that middlewares can derive lock keys
	// from the arguments; read it with ArgsOf.
	Args any
	// Codec encodes Payload and results. A typed task sets its own; nil
	// means JSON.
	Codec Codec
	// Final, when set by whoever runs the invocation (a worker), collects
	// the run's last writes (see FinalWrites); nil means write at once.
	Final *FinalWrites
	// Locks records the locks the run asked for, in order: middleware.WithLock
	// appends each, held or not, so that the worker's events and metrics
	// can tell which lock a run waited for, held, or lost.
	Locks []LockUse
}

// LockUse is one lock a run asked for.
type LockUse struct {
	Key string
	// Fence is the lease's fencing token, 0 if the lock was not taken.
	Fence int64
	// Wait is how long taking it took, held or not; Held how long the run
	// held it.
	Wait, Held time.Duration
	// Lost reports that the lease was lost during the run.
	Lost bool
}

// CodecOrJSON returns inv.Codec, or JSON if it is nil.
func (inv *Invocation) CodecOrJSON() Codec {
	if inv.Codec == nil {
		return JSON
	}
	return inv.Codec
}

// ArgsOf returns inv's decoded arguments as an A, and whether they are one.
func ArgsOf[A any](inv *Invocation) (A, bool) {
	a, ok := inv.Args.(A)
	return a, ok
}

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
