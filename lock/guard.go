package lock

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/task"
)

// Defaults of a Guard.
const (
	DefaultTTL        = 30 * time.Second
	DefaultBackoffMin = 5 * time.Millisecond
	DefaultBackoffMax = 250 * time.Millisecond
)

// Option configures a Guard.
type Option interface{ apply(*Guard) }

type optionFunc func(*Guard)

func (f optionFunc) apply(g *Guard) { f(g) }

// TTL sets how long a lease lives unless renewed. The default is DefaultTTL.
func TTL(d time.Duration) Option { return optionFunc(func(g *Guard) { g.ttl = d }) }

// Wait sets how long to wait for a held lock before giving up with
// ErrLocked. The default, 0, makes one attempt.
func Wait(d time.Duration) Option { return optionFunc(func(g *Guard) { g.wait = d }) }

// Backoff sets the bounds of the pause between attempts while waiting. Each
// pause doubles, up to max, and is jittered down by up to half so that
// waiters spread out.
func Backoff(min, max time.Duration) Option {
	return optionFunc(func(g *Guard) { g.backoffMin, g.backoffMax = min, max })
}

// RenewEvery sets how often a Hold renews its lease. The default is a third
// of the TTL; it must be shorter than the TTL less the drift margin.
func RenewEvery(d time.Duration) Option { return optionFunc(func(g *Guard) { g.renew = d }) }

// NoRenewal turns renewal off: a Hold's context is then cancelled with
// ErrLeaseLost when the lease's validity ends, since the lock may no longer
// be owned.
func NoRenewal() Option { return optionFunc(func(g *Guard) { g.renew = -1 }) }

// DriftMargin is how much sooner than the server a holder gives its lease
// up: a fiftieth of the TTL and 10ms. Redlock's validity time allows a
// hundredth and 2ms for clocks that run at slightly different rates; the
// rest is for the holder's timer, which a loaded machine fires late.
func DriftMargin(ttl time.Duration) time.Duration { return ttl/50 + 10*time.Millisecond }

// Guard is a Locker with a policy: TTL, waiting and renewal. Build it once
// with NewGuard; it is safe for concurrent use.
type Guard struct {
	locker                 Locker
	validity               time.Duration // of a lease after its send: TTL less the drift margin
	deferrer               FinalReleaser // locker, if it can defer a release
	ttl, wait, renew       time.Duration
	backoffMin, backoffMax time.Duration
	renewer                renewer
}

// NewGuard returns a Guard over l. It returns an error matching
// task.ErrInvalidConfig if l is nil or an option is out of range.
func NewGuard(l Locker, opts ...Option) (*Guard, error) {
	g := &Guard{locker: l, ttl: DefaultTTL, backoffMin: DefaultBackoffMin, backoffMax: DefaultBackoffMax}
	for _, o := range opts {
		o.apply(g)
	}
	switch {
	case l == nil:
		return nil, configError("nil Locker")
	case g.ttl <= 0:
		return nil, configError("TTL must be positive, got %v", g.ttl)
	case g.wait < 0:
		return nil, configError("Wait must not be negative, got %v", g.wait)
	case g.backoffMin <= 0 || g.backoffMax < g.backoffMin:
		return nil, configError("Backoff needs 0 < min <= max, got %v, %v", g.backoffMin, g.backoffMax)
	case g.ttl <= DriftMargin(g.ttl):
		return nil, configError("TTL (%v) must be longer than its drift margin (%v)", g.ttl, DriftMargin(g.ttl))
	case g.renew == 0:
		g.renew = g.ttl / 3
	case g.renew > 0 && g.renew >= g.ttl-DriftMargin(g.ttl):
		return nil, configError("RenewEvery (%v) must be shorter than the TTL (%v) less its drift margin", g.renew, g.ttl)
	}
	g.deferrer, _ = l.(FinalReleaser)
	g.validity = g.ttl - DriftMargin(g.ttl)
	g.renewer.guard = g
	g.renewer.holds = make(map[*Hold]struct{})
	g.renewer.kick = make(chan struct{}, 1)
	g.renewer.slots = make(chan struct{}, maxConcurrentRenewals)
	return g, nil
}

// TTL returns the guard's lease TTL.
func (g *Guard) TTL() time.Duration { return g.ttl }

// Acquire takes key, waiting for it as the guard's Wait option allows.
// Once the wait runs out, it returns the last *LockedError.
func (g *Guard) Acquire(ctx context.Context, key string) (*Lease, error) {
	lease, err := g.locker.TryAcquire(ctx, key, g.ttl)
	if err == nil || g.wait == 0 || !errors.Is(err, ErrLocked) {
		return lease, err
	}
	deadline := time.Now().Add(g.wait)
	pause := backoff.New(g.backoffMin, g.backoffMax)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, err
		}
		if serr := backoff.Sleep(ctx, min(pause.Next(), left)); serr != nil {
			return nil, serr
		}
		lease, err = g.locker.TryAcquire(ctx, key, g.ttl)
		if err == nil || !errors.Is(err, ErrLocked) {
			return lease, err
		}
	}
}

// Hold takes key as Acquire does and keeps the lease renewed until Release.
// The Hold is itself the context to work under: it carries the lease (see
// LeaseFrom and Fence) and is cancelled with a cause matching ErrLeaseLost
// if the lease is lost: refused by a refresh, or no longer valid.
//
// A lease is valid until the send time of its last successful acquire or
// refresh, plus the TTL, less DriftMargin: the server cannot have let it go
// sooner. The Hold's context ends then, whether or not a refresh is still
// in flight, so a holder stops before the server can hand the lock to
// someone else. (Fencing tokens guard what the lock protects past that.)
func (g *Guard) Hold(ctx context.Context, key string) (*Hold, error) {
	return g.HoldFor(ctx, key, TaskRef{})
}

// HoldFor is Hold for the task run run: the lease records it (the acquire's
// context is marked with WithOwnerTask), so that a LockedError met by
// another owner names it, and the Hold's context carries it
// (OwnerTaskFrom), for the locks the run takes inside. middleware.WithLock
// holds its locks this way. A zero run is Hold's.
func (g *Guard) HoldFor(ctx context.Context, key string, run TaskRef) (*Hold, error) {
	return g.HoldWithin(ctx, key, run, nil)
}

// HoldWithin is HoldFor within a run whose context, ctx, cancel ends (see
// task.Canceler): the Hold works under ctx itself rather than a context
// of its own, so a lost lease cancels ctx, and with it the run, through
// cancel, with a cause matching ErrLeaseLost; Release ends renewal but
// not ctx, which goes on for the rest of the run. It saves a cancellable
// context per hold. A nil cancel is HoldFor.
func (g *Guard) HoldWithin(ctx context.Context, key string, run TaskRef, cancel context.CancelCauseFunc) (*Hold, error) {
	// The mark is part of the Hold, so that it costs no allocation of its
	// own.
	h := &Hold{guard: g, owner: ownerCtx{Context: ctx, task: run}}
	actx := ctx
	if !run.IsZero() {
		actx = &h.owner
	}
	lease, err := g.Acquire(actx, key)
	if err != nil {
		return nil, err
	}
	h.lease, h.sent = lease, lease.AcquiredAt
	if cancel != nil {
		h.Context, h.cancel, h.shared = ctx, cancel, true
	} else {
		h.Context, h.cancel = context.WithCancelCause(ctx)
	}
	g.renewer.add(h)
	return h, nil
}

// Do runs fn while holding key, as Guard.Do does, with a Guard built from
// opts. It is the analogue of Huey's `with lock_task(key):` for guarding
// part of a function.
func Do(ctx context.Context, l Locker, key string, fn func(ctx context.Context) error, opts ...Option) error {
	g, err := NewGuard(l, opts...)
	if err != nil {
		return err
	}
	return g.Do(ctx, key, fn)
}

// Do takes key, runs fn under the Hold and releases the lease on every
// outcome, a panic of fn's included (the panic then goes on up). It returns
// fn's error; if the lease was lost meanwhile, the error also matches
// ErrLeaseLost, even when fn itself returned nil, because the work was not
// protected throughout. A failed release does not change the outcome: the
// work is done, and the lock expires within its TTL.
func (g *Guard) Do(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	h, err := g.Hold(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = h.Release(context.WithoutCancel(ctx)) }()
	return h.Outcome(fn(h))
}

// Hold is a lease being renewed, and the context to work under while it is
// held. Release it when the work is done.
type Hold struct {
	context.Context
	guard  *Guard
	lease  *Lease
	owner  ownerCtx // the task run it is held for, if any
	cancel context.CancelCauseFunc
	shared bool // its context is its run's (HoldWithin): a release does not end it

	mu       sync.Mutex
	released bool
	renewing bool      // a refresh is in flight
	sent     time.Time // send time of the last successful acquire or refresh
	lastErr  error     // of the last failed refresh, if the next did not succeed
	lost     error
}

// Value serves the lease to LeaseFrom and Fence, and the run it is held
// for to OwnerTaskFrom.
func (h *Hold) Value(key any) any {
	switch {
	case key == (leaseKey{}):
		return h.lease
	case key == (ownerKey{}) && !h.owner.task.IsZero():
		return &h.owner
	}
	return h.Context.Value(key)
}

// Lease returns the lease held.
func (h *Hold) Lease() *Lease { return h.lease }

// Err is the Hold's context's error, and reads the clock: once the
// lease's validity has ended, it is context.Canceled (with cause
// ErrLeaseLost), even if the renewer, woken late on a busy machine, has
// not yet said so. Code that checks ctx.Err() before each write never
// writes on a lease that may be gone. (Done closes when the renewer
// wakes: a process paused past the validity is what fencing guards
// against; see Fence.)
func (h *Hold) Err() error {
	if err := h.Context.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released || h.lost != nil || time.Now().Before(h.validUntil()) {
		return nil
	}
	h.loseLocked(errors.Join(errValidityEnded, h.lastErr))
	return h.Context.Err()
}

// Release stops renewal, cancels the Hold's context (not a run's context
// it shares: HoldWithin) and releases the lease.
// It does not wait for a refresh in flight: a refresh that reaches the
// lock after its release finds it no longer owned, and changes nothing. It
// returns an error matching ErrNotHeld if the lease was already lost.
func (h *Hold) Release(ctx context.Context) error {
	if !h.stop() {
		return nil
	}
	return h.guard.locker.Release(ctx, h.lease)
}

// stop ends renewal and cancels the Hold's context, once; it reports
// whether this call did.
func (h *Hold) stop() bool {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		return false
	}
	h.released = true
	h.mu.Unlock()
	h.guard.renewer.remove(h)
	if !h.shared {
		h.cancel(context.Canceled)
	}
	return true
}

// ReleaseWith ends the hold as Release does, but defers the release itself
// to f, the run's last writes, when f is not nil and the locker can
// (FinalReleaser): a worker then sends it in the round trip that ends the
// task. Renewal stops and the Hold's context is cancelled at once either
// way. middleware.WithLock ends its holds this way.
func (h *Hold) ReleaseWith(ctx context.Context, f *task.FinalWrites) error {
	if f == nil || h.guard.deferrer == nil {
		return h.Release(ctx)
	}
	if !h.stop() {
		return nil
	}
	f.Release(h.guard.deferrer.FinalRelease(h.lease))
	return nil
}

// Outcome returns err as the outcome of work done under the Hold: unchanged
// if the lease was kept, and joined with the lease-lost cause if not.
func (h *Hold) Outcome(err error) error {
	h.mu.Lock()
	lost := h.lost
	h.mu.Unlock()
	if lost == nil {
		return err
	}
	if err == nil || errors.Is(err, ErrLeaseLost) {
		return lost
	}
	return errors.Join(lost, err)
}

// service is the renewer's look at the hold at now: it gives the lease up
// once its validity has ended, and starts a refresh when one is due (and
// start allows it). It returns when the hold next needs a look, zero if
// never.
func (h *Hold) service(now time.Time, start func(*Hold) bool) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.guard
	switch {
	case h.released || h.lost != nil:
		return time.Time{}
	case !now.Before(h.validUntil()):
		h.loseLocked(errors.Join(errValidityEnded, h.lastErr))
		return time.Time{}
	case g.renew > 0 && !h.renewing && now.Sub(h.sent) >= g.renew && start(h):
		h.renewing = true
	}
	return h.validUntil()
}

// validUntil is when the lease stops being valid: the send time of its last
// successful acquire or refresh, plus the TTL, less the drift margin. h.mu
// is held.
func (h *Hold) validUntil() time.Time { return h.sent.Add(h.guard.validity) }

var errValidityEnded = errors.New("no refresh succeeded within the lease's validity (TTL less drift margin)")

// refresh refreshes the lease, with the hold's validity as its deadline:
// past it, the lease may be gone. Its outcome counts only if the hold is
// still on by then.
func (h *Hold) refresh() {
	g := h.guard
	h.mu.Lock()
	deadline := h.validUntil()
	h.mu.Unlock()
	sent := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	err := g.locker.Refresh(ctx, h.lease, g.ttl)
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.renewing = false
	switch {
	case h.released || h.lost != nil:
	case err == nil:
		h.sent, h.lastErr = sent, nil
	case errors.Is(err, ErrNotHeld):
		h.loseLocked(err)
	default:
		// Transient, perhaps: the lease is still ours until its validity
		// ends, and the next look tries again.
		h.lastErr = err
	}
}

func (h *Hold) loseLocked(err error) {
	h.lost = &LeaseLostError{Key: h.lease.Key, Err: err}
	h.cancel(h.lost)
}
