package store

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Memory is an in-process Store. Create it with NewMemory.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	records map[string]*Record
	waiters map[string]*memWait
}

// memWait is closed when its ID's record is put; n counts its waiters, so
// that an ID whose waiters all give up leaves nothing behind.
type memWait struct {
	ch chan struct{}
	n  int
}

// NewMemory returns an empty Memory store on the wall clock.
func NewMemory() *Memory { return NewMemoryWithClock(time.Now) }

// NewMemoryWithClock returns an empty Memory store whose TTLs follow now, so
// that tests can move time.
func NewMemoryWithClock(now func() time.Time) *Memory {
	return &Memory{now: now, records: make(map[string]*Record), waiters: make(map[string]*memWait)}
}

// live returns id's record unless it has expired. m.mu is held.
func (m *Memory) live(id string, now time.Time) *Record {
	r := m.records[id]
	if r != nil && !now.Before(r.ExpiresAt) {
		delete(m.records, id)
		return nil
	}
	return r
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, rec *Record, ttl time.Duration) error {
	if err := checkPut(rec, ttl); err != nil {
		return err
	}
	r := clone(rec)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if r.At.IsZero() {
		r.At = now
	}
	r.ExpiresAt = now.Add(ttl)
	m.records[r.ID] = r
	if w, ok := m.waiters[r.ID]; ok {
		close(w.ch)
		delete(m.waiters, r.ID)
	}
	if len(m.records)%1024 == 0 {
		m.sweep(now)
	}
	return nil
}

// clone returns a copy of r that shares no memory with it, so that neither
// the caller who put a record nor those who read it can change the stored one.
func clone(r *Record) *Record {
	c := *r
	c.Value = append([]byte(nil), r.Value...)
	return &c
}

// sweep drops expired records, so that records nobody reads still go.
func (m *Memory) sweep(now time.Time) {
	for id := range m.records {
		m.live(id, now)
	}
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, id string) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.live(id, m.now()); r != nil {
		return clone(r), nil
	}
	return nil, notFound(id)
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, id)
	return nil
}

// Wait implements Store.
func (m *Memory) Wait(ctx context.Context, id string) (*Record, error) {
	for {
		m.mu.Lock()
		if r := m.live(id, m.now()); r != nil {
			m.mu.Unlock()
			return clone(r), nil
		}
		w, ok := m.waiters[id]
		if !ok {
			w = &memWait{ch: make(chan struct{})}
			m.waiters[id] = w
		}
		w.n++
		m.mu.Unlock()
		select {
		case <-w.ch:
		case <-ctx.Done():
			m.mu.Lock()
			if w.n--; w.n == 0 && m.waiters[id] == w {
				delete(m.waiters, id)
			}
			m.mu.Unlock()
			return nil, context.Cause(ctx)
		}
	}
}

// List implements Store. Records come sorted by ID.
func (m *Memory) List(ctx context.Context) ([]*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make([]*Record, 0, len(m.records))
	for id := range m.records {
		if r := m.live(id, now); r != nil {
			out = append(out, clone(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
