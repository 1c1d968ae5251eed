package limit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/taskware/taskware/lock"
)

// DefaultTTL is a permit's TTL unless a Keeper is told otherwise.
const DefaultTTL = 30 * time.Second

// KeeperOption configures a Keeper.
type KeeperOption interface{ apply(*Keeper) }

type keeperOptionFunc func(*Keeper)

func (f keeperOptionFunc) apply(k *Keeper) { f(k) }

// TTL sets how long a permit lives unless renewed (DefaultTTL): how soon
// the permit of a holder that crashed frees itself.
func TTL(d time.Duration) KeeperOption { return keeperOptionFunc(func(k *Keeper) { k.ttl = d }) }

// RenewEvery sets how often a Hold renews its permit: a third of the TTL by
// default. It must be shorter than the TTL less lock.DriftMargin.
func RenewEvery(d time.Duration) KeeperOption {
	return keeperOptionFunc(func(k *Keeper) { k.renew = d })
}

// Keeper takes permits of a Semaphore and keeps them renewed while their
// holders work, as lock.Guard does for leases: one goroutine serves all of
// a Keeper's holds, and runs only while it has some (and a little longer).
// Build it once with NewKeeper; it is safe for concurrent use.
type Keeper struct {
	sem             Semaphore
	ttl, renew      time.Duration
	validity        time.Duration // of a permit after its send: TTL less the drift margin
	kick            chan struct{} // wakes the goroutine from a long sleep
	slots           chan struct{} // a token per refresh in flight
	mu              sync.Mutex
	holds           map[*Hold]struct{}
	running, dozing bool
	adds            uint64 // holds added so far, to tell a quiet period
	due             []*Hold
}

// linger is how long a Keeper's goroutine outlives its last hold, so that
// holds taken one after another share it.
const linger = 50 * time.Millisecond

// maxConcurrentRenewals bounds the refreshes a Keeper has in flight.
const maxConcurrentRenewals = 16

// NewKeeper returns a Keeper over s. It returns an error matching
// task.ErrInvalidConfig if s is nil or an option is out of range.
func NewKeeper(s Semaphore, opts ...KeeperOption) (*Keeper, error) {
	k := &Keeper{sem: s, ttl: DefaultTTL}
	for _, o := range opts {
		o.apply(k)
	}
	switch {
	case s == nil:
		return nil, configError("nil Semaphore")
	case k.ttl <= lock.DriftMargin(k.ttl):
		return nil, configError("TTL (%v) must be longer than its drift margin (%v)", k.ttl, lock.DriftMargin(k.ttl))
	case k.renew == 0:
		k.renew = k.ttl / 3
	case k.renew < 0 || k.renew >= k.ttl-lock.DriftMargin(k.ttl):
		return nil, configError("RenewEvery (%v) must be positive and shorter than the TTL (%v) less its drift margin", k.renew, k.ttl)
	}
	k.validity = k.ttl - lock.DriftMargin(k.ttl)
	k.kick = make(chan struct{}, 1)
	k.slots = make(chan struct{}, maxConcurrentRenewals)
	k.holds = make(map[*Hold]struct{})
	return k, nil
}

// TTL returns the keeper's permit TTL.
func (k *Keeper) TTL() time.Duration { return k.ttl }

// Hold takes one of n permits on key, in one attempt, and keeps it renewed
// until Release. If n are held, the error is a *ConcurrencyLimitedError.
// The Hold is itself the context to work under: it is cancelled with a
// *PermitLostError as its cause if the permit is lost, refused by a
// refresh or not renewed within its validity (the send time of its last
// successful acquire or refresh, plus the TTL, less lock.DriftMargin).
func (k *Keeper) Hold(ctx context.Context, key string, n int) (*Hold, error) {
	p, err := k.sem.TryAcquire(ctx, key, n, k.ttl)
	if err != nil {
		return nil, err
	}
	h := &Hold{keeper: k, permit: p, sent: p.AcquiredAt}
	h.Context, h.cancel = context.WithCancelCause(ctx)
	k.add(h)
	return h, nil
}

// Do takes a permit as Hold does, runs fn under it and releases it on every
// outcome, a panic of fn's included. It returns fn's error, joined with
// the permit's loss if it was lost meanwhile.
func (k *Keeper) Do(ctx context.Context, key string, n int, fn func(ctx context.Context) error) error {
	h, err := k.Hold(ctx, key, n)
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
	keeper *Keeper
	permit *Permit
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	released bool
	renewing bool      // a refresh is in flight
	sent     time.Time // send time of the last successful acquire or refresh
	lastErr  error     // of the last failed refresh, if none succeeded since
	lost     error
}

// Permit returns the permit held.
func (h *Hold) Permit() *Permit { return h.permit }

// Release stops renewal, cancels the Hold's context and gives the permit
// back. A second Release does nothing.
func (h *Hold) Release(ctx context.Context) error {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		return nil
	}
	h.released = true
	h.mu.Unlock()
	h.keeper.remove(h)
	h.cancel(context.Canceled)
	return h.keeper.sem.Release(ctx, h.permit)
}

// Outcome returns err as the outcome of work done under the Hold: unchanged
// if the permit was kept, and joined with its loss if not.
func (h *Hold) Outcome(err error) error {
	h.mu.Lock()
	lost := h.lost
	h.mu.Unlock()
	if lost == nil {
		return err
	}
	if err == nil || errors.Is(err, ErrPermitLost) {
		return lost
	}
	return errors.Join(lost, err)
}

var errValidityEnded = errors.New("no refresh succeeded within the permit's validity (TTL less drift margin)")

// service is the keeper's look at h at now: it gives the permit up once
// its validity has ended, and starts a refresh when one is due. It returns
// when h next needs a look, zero if never.
func (h *Hold) service(now time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := h.keeper
	until := h.sent.Add(k.validity)
	switch {
	case h.released || h.lost != nil:
		return time.Time{}
	case !now.Before(until):
		h.loseLocked(errors.Join(errValidityEnded, h.lastErr))
		return time.Time{}
	case !h.renewing && now.Sub(h.sent) >= k.renew && k.start(h):
		h.renewing = true
	}
	return until
}

// refresh refreshes the permit, with its validity as the deadline.
func (h *Hold) refresh() {
	k := h.keeper
	h.mu.Lock()
	deadline := h.sent.Add(k.validity)
	h.mu.Unlock()
	sent := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	err := k.sem.Refresh(ctx, h.permit, k.ttl)
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.renewing = false
	switch {
	case h.released || h.lost != nil:
	case err == nil:
		h.sent, h.lastErr = sent, nil
	case errors.Is(err, ErrPermitLost):
		h.loseLocked(err)
	default:
		// Transient, perhaps: the permit is still ours until its validity
		// ends, and the next look tries again.
		h.lastErr = err
	}
}

func (h *Hold) loseLocked(err error) {
	var pl *PermitLostError
	if !errors.As(err, &pl) {
		pl = &PermitLostError{Key: h.permit.Key, Err: err}
	}
	h.lost = pl
	h.cancel(pl)
}

func (k *Keeper) tick() time.Duration { return max(k.renew/4, time.Millisecond) }

func (k *Keeper) add(h *Hold) {
	k.mu.Lock()
	k.holds[h] = struct{}{}
	k.adds++
	if !k.running {
		k.running, k.dozing = true, true
		go k.run()
	}
	k.mu.Unlock()
}

func (k *Keeper) remove(h *Hold) {
	k.mu.Lock()
	delete(k.holds, h)
	if len(k.holds) == 0 && k.dozing {
		k.dozing = false
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
	k.mu.Unlock()
}

// run looks after the holds: every quarter renewal interval, or sooner at
// the end of a hold's validity, it gives up the holds whose validity has
// ended and starts the refreshes that are due, each on a goroutine of its
// own. It returns once the keeper has had no hold for a whole linger.
func (k *Keeper) run() {
	timer := time.NewTimer(k.tick())
	defer timer.Stop()
	seen := ^uint64(0)
	for {
		select {
		case <-timer.C:
		case <-k.kick:
		}
		k.mu.Lock()
		if len(k.holds) == 0 {
			if k.adds == seen { // no hold for a whole linger: stop
				k.running, k.dozing = false, false
				k.mu.Unlock()
				return
			}
			seen = k.adds
			k.dozing = false
			k.mu.Unlock()
			timer.Reset(linger)
			continue
		}
		seen = k.adds
		k.dozing = true
		due := k.due[:0]
		for h := range k.holds {
			due = append(due, h)
		}
		k.due = due
		k.mu.Unlock()
		now := time.Now()
		next := now.Add(k.tick())
		for _, h := range due {
			if at := h.service(now); !at.IsZero() && at.Before(next) {
				next = at
			}
		}
		clear(due)
		timer.Reset(max(time.Until(next), 0))
	}
}

// start runs h's refresh on a goroutine of its own, if fewer than
// maxConcurrentRenewals are in flight; it reports whether it did.
func (k *Keeper) start(h *Hold) bool {
	select {
	case k.slots <- struct{}{}:
	default:
		return false
	}
	go func() {
		defer func() { <-k.slots }()
		h.refresh()
	}()
	return true
}
