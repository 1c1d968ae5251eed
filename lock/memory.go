package lock

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/taskware/taskware/internal/randid"
)

// Memory is an in-process Locker that behaves as the Redis one does: owner
// tokens, TTLs and per-key increasing fences. It suits tests and single
// process use. Create it with NewMemory.
type Memory struct {
	now    func() time.Time
	holder string

	mu    sync.Mutex
	locks map[string]memLock
	fence int64 // one counter for all keys: increasing per key too
}

type memLock struct {
	token, holder string
	fence         int64
	since, expiry time.Time
}

// NewMemory returns an empty Memory locker on the wall clock.
func NewMemory() *Memory { return NewMemoryWithClock(time.Now) }

// NewMemoryWithClock returns an empty Memory locker whose TTLs follow now,
// so that tests can move time.
func NewMemoryWithClock(now func() time.Time) *Memory {
	return &Memory{now: now, holder: DefaultHolder(), locks: make(map[string]memLock)}
}

// held returns key's live lock, dropping it if it has expired. m.mu is held.
func (m *Memory) held(key string, now time.Time) (memLock, bool) {
	l, ok := m.locks[key]
	if ok && !now.Before(l.expiry) {
		delete(m.locks, key)
		return l, false
	}
	return l, ok
}

// TryAcquire implements Locker.
func (m *Memory) TryAcquire(ctx context.Context, key string, ttl time.Duration) (*Lease, error) {
	if err := checkArgs(key, ttl); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if l, ok := m.held(key, now); ok {
		return nil, &LockedError{Key: key, Holder: l.holder, Since: l.since, Remaining: l.expiry.Sub(now)}
	}
	m.fence++
	l := memLock{token: randid.New(), holder: m.holder, fence: m.fence, since: now, expiry: now.Add(ttl)}
	m.locks[key] = l
	return &Lease{Key: key, Token: l.token, Fence: l.fence, TTL: ttl, AcquiredAt: now}, nil
}

// Release implements Locker.
func (m *Memory) Release(ctx context.Context, lease *Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.held(lease.Key, m.now()); !ok || l.token != lease.Token {
		return notHeld(lease)
	}
	delete(m.locks, lease.Key)
	return nil
}

// Refresh implements Locker.
func (m *Memory) Refresh(ctx context.Context, lease *Lease, ttl time.Duration) error {
	if err := checkArgs(lease.Key, ttl); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	l, ok := m.held(lease.Key, now)
	if !ok || l.token != lease.Token {
		return notHeld(lease)
	}
	l.expiry = now.Add(ttl)
	m.locks[lease.Key] = l
	lease.TTL = ttl
	return nil
}

// Held implements Locker. It lists locks by key.
func (m *Memory) Held(ctx context.Context) ([]Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []Info
	for key := range m.locks {
		if l, ok := m.held(key, now); ok {
			out = append(out, Info{Key: key, Holder: l.holder, Fence: l.fence, Since: l.since, Remaining: l.expiry.Sub(now)})
		}
	}
	sortInfos(out)
	return out, nil
}

func checkArgs(key string, ttl time.Duration) error {
	if key == "" {
		return configError("empty key")
	}
	if ttl <= 0 {
		return configError("TTL must be positive, got %v", ttl)
	}
	return nil
}

func notHeld(lease *Lease) error {
	return fmt.Errorf("lock %q: %w", lease.Key, ErrNotHeld)
}

func sortInfos(infos []Info) {
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
}

// Break removes key's lock whoever holds it, for operators and tests. The
// holder learns of it at its next renewal, as ErrLeaseLost.
func (m *Memory) Break(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.locks, key)
	return nil
}
