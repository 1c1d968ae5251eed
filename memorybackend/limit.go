package memorybackend

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/limit"
)

// RateLimiter is the backend's limit.RateLimiter: the GCRA (limit.GCRA,
// limit.ReserveGCRA) on the backend's clock, one theoretical arrival time
// per key and the turns given by Reserve, forgotten once they have passed.
type RateLimiter struct {
	now  func() time.Time
	mu   sync.Mutex
	keys map[string]*rateKey
	ops  int // calls since the last sweep of stale keys
}

// rateKey is one key's limit: its theoretical arrival time, that of its
// starts, and its turns (see limit.ReserveGCRA).
type rateKey struct {
	tat, started time.Time
	turns        map[string]limit.Turn
}

// Semaphore is the backend's limit.Semaphore: per key, the permits held,
// each with its owner token and expiry on the backend's clock, as on Redis.
type Semaphore struct {
	now  func() time.Time
	wall bool // now is the wall clock
	mu   sync.Mutex
	sems map[string]map[string]time.Time // key, token: expiry
	ops  int                             // acquires since the last sweep
}

// newLimiters returns the rate limiter and semaphore of a backend on the
// clock now (wall: the wall clock).
func newLimiters(now func() time.Time, wall bool) (*RateLimiter, *Semaphore) {
	return &RateLimiter{now: now, keys: make(map[string]*rateKey)},
		&Semaphore{now: now, wall: wall, sems: make(map[string]map[string]time.Time)}
}

// RateLimiter returns the backend's rate limiter, on its clock: the same
// one on every call.
func (b *Backend) RateLimiter() *RateLimiter { return b.rate }

// Semaphore returns the backend's semaphore, on its clock: the same one on
// every call.
func (b *Backend) Semaphore() *Semaphore { return b.sem }

// sweepEvery is how many calls at least pass between sweeps of what has
// passed (limits, turns, permits), so that storage does not grow with keys
// no longer used; as many as there are keys, if more, so that sweeping
// costs O(1) a call.
const sweepEvery = 1024

// Allow implements limit.RateLimiter.
func (r *RateLimiter) Allow(ctx context.Context, key string, rate limit.Rate, burst int) (limit.Decision, error) {
	if err := limit.ValidateRate(key, rate, burst); err != nil {
		return limit.Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return limit.Decision{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.sweep()
	k := r.keys[key]
	var tat time.Time
	if k != nil {
		tat = k.tat
	}
	d, tat := limit.GCRA(now, tat, rate.Interval(), burst)
	if d.Allowed {
		r.key(key).tat = tat
	}
	return d, nil
}

// Reserve implements limit.RateLimiter.
func (r *RateLimiter) Reserve(ctx context.Context, key, turn string, rate limit.Rate, burst int) (limit.Decision, error) {
	if err := limit.ValidateRate(key, rate, burst); err != nil {
		return limit.Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return limit.Decision{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.sweep()
	k := r.key(key)
	var d limit.Decision
	var t limit.Turn
	d, k.tat, k.started, t = limit.ReserveGCRA(now, k.tat, k.started, k.turns[turn], rate.Interval(), burst)
	if k.turns == nil {
		k.turns = make(map[string]limit.Turn)
	}
	k.turns[turn] = t
	return d, nil
}

// key returns key's limit, made if new. r.mu is held.
func (r *RateLimiter) key(key string) *rateKey {
	k := r.keys[key]
	if k == nil {
		k = &rateKey{}
		r.keys[key] = k
	}
	return k
}

// sweep returns the time now, having dropped, every so often, the turns
// past remembering and the keys with nothing left to keep. r.mu is held.
func (r *RateLimiter) sweep() time.Time {
	now := r.now()
	if r.ops++; r.ops < max(sweepEvery, len(r.keys)) {
		return now
	}
	r.ops = 0
	for key, k := range r.keys {
		for name, t := range k.turns {
			if now.Sub(t.At) > limit.MaxTurnLate {
				delete(k.turns, name)
			}
		}
		if len(k.turns) == 0 && !k.tat.After(now) && !k.started.After(now) {
			delete(r.keys, key)
		}
	}
	return now
}

// live returns key's permits, less the expired ones. s.mu is held.
func (s *Semaphore) live(key string, now time.Time) map[string]time.Time {
	held := s.sems[key]
	for tok, exp := range held {
		if !now.Before(exp) {
			delete(held, tok)
		}
	}
	if len(held) == 0 {
		delete(s.sems, key)
		return nil
	}
	return held
}

// TryAcquire implements limit.Semaphore.
func (s *Semaphore) TryAcquire(ctx context.Context, key string, n int, ttl time.Duration) (*limit.Permit, error) {
	if err := limit.ValidatePermit(key, n, ttl); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	// Every so often, the permits of dead holders go, on every key.
	if s.ops++; s.ops >= max(sweepEvery, len(s.sems)) {
		s.ops = 0
		for k := range s.sems {
			s.live(k, now)
		}
	}
	held := s.live(key, now)
	if len(held) >= n {
		first := slices.MinFunc(mapValues(held), func(a, b time.Time) int { return a.Compare(b) })
		return nil, &limit.ConcurrencyLimitedError{Key: key, Limit: n, Held: len(held), Remaining: first.Sub(now)}
	}
	if held == nil {
		held = make(map[string]time.Time, n)
		s.sems[key] = held
	}
	tok := randid.New()
	held[tok] = now.Add(ttl)
	// AcquiredAt is on the wall clock, whatever clock the TTLs follow: a
	// Hold counts the permit's validity from it, on the wall clock.
	at := now
	if !s.wall {
		at = time.Now()
	}
	return &limit.Permit{Key: key, Token: tok, Limit: n, TTL: ttl, AcquiredAt: at}, nil
}

func mapValues(m map[string]time.Time) []time.Time {
	out := make([]time.Time, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Release implements limit.Semaphore.
func (s *Semaphore) Release(ctx context.Context, p *limit.Permit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.sems[p.Key]; held != nil && p.Token != "" {
		delete(held, p.Token)
		if len(held) == 0 {
			delete(s.sems, p.Key)
		}
	}
	return nil
}

// Refresh implements limit.Semaphore.
func (s *Semaphore) Refresh(ctx context.Context, p *limit.Permit, ttl time.Duration) error {
	if err := limit.ValidatePermit(p.Key, max(p.Limit, 1), ttl); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	held := s.live(p.Key, now)
	if _, ok := held[p.Token]; !ok || p.Token == "" {
		return &limit.PermitLostError{Key: p.Key}
	}
	held[p.Token] = now.Add(ttl)
	if p.TTL != ttl { // written only if it changes: the holder may be reading it
		p.TTL = ttl
	}
	return nil
}
