package limit

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/internal/lockerstate"
	"github.com/taskware/taskware/lock"
)

// DefaultTTL is a permit's TTL unless a Keeper is told otherwise.
const DefaultTTL = 30 * time.Second

// KeeperOption configures a Keeper.
type KeeperOption interface{ apply(*keeperConfig) }

type keeperConfig struct{ ttl, renew time.Duration }

type keeperOptionFunc func(*keeperConfig)

func (f keeperOptionFunc) apply(c *keeperConfig) { f(c) }

// TTL sets how long a permit lives unless renewed (DefaultTTL): how soon
// the permit of a holder that crashed frees itself.
func TTL(d time.Duration) KeeperOption { return keeperOptionFunc(func(c *keeperConfig) { c.ttl = d }) }

// RenewEvery sets how often a Hold renews its permit: a third of the TTL by
// default. It must be positive and shorter than the TTL less
// lock.DriftMargin.
func RenewEvery(d time.Duration) KeeperOption {
	return keeperOptionFunc(func(c *keeperConfig) { c.renew = d })
}

// Keeper takes permits of a Semaphore, n to a key, and keeps them renewed
// while their holders work. It is a lock.Guard over the semaphore, whose
// permits it holds as leases: renewal, validity and loss are the Guard's
// (see lock.Guard.Hold), and one goroutine serves all of a Keeper's holds.
// Build it once with NewKeeper; it is safe for concurrent use.
type Keeper struct{ guard *lock.Guard }

// NewKeeper returns a Keeper over s that lets n holders hold a key at
// once. It returns an error matching task.ErrInvalidConfig if s is nil, n
// less than 1 or an option out of range.
func NewKeeper(s Semaphore, n int, opts ...KeeperOption) (*Keeper, error) {
	c := keeperConfig{ttl: DefaultTTL}
	for _, o := range opts {
		o.apply(&c)
	}
	switch {
	case s == nil:
		return nil, configError("nil Semaphore")
	case n < 1:
		return nil, configError("n must be at least 1, got %d", n)
	case c.renew < 0: // to lock.RenewEvery, no renewal at all
		return nil, configError("RenewEvery must be positive, got %v", c.renew)
	}
	g, err := lock.NewGuard(permits{s, n}, lock.TTL(c.ttl), lock.RenewEvery(c.renew))
	if err != nil {
		return nil, err
	}
	return &Keeper{guard: g}, nil
}

// TTL returns the keeper's permit TTL.
func (k *Keeper) TTL() time.Duration { return k.guard.TTL() }

// Hold takes one of the n permits on key, in one attempt, and keeps it
// renewed until Release. If n are held, the error is a
// *ConcurrencyLimitedError. The Hold is itself the context to work under:
// it is cancelled with a *PermitLostError as its cause if the permit is
// lost, refused by a refresh or not renewed within its validity (the send
// time of its last successful acquire or refresh, plus the TTL, less
// lock.DriftMargin). A permit is not a lock: the Hold carries no lease for
// lock.LeaseFrom and lock.Fence.
func (k *Keeper) Hold(ctx context.Context, key string) (*Hold, error) {
	lh, err := k.guard.Hold(ctx, key)
	if err != nil {
		if e, ok := err.(lockerError); ok {
			err = e.error
		}
		return nil, err
	}
	// The Hold's context is ctx's, not lh's, which carries the lease and
	// ends with a lock.LeaseLostError: it ends with lh, and the permit's
	// own cause.
	h := &Hold{hold: lh}
	h.Context, h.cancel = context.WithCancelCause(ctx)
	h.stop = context.AfterFunc(lh, func() {
		if lost := h.lost(); lost != nil {
			h.cancel(lost)
		}
	})
	return h, nil
}

// Do takes a permit as Hold does, runs fn under it and releases it on every
// outcome, a panic of fn's included. It returns fn's error, joined with
// the permit's loss if it was lost meanwhile.
func (k *Keeper) Do(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	h, err := k.Hold(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = h.Release(context.WithoutCancel(ctx)) }()
	return h.Outcome(fn(h))
}

// Hold is a permit being renewed, and the context to work under while it is
// held. Release it when the work is done.
type Hold struct {
	context.Context
	cancel context.CancelCauseFunc
	hold   *lock.Hold  // renews the permit
	stop   func() bool // of the loss's AfterFunc
	lostAs atomic.Pointer[PermitLostError]
}

// Permit returns the permit held.
func (h *Hold) Permit() *Permit { return permitOf(h.hold.Lease()) }

// Release stops renewal, cancels the Hold's context and gives the permit
// back. A second Release does nothing.
func (h *Hold) Release(ctx context.Context) error {
	h.stop()
	h.cancel(context.Canceled)
	return h.hold.Release(ctx)
}

// Outcome returns err as the outcome of work done under the Hold: unchanged
// if the permit was kept, and joined with its loss if not.
func (h *Hold) Outcome(err error) error {
	lost := h.lost()
	if lost == nil {
		return err
	}
	if err == nil || errors.Is(err, ErrPermitLost) {
		return lost
	}
	return errors.Join(lost, err)
}

// lost returns the permit's loss, the same error each time, or nil if it
// has not been lost: the *PermitLostError a refresh met, or one that
// wraps why the lease ended (its validity ran out).
func (h *Hold) lost() *PermitLostError {
	if pl := h.lostAs.Load(); pl != nil {
		return pl
	}
	err := h.hold.Outcome(nil)
	if err == nil {
		return nil
	}
	var pl *PermitLostError
	if !errors.As(err, &pl) {
		var ll *lock.LeaseLostError
		if errors.As(err, &ll) {
			err = ll.Err
		}
		pl = &PermitLostError{Key: h.hold.Lease().Key, Err: err}
	}
	h.lostAs.CompareAndSwap(nil, pl)
	return h.lostAs.Load()
}

// permits is a Semaphore's permits, n to a key, as a lock.Locker, for a
// lock.Guard to hold and renew: each lease keeps its *Permit as its
// locker's state (internal/lockerstate).
type permits struct {
	sem Semaphore
	n   int
}

func (p permits) TryAcquire(ctx context.Context, key string, ttl time.Duration) (*lock.Lease, error) {
	permit, err := p.sem.TryAcquire(ctx, key, p.n, ttl)
	if err != nil {
		if errors.Is(err, ErrConcurrencyLimited) {
			err = lockerError{err, lock.ErrLocked}
		}
		return nil, err
	}
	lease := &lock.Lease{Key: permit.Key, Token: permit.Token, TTL: permit.TTL, AcquiredAt: permit.AcquiredAt}
	*lockerstate.Lease(lease) = permit
	return lease, nil
}

// permitOf returns the permit a lease of permits stands for.
func permitOf(lease *lock.Lease) *Permit { return (*lockerstate.Lease(lease)).(*Permit) }

func (p permits) Release(ctx context.Context, lease *lock.Lease) error {
	return p.sem.Release(ctx, permitOf(lease))
}

func (p permits) Refresh(ctx context.Context, lease *lock.Lease, ttl time.Duration) error {
	err := p.sem.Refresh(ctx, permitOf(lease), ttl)
	if errors.Is(err, ErrPermitLost) {
		err = lockerError{err, lock.ErrNotHeld}
	}
	return err
}

// lockerError is a Semaphore's error as a lock.Locker says it: it matches
// as, lock.ErrLocked for every permit held or lock.ErrNotHeld for a permit
// gone, as well as what the error matches itself.
type lockerError struct {
	error
	as error
}

func (e lockerError) Is(target error) bool { return target == e.as }

func (e lockerError) Unwrap() error { return e.error }
