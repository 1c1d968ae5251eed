package task

import (
	"context"
	"time"

	"github.com/taskware/taskware/internal/runctx"
)

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
	// Bind says how a workflow step's arguments are built from Inputs
	// (and Fields), its parents' outcomes; BindNone for a plain task.
	Bind   BindMode
	Inputs []Input
	Fields []string

	// CanRequeue is set by whoever runs the invocation when it honours
	// Requeue, as a worker does: policies may then send the run back to
	// its queue instead of waiting in-process. Task.Call leaves it false,
	// so a retry policy waits and runs again itself.
	CanRequeue bool
	// Clock, if set, is the run's clock, which Now reads: tests move time
	// this way (see package taskwaretest). Nil means the wall clock.
	Clock func() time.Time

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
	// Parker, set by whoever runs the invocation (a worker), is what Park
	// calls; nil means there is no slot to give back (Task.Call).
	Parker Parker
	// Reporter, set by whoever runs the invocation (a worker), takes the
	// run's progress (see Progress); nil means progress goes nowhere.
	Reporter Reporter
	// Canceler, set by whoever runs the invocation (a worker), shares the
	// cancel of the run's context, so that a policy that must end the run
	// (a lock whose lease is lost, middleware.WithLock) needs no
	// cancellable context of its own; nil means there is none to share
	// (Task.Call).
	Canceler Canceler
}

// Canceler shares the cancel of a run's context (see Invocation.Canceler).
type Canceler interface {
	// CancelOf returns the cancel of ctx if ctx ends exactly when the run's
	// context does (it is that context, or one that only adds values to
	// it), and nil otherwise: a context with a deadline or a cancel of its
	// own must be ended by its own cancel.
	CancelOf(ctx context.Context) context.CancelCauseFunc
}

// Parker gives back a run's worker slot (see Invocation.Park).
type Parker interface {
	// Park gives back the slot; it does nothing the second time.
	Park()
}

// Park gives back the run's worker slot, if it has one, for the rest of
// the run: a policy calls it before it waits on another run's outcome
// (middleware.JoinLocked), so that the wait keeps no slot from work. The
// run still ends as usual, its delivery kept claimed meanwhile.
func (inv *Invocation) Park() {
	if inv.Parker != nil {
		inv.Parker.Park()
	}
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

// Now returns the time by the run's clock: inv.Clock's, or the wall
// clock's if it has none. Policies that compare a run's times (Expires)
// read it.
func (inv *Invocation) Now() time.Time {
	if inv.Clock != nil {
		return inv.Clock()
	}
	return time.Now()
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

// WithInvocation returns a context that carries inv, for InvocationFrom.
// Task.Invoke runs its invocation under one.
func WithInvocation(ctx context.Context, inv *Invocation) context.Context {
	return &runctx.Context[*Invocation]{Context: ctx, Inv: inv}
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
	inv, _ := ctx.Value(runctx.Key{}).(*Invocation)
	return inv, inv != nil
}

// inProcess is an in-process run (Task.Call): its invocation and the
// context that carries it, allocated together.
type inProcess struct {
	inv Invocation
	ctx runctx.Context[*Invocation]
}

// newInProcess returns a run of inv under parent: the context to run it
// with, which carries it, and the invocation, in one allocation.
func newInProcess(parent context.Context, inv Invocation) (context.Context, *Invocation) {
	r := &inProcess{inv: inv}
	r.ctx = runctx.Context[*Invocation]{Context: parent, Inv: &r.inv}
	return &r.ctx, &r.inv
}
