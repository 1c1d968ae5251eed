package memorybackend

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// Locker is the backend's lock.Locker, lock.Inspector and
// lock.FinalReleaser: owner tokens, TTLs and per-key increasing fences, as
// on Redis.
type Locker struct {
	now    func() time.Time
	wall   bool // now is the wall clock
	holder string

	mu    sync.Mutex
	locks map[string]memLock
	fence int64 // one counter for all keys: increasing per key too
	ops   int   // acquires since the last sweep of expired locks
}

// memLock is a lock, held while token is set. A released one stays until
// its expiry with the token that released it, as on Redis, so that a
// release made twice is still its owner's.
type memLock struct {
	token, holder, releasedBy string
	task                      lock.TaskRef // the run it was taken for
	fence                     int64
	since, expiry             time.Time
}

func newLocker(now func() time.Time, wall bool, holder string) *Locker {
	return &Locker{now: now, wall: wall, holder: holder, locks: make(map[string]memLock)}
}

// held returns key's live lock, held or released, dropping it if it has
// expired. l.mu is held.
func (l *Locker) held(key string, now time.Time) (memLock, bool) {
	m, ok := l.locks[key]
	if ok && !now.Before(m.expiry) {
		delete(l.locks, key)
		return m, false
	}
	return m, ok
}

// TryAcquire implements lock.Locker. It records with the lease the task
// run that ctx works for (lock.OwnerTaskFrom), and a LockedError names the
// holder's.
func (l *Locker) TryAcquire(ctx context.Context, key string, ttl time.Duration) (*lock.Lease, error) {
	owner, _ := lock.OwnerTaskFrom(ctx)
	if err := lock.Validate(key, ttl); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	// Every so often, released and dead holders' locks go once expired,
	// on every key, as the store's records do.
	if l.ops++; l.ops >= max(sweepEvery, len(l.locks)) {
		l.ops = 0
		for k := range l.locks {
			l.held(k, now)
		}
	}
	if m, ok := l.held(key, now); ok && m.token != "" {
		return nil, &lock.LockedError{Key: key, Holder: m.holder, Since: m.since, Remaining: m.expiry.Sub(now), Task: m.task}
	}
	l.fence++
	m := memLock{token: randid.New(), holder: l.holder, task: owner, fence: l.fence, since: now, expiry: now.Add(ttl)}
	l.locks[key] = m
	// AcquiredAt is on the wall clock, whatever clock the TTLs follow: a Hold
	// counts the lease's validity from it, on the wall clock.
	at := now
	if !l.wall {
		at = time.Now()
	}
	return &lock.Lease{Key: key, Token: m.token, Fence: m.fence, TTL: ttl, AcquiredAt: at, Task: owner}, nil
}

// Release implements lock.Locker.
func (l *Locker) Release(ctx context.Context, lease *lock.Lease) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.held(lease.Key, l.now())
	switch {
	case !ok || lease.Token == "":
		return &lock.NotHeldError{Key: lease.Key}
	case m.token == lease.Token:
		m.token, m.releasedBy = "", lease.Token
		l.locks[lease.Key] = m
		return nil
	case m.token == "" && m.releasedBy == lease.Token:
		return nil // released already, by its owner
	}
	return &lock.NotHeldError{Key: lease.Key}
}

// FinalRelease implements lock.FinalReleaser: the release, made when the
// worker ends the run.
func (l *Locker) FinalRelease(lease *lock.Lease) task.FinalWrite {
	return finalFunc(func(ctx context.Context) error { return l.Release(ctx, lease) })
}

// Refresh implements lock.Locker.
func (l *Locker) Refresh(ctx context.Context, lease *lock.Lease, ttl time.Duration) error {
	if err := lock.Validate(lease.Key, ttl); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	m, ok := l.held(lease.Key, now)
	if !ok || lease.Token == "" || m.token != lease.Token {
		return &lock.NotHeldError{Key: lease.Key}
	}
	m.expiry = now.Add(ttl)
	l.locks[lease.Key] = m
	if lease.TTL != ttl { // written only if it changes: the holder may be reading it
		lease.TTL = ttl
	}
	return nil
}

// Held implements lock.Inspector.
func (l *Locker) Held(ctx context.Context) ([]lock.Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var out []lock.Info
	for key := range l.locks {
		if m, ok := l.held(key, now); ok && m.token != "" {
			out = append(out, lock.Info{Key: key, Holder: m.holder, Fence: m.fence, Since: m.since, Remaining: m.expiry.Sub(now),
				Task: m.task})
		}
	}
	slices.SortFunc(out, func(a, b lock.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Break implements lock.Inspector.
func (l *Locker) Break(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.locks, key)
	return nil
}
