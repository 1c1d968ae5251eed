package limit

import (
	"context"
	"strconv"
	"time"

	"github.com/taskware/taskware/internal/lockerstate"
)

// Rate is a number of events per period: PerSecond(10) is ten a second,
// one every 100ms.
type Rate struct {
	Events int
	Per    time.Duration
}

// PerSecond is n events a second.
func PerSecond(n int) Rate { return Rate{Events: n, Per: time.Second} }

// PerMinute is n events a minute.
func PerMinute(n int) Rate { return Rate{Events: n, Per: time.Minute} }

// PerHour is n events an hour.
func PerHour(n int) Rate { return Rate{Events: n, Per: time.Hour} }

// Every is one event every d.
func Every(d time.Duration) Rate { return Rate{Events: 1, Per: d} }

// Interval is the time between two events at the rate, the GCRA's emission
// interval: Per / Events, at least 1ns. It is 0 for an invalid rate.
func (r Rate) Interval() time.Duration {
	if r.Events <= 0 || r.Per <= 0 {
		return 0
	}
	return max(r.Per/time.Duration(r.Events), 1)
}

// String reads "10/1s".
func (r Rate) String() string { return strconv.Itoa(r.Events) + "/" + r.Per.String() }

// ValidateRate checks the arguments of an Allow, for RateLimiter
// implementations and the policies that use them: the key must not be
// empty, the rate must be positive and the burst at least 1. The error
// matches task.ErrInvalidConfig.
func ValidateRate(key string, rate Rate, burst int) error {
	switch {
	case key == "":
		return configError("empty key")
	case rate.Events <= 0 || rate.Per <= 0:
		return configError("rate must be positive, got %v", rate)
	case burst < 1:
		return configError("burst must be at least 1, got %d", burst)
	case rate.Interval() > maxWindow/time.Duration(burst):
		return configError("burst %d at %v spans more than %v", burst, rate, maxWindow)
	}
	return nil
}

// maxWindow bounds a burst's worth of intervals.
const maxWindow = 100 * 365 * 24 * time.Hour

// ValidatePermit checks the arguments of a TryAcquire or Refresh, for
// Semaphore implementations: the key must not be empty, n at least 1 and
// the TTL positive. The error matches task.ErrInvalidConfig.
func ValidatePermit(key string, n int, ttl time.Duration) error {
	switch {
	case key == "":
		return configError("empty key")
	case n < 1:
		return configError("n must be at least 1, got %d", n)
	case ttl <= 0:
		return configError("TTL must be positive, got %v", ttl)
	}
	return nil
}

// Decision is a RateLimiter's answer to one Allow.
type Decision struct {
	// Allowed says the event may happen now; it has been counted.
	Allowed bool
	// Remaining is how many more events would be allowed right now.
	Remaining int
	// RetryAfter, when the event was refused, is how long until it would
	// be allowed; 0 when it was allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the limit is back to a full burst, if
	// no other event comes.
	ResetAfter time.Duration
}

// RateLimiter counts events under rate limits, one limit per key.
// Implementations must be safe for concurrent use.
//
// A backend may have run a call whose reply it lost, and run it again: each
// call must then answer as if it ran once, so an event allowed the first
// time is allowed again without being counted twice.
type RateLimiter interface {
	// Allow counts one event on key if rate and burst allow it now, and
	// says so. A refusal is not an error: the Decision says when to try
	// again. The error is for a bad argument (task.ErrInvalidConfig) or a
	// backend that could not answer (task.ErrUnavailable, usually).
	Allow(ctx context.Context, key string, rate Rate, burst int) (Decision, error)
	// Reserve is Allow for an event that will wait for its turn, named
	// turn (a run's ID and attempt). It counts the event at the soonest
	// time rate and burst allow it: now, and the Decision is allowed, or
	// later, and the turn is kept: the refusal's RetryAfter says when it
	// comes. A Reserve of the same turn is refused before then, with the
	// time left, and allowed from then on, up to MaxTurnLate late, without
	// being counted again: an event that comes back late uses the turn it
	// was given, so its lateness is not passed on to the events after it.
	// Late events are paced all the same: no more than burst + 1 start at
	// once, the others wait a little, keeping their turns. A turn later
	// than MaxTurnLate is forgotten, and the event given a new one.
	Reserve(ctx context.Context, key, turn string, rate Rate, burst int) (Decision, error)
}

// MaxTurnLate is how late a turn given by Reserve may still be used, and
// how long it is remembered.
const MaxTurnLate = 10 * time.Second

// Turn is what a RateLimiter keeps of a turn given by Reserve.
type Turn struct {
	// At is when the turn comes (or came, if it was used at once).
	At time.Time
	// Used says it was allowed: Reserve of it again is a repeat.
	Used bool
}

// ReserveGCRA is Reserve for RateLimiter implementations that keep the
// state themselves, as GCRA is Allow. Given now, key's theoretical arrival
// time tat, the theoretical arrival time of its actual starts (started;
// the zero time if none) and the turn kept under the turn's name (the
// zero Turn if none), it decides, and returns the new tat, started and
// turn, to keep until MaxTurnLate past the turn's At.
//
// The turns follow the GCRA from tat; the starts follow it from started
// with one more event of burst, so that a run late for its turn still
// starts on it, and runs late together start no more than burst + 1 at once.
func ReserveGCRA(now, tat, started time.Time, turn Turn, interval time.Duration, burst int) (Decision, time.Time, time.Time, Turn) {
	if now.Sub(turn.At) > MaxTurnLate { // forgotten, used or not
		turn = Turn{}
	}
	span := interval * time.Duration(burst)
	ahead := max(tat.Sub(now), 0)
	if turn.Used {
		return Decision{Allowed: true, Remaining: int(max(span-ahead, 0) / interval), ResetAfter: ahead}, tat, started, turn
	}
	if turn.At.IsZero() { // a new turn: the soonest the GCRA allows one more event, counted now
		tat = maxTime(tat, now).Add(interval)
		ahead = tat.Sub(now)
		turn = Turn{At: maxTime(tat.Add(-span), now)}
	}
	if turn.At.After(now) {
		return Decision{RetryAfter: turn.At.Sub(now), ResetAfter: ahead}, tat, started, turn
	}
	// The turn has come: the start, if the pace of starts allows it.
	next := maxTime(started, now).Add(interval)
	if wait := next.Sub(now) - span - interval; wait > 0 {
		return Decision{RetryAfter: wait, ResetAfter: ahead}, tat, started, turn
	}
	turn.Used = true
	return Decision{Allowed: true, Remaining: int(max(span-ahead, 0) / interval), ResetAfter: ahead}, tat, next, turn
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// GCRA is the generic cell rate algorithm, for RateLimiter implementations
// that keep the state themselves: given now and key's theoretical arrival
// time tat (the zero time for a key never seen), it decides on one event
// at interval, with burst events allowed at once, and returns the new tat
// to keep until the decision's ResetAfter has passed (then it may be
// forgotten). A refused event leaves tat as it was.
func GCRA(now, tat time.Time, interval time.Duration, burst int) (Decision, time.Time) {
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	window := interval * time.Duration(burst) // the burst's worth of intervals
	if ahead := next.Sub(now); ahead > window {
		return Decision{RetryAfter: ahead - window, ResetAfter: tat.Sub(now)}, tat
	}
	ahead := next.Sub(now)
	return Decision{Allowed: true, Remaining: int((window - ahead) / interval), ResetAfter: ahead}, next
}

// Semaphore hands out at most n permits on a key at once. Implementations
// must be safe for concurrent use, and only the owner of a permit (the
// holder of its Token, matched whole) may release or refresh it.
//
// A backend may have run a call whose reply it lost, and run it again: each
// call must then answer as if it ran once. An acquire that finds its own
// token holding a permit succeeds; a release that finds the permit gone
// succeeds.
type Semaphore interface {
	// TryAcquire makes one attempt to take one of n permits on key, for
	// ttl. If n are held, the error is a *ConcurrencyLimitedError, which
	// matches ErrConcurrencyLimited.
	TryAcquire(ctx context.Context, key string, n int, ttl time.Duration) (*Permit, error)
	// Release gives the permit back. Releasing a permit that is no longer
	// held (released already, or expired) is not an error.
	Release(ctx context.Context, p *Permit) error
	// Refresh sets the permit's remaining TTL to ttl if it is still held,
	// and returns a *PermitLostError, matching ErrPermitLost, if not.
	Refresh(ctx context.Context, p *Permit, ttl time.Duration) error
}

// Permit is one of a semaphore's permits, as TryAcquire returns it.
type Permit struct {
	Key string
	// Token is the owner's random token, the proof of ownership.
	Token string
	// Limit is the n it was taken under.
	Limit int
	// TTL is the time to live it was taken or last refreshed with.
	TTL time.Duration
	// AcquiredAt is when it was taken, by the caller's wall clock: no later
	// than its TTL started running, so renewal can count on it.
	AcquiredAt time.Time

	// state is the Semaphore's own state for this permit, if it keeps any:
	// the Redis semaphore keeps its command arguments there
	// (internal/lockerstate).
	state any
}

func init() {
	lockerstate.Permit = func(permit any) *any { return &permit.(*Permit).state }
}
