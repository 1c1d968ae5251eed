package middleware

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/taskware/taskware/limit"
	"github.com/taskware/taskware/task"
)

// DefaultLimitRetryDelay is about how long ConcurrencyLimit waits before a
// run that found every permit held runs again (see LimitRetryDelay).
const DefaultLimitRetryDelay = 500 * time.Millisecond

// DefaultRateWait is how long before its turn a run RateLimit sent back to
// its queue comes back, to wait the rest in place (see RateWait).
const DefaultRateWait = 100 * time.Millisecond

// LimitOption configures RateLimit and ConcurrencyLimit.
type LimitOption interface{ applyLimit(*limitConfig) }

type limitConfig struct {
	hooks  []LimitHook
	keeper []limit.KeeperOption
	delay  time.Duration
	wait   time.Duration // RateLimit's wait in place
}

type limitOptionFunc func(*limitConfig)

func (f limitOptionFunc) applyLimit(c *limitConfig) { f(c) }

// LimitHook sees every run that a limit turns away, with its error: a
// *limit.RateLimitedError or a *limit.ConcurrencyLimitedError. Count it in
// a metric.
type LimitHook func(ctx context.Context, inv *task.Invocation, err error)

// OnLimited adds a hook that sees every run turned away by the limit.
func OnLimited(hook LimitHook) LimitOption {
	if hook == nil {
		configPanic("OnLimited: nil hook")
	}
	return limitOptionFunc(func(c *limitConfig) { c.hooks = append(c.hooks, hook) })
}

// PermitTTL sets the TTL of ConcurrencyLimit's permits (limit.DefaultTTL):
// how soon the permit of a worker that died frees itself. Permits are
// renewed at a third of it while their runs run.
func PermitTTL(d time.Duration) LimitOption {
	return limitOptionFunc(func(c *limitConfig) { c.keeper = append(c.keeper, limit.TTL(d)) })
}

// PermitRenewEvery sets how often ConcurrencyLimit renews a permit (a third
// of its TTL by default).
func PermitRenewEvery(d time.Duration) LimitOption {
	return limitOptionFunc(func(c *limitConfig) { c.keeper = append(c.keeper, limit.RenewEvery(d)) })
}

// LimitRetryDelay sets about how long ConcurrencyLimit waits before a run
// that found every permit held runs again (DefaultLimitRetryDelay),
// jittered by up to a quarter either way, and never past the soonest
// expiry of a permit held. RateLimit needs no such setting: it waits
// exactly until the limit allows the next run.
func LimitRetryDelay(d time.Duration) LimitOption {
	return limitOptionFunc(func(c *limitConfig) { c.delay = d })
}

// RateWait sets how long before its turn a run that RateLimit turns away
// comes back from its queue, to wait the rest in place, holding its
// worker's slot (DefaultRateWait; 0 comes back due exactly at its turn).
// The worker's promotion and take make a run from its queue late, by up
// to worker.PromoteEvery: waiting in place, it runs on its turn.
func RateWait(d time.Duration) LimitOption {
	return limitOptionFunc(func(c *limitConfig) { c.wait = d })
}

func newLimitConfig(opts []LimitOption) limitConfig {
	c := limitConfig{delay: DefaultLimitRetryDelay, wait: DefaultRateWait}
	for _, o := range opts {
		o.applyLimit(&c)
	}
	return c
}

// limited ends a run turned away by a limit: under a worker, it goes back
// to its queue after the error's delay without using an attempt; run
// in-process, where nothing can requeue it, the error is the outcome.
func (c *limitConfig) limited(ctx context.Context, inv *task.Invocation, err error, after time.Duration) error {
	for _, h := range c.hooks {
		h(ctx, inv, err)
	}
	if inv.CanRequeue {
		return task.Requeue(after, false, err)
	}
	return err
}

// RateLimit lets runs start under key at most at rate, with up to burst at
// once, as counted by l (the GCRA: with burst 1, one run every
// rate.Interval()). A run over the limit does not call next. Under a
// worker, it is given its turn (limit.RateLimiter.Reserve, named by its ID
// and attempt) and goes back to its queue until its turn comes within
// RateWait, without using an attempt (the worker's event is
// EventRescheduled, its Err a *limit.RateLimitedError); it waits the rest
// in place, and runs on its turn. A run that comes back late still uses
// its turn (up to limit.MaxTurnLate): lateness is not passed on, and the
// rate is kept under load; runs late together start burst + 1 at once at
// most. In-process, a run over the limit returns the
// *limit.RateLimitedError, which matches limit.ErrRateLimited and says
// when to try again, unless its turn comes within RateWait: it waits for
// it. Every run counts, retries included. Put Expires outside RateLimit to
// bound how long a run may keep waiting.
func RateLimit(l limit.RateLimiter, key string, rate limit.Rate, burst int, opts ...LimitOption) task.Middleware {
	if key == "" {
		configPanic("RateLimit: empty key")
	}
	return rateLimit("RateLimit", l, func(*task.Invocation) (string, error) { return key, nil }, rate, burst, opts)
}

// RateLimitFunc is RateLimit with a key derived from each invocation: one
// limit per customer, say (see KeyFromArgs).
func RateLimitFunc(l limit.RateLimiter, key KeyFunc, rate limit.Rate, burst int, opts ...LimitOption) task.Middleware {
	if key == nil {
		configPanic("RateLimitFunc: nil KeyFunc")
	}
	return rateLimit("RateLimitFunc", l, key, rate, burst, opts)
}

func rateLimit(name string, l limit.RateLimiter, key KeyFunc, rate limit.Rate, burst int, opts []LimitOption) task.Middleware {
	if l == nil {
		configPanic("%s: nil RateLimiter", name)
	}
	if err := limit.ValidateRate("-", rate, burst); err != nil {
		configPanic("%s: %v", name, err)
	}
	c := newLimitConfig(opts)
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			k, err := key.of(inv, "rate limit")
			if err != nil {
				return nil, err
			}
			if !inv.CanRequeue || inv.ID == "" {
				return c.allowInPlace(ctx, inv, l, k, rate, burst, next)
			}
			turn := inv.ID + "#" + strconv.Itoa(inv.Attempt)
			d, err := l.Reserve(ctx, k, turn, rate, burst)
			// A turn within RateWait is waited for in place, and taken:
			// asked again, as runs late together are paced, one an
			// interval; a few intervals at most, rather than go back
			// behind the queue's backlog.
			for tries := 0; err == nil && !d.Allowed && d.RetryAfter <= c.wait && tries < 8; tries++ {
				if err := sleep(ctx, d.RetryAfter); err != nil {
					return nil, err
				}
				d, err = l.Reserve(ctx, k, turn, rate, burst)
			}
			if err != nil {
				return nil, err
			}
			if !d.Allowed {
				// Back to the queue, to come back RateWait before the
				// turn: the worker's promotion and take are late by less.
				after := d.RetryAfter
				if after > c.wait {
					after -= c.wait
				}
				e := &limit.RateLimitedError{Key: k, Rate: rate, Burst: burst, RetryAfter: d.RetryAfter}
				return nil, c.limited(ctx, inv, e, after)
			}
			return next(ctx, inv)
		}
	}
}

// allowInPlace is RateLimit for a run that cannot be requeued: a turn near
// at hand (RateWait) is waited for in place, a few times at most, as
// others may take it first; past that, the refusal is the outcome.
func (c *limitConfig) allowInPlace(ctx context.Context, inv *task.Invocation, l limit.RateLimiter, k string,
	rate limit.Rate, burst int, next task.Func) (any, error) {
	d, err := l.Allow(ctx, k, rate, burst)
	for tries := 0; err == nil && !d.Allowed && d.RetryAfter <= c.wait && tries < 3; tries++ {
		if err := sleep(ctx, d.RetryAfter); err != nil {
			return nil, err
		}
		d, err = l.Allow(ctx, k, rate, burst)
	}
	if err != nil {
		return nil, err
	}
	if !d.Allowed {
		e := &limit.RateLimitedError{Key: k, Rate: rate, Burst: burst, RetryAfter: d.RetryAfter}
		return nil, c.limited(ctx, inv, e, d.RetryAfter)
	}
	return next(ctx, inv)
}

// sleep waits d, or until ctx ends, and then returns its cause.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// ConcurrencyLimit lets at most n runs under key run at once, across
// workers, with permits of s. A run holds its permit while next runs,
// renewed at a third of its TTL (PermitTTL, limit.DefaultTTL by default)
// from one goroutine per ConcurrencyLimit, and gives it back on every
// outcome, a panic included; the permit of a worker that died frees
// itself within its TTL. If the permit is lost meanwhile, the task's
// context is cancelled with cause limit.ErrPermitLost, and the outcome
// matches it too.
//
// A run that finds every permit held does not call next: under a worker,
// it goes back to its queue for about LimitRetryDelay, jittered, without
// using an attempt (the worker's event is EventRescheduled, its Err a
// *limit.ConcurrencyLimitedError); in-process, it returns the
// *limit.ConcurrencyLimitedError, which matches
// limit.ErrConcurrencyLimited.
func ConcurrencyLimit(s limit.Semaphore, key string, n int, opts ...LimitOption) task.Middleware {
	if key == "" {
		configPanic("ConcurrencyLimit: empty key")
	}
	return concurrencyLimit("ConcurrencyLimit", s, func(*task.Invocation) (string, error) { return key, nil }, n, opts)
}

// ConcurrencyLimitFunc is ConcurrencyLimit with a key derived from each
// invocation.
func ConcurrencyLimitFunc(s limit.Semaphore, key KeyFunc, n int, opts ...LimitOption) task.Middleware {
	if key == nil {
		configPanic("ConcurrencyLimitFunc: nil KeyFunc")
	}
	return concurrencyLimit("ConcurrencyLimitFunc", s, key, n, opts)
}

func concurrencyLimit(name string, s limit.Semaphore, key KeyFunc, n int, opts []LimitOption) task.Middleware {
	c := newLimitConfig(opts)
	if c.delay <= 0 {
		configPanic("%s: LimitRetryDelay must be positive, got %v", name, c.delay)
	}
	keeper, err := limit.NewKeeper(s, n, c.keeper...)
	if err != nil {
		configPanic("%s: %v", name, err)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			k, err := key.of(inv, "concurrency limit")
			if err != nil {
				return nil, err
			}
			h, err := keeper.Hold(ctx, k)
			if err != nil {
				var e *limit.ConcurrencyLimitedError
				if !errors.As(err, &e) {
					return nil, err
				}
				e.RetryAfter = jitterQuarter(c.delay)
				if e.Remaining > 0 && e.Remaining < e.RetryAfter {
					e.RetryAfter = e.Remaining
				}
				return nil, c.limited(ctx, inv, e, e.RetryAfter)
			}
			// Given back on every path, a panic of next included.
			defer func() { _ = h.Release(uncancelled(ctx)) }()
			res, err := next(h, inv)
			return res, h.Outcome(err)
		}
	}
}

// jitterQuarter returns d, more or less up to a quarter of it, at random,
// so that runs turned away together do not all come back together.
func jitterQuarter(d time.Duration) time.Duration {
	q := d / 4
	if q <= 0 {
		return d
	}
	return d - q + rand.N(2*q+1)
}
