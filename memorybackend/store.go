package memorybackend

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// Store is the backend's store.Store and store.FinalPutter.
type Store struct {
	now func() time.Time

	mu      sync.Mutex
	records map[recordKey]*store.Record
	waiters waiters[recordKey]
	puts    int // since the last sweep of expired records
}

type recordKey struct{ queue, id string }

func newStore(now func() time.Time) *Store {
	return &Store{now: now, records: make(map[recordKey]*store.Record)}
}

// live returns key's record unless it has expired. s.mu is held.
func (s *Store) live(key recordKey, now time.Time) *store.Record {
	r := s.records[key]
	if r != nil && !now.Before(r.ExpiresAt) {
		delete(s.records, key)
		return nil
	}
	return r
}

// Put implements store.Writer.
func (s *Store) Put(ctx context.Context, rec *store.Record, ttl time.Duration) error {
	if err := store.ValidatePut(rec, ttl); err != nil {
		return err
	}
	r := clone(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if r.At.IsZero() {
		r.At = now
	}
	r.ExpiresAt = now.Add(ttl)
	key := recordKey{r.Queue, r.ID}
	s.records[key] = r
	s.waiters.wake(key)
	if s.puts++; s.puts >= max(sweepEvery, len(s.records)) {
		s.puts = 0
		for k := range s.records {
			s.live(k, now)
		}
	}
	return nil
}

// FinalPut implements store.FinalPutter: the put, made when the worker
// ends the run, of a copy of rec taken now.
func (s *Store) FinalPut(rec *store.Record, ttl time.Duration) (task.FinalWrite, error) {
	if err := store.ValidatePut(rec, ttl); err != nil {
		return nil, err
	}
	r := clone(rec)
	return finalFunc(func(ctx context.Context) error { return s.Put(ctx, r, ttl) }), nil
}

// clone returns a copy of r that shares no memory with it, so that neither
// the caller who put a record nor those who read it can change the stored one.
func clone(r *store.Record) *store.Record {
	c := *r
	c.Value = append([]byte(nil), r.Value...)
	return &c
}

// Get implements store.Reader.
func (s *Store) Get(ctx context.Context, queue, id string) (*store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.live(recordKey{queue, id}, s.now()); r != nil {
		return clone(r), nil
	}
	return nil, &store.NotFoundError{Queue: queue, ID: id}
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, queue, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, recordKey{queue, id})
	return nil
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, queues ...string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	for key := range s.records {
		if len(queues) > 0 && !slices.Contains(queues, key.queue) {
			continue
		}
		if s.live(key, now) != nil {
			n++
		}
		delete(s.records, key)
	}
	return n, nil
}

// Wait implements store.Reader: it is woken by the Put of the record.
func (s *Store) Wait(ctx context.Context, queue, id string) (*store.Record, error) {
	key := recordKey{queue, id}
	return wait(ctx, &s.mu, &s.waiters, key, func() (*store.Record, bool, error) {
		if r := s.live(key, s.now()); r != nil {
			return clone(r), true, nil
		}
		return nil, false, nil
	})
}

// List implements store.Store.
func (s *Store) List(ctx context.Context) ([]*store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]*store.Record, 0, len(s.records))
	for key := range s.records {
		if r := s.live(key, now); r != nil {
			out = append(out, clone(r))
		}
	}
	slices.SortFunc(out, store.Compare)
	return out, nil
}
