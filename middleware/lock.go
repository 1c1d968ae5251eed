package middleware

import (
	"context"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// WithLock runs the task while holding the lock key on l. The options set
// the lease TTL (lock.TTL, 30s by default), how long to wait for a held lock
// (lock.Wait, not at all by default) and renewal (lock.RenewEvery, TTL/3 by
// default, or lock.NoRenewal).
//
// If the lock is held elsewhere, the run fails with a *lock.LockedError,
// which matches lock.ErrLocked; wrap WithLock in SkipLocked to make that a
// skip. The task's context carries the lease's fencing token (lock.Fence),
// and is cancelled with cause lock.ErrLeaseLost if the lease is lost; the
// outcome then matches lock.ErrLeaseLost too. Under a worker that context
// is the run's own (task.Canceler, lock.Guard.HoldWithin), so a lost lease
// ends the rest of the run as well, and a release ends nothing. The lease is released on
// every outcome. Each run's lock, taken or not, is recorded in
// inv.Locks, for events and metrics.
//
// The lease records the run it is held for, its queue and ID
// (lock.Guard.HoldFor), so a *lock.LockedError met by another run names
// it (its Task): JoinLocked, outside, waits for that run's result.
func WithLock(l lock.Locker, key string, opts ...lock.Option) task.Middleware {
	if key == "" {
		configPanic("WithLock: empty key")
	}
	return withLock("WithLock", l, func(*task.Invocation) (string, error) { return key, nil }, opts)
}

// WithLockFunc is WithLock with a key derived from each invocation.
func WithLockFunc(l lock.Locker, key KeyFunc, opts ...lock.Option) task.Middleware {
	if key == nil {
		configPanic("WithLockFunc: nil KeyFunc")
	}
	return withLock("WithLockFunc", l, key, opts)
}

func withLock(name string, l lock.Locker, key KeyFunc, opts []lock.Option) task.Middleware {
	g, err := lock.NewGuard(l, opts...)
	if err != nil {
		configPanic("%s: %v", name, err)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			k, err := key.of(inv, "lock")
			if err != nil {
				return nil, err
			}
			if f := inv.Final; f != nil && len(f.Releases) > 0 {
				// This run took a lock before (a retry loop inside the
				// chain): let it go now, or the run would lock itself out.
				f.ApplyReleases(uncancelled(ctx))
			}
			asked := time.Now()
			// The lease records the run, so that a run that finds the lock
			// held can tell whose result to wait for (JoinLocked).
			// Under a worker, a lost lease ends the run through the run's
			// own context: no cancellable context of the lock's own.
			var cancel context.CancelCauseFunc
			if inv.Canceler != nil {
				cancel = inv.Canceler.CancelOf(ctx)
			}
			h, err := g.HoldWithin(ctx, k, lock.TaskRef{Queue: inv.Queue, ID: inv.ID}, cancel)
			if err != nil {
				inv.Locks = append(inv.Locks, task.LockUse{Key: k, Wait: time.Since(asked)})
				return nil, err
			}
			held := time.Now()
			use := task.LockUse{Key: k, Fence: h.Lease().Fence, Wait: held.Sub(asked)}
			// Released on every path, a panic of next included; under a
			// worker, in the round trip that ends the task.
			defer func() {
				_ = h.ReleaseWith(uncancelled(ctx), inv.Final)
				use.Held = time.Since(held)
				use.Lost = h.Outcome(nil) != nil
				inv.Locks = append(inv.Locks, use)
			}()
			res, err := next(h, inv)
			return res, h.Outcome(err)
		}
	}
}

// uncancelled returns ctx, or, if it has ended, a ctx with its values that
// has not: a release or a result write must still be made after a timeout.
// (WithoutCancel allocates, so only when it must.)
func uncancelled(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}
