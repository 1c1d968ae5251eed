package worker

import (
	"context"
	"time"
)

// MemoryQueue is an in-process Queue that behaves as RedisQueue does.
// Create it with NewMemoryQueue.
type MemoryQueue struct {
	now func() time.Time
}

// NewMemoryQueue returns an empty MemoryQueue on the wall clock.
func NewMemoryQueue() *MemoryQueue { return NewMemoryQueueWithClock(time.Now) }

// NewMemoryQueueWithClock returns an empty MemoryQueue whose idle times and
// state TTLs follow now, so that tests can move time.
func NewMemoryQueueWithClock(now func() time.Time) *MemoryQueue { return &MemoryQueue{now: now} }

func (q *MemoryQueue) Enqueue(ctx context.Context, m *Message, runAt time.Time) error { panic("TODO") }
func (q *MemoryQueue) Take(ctx context.Context, queue, consumer string, n int, wait time.Duration) ([]*Delivery, error) {
	panic("TODO")
}
func (q *MemoryQueue) Reclaim(ctx context.Context, queue, consumer string, minIdle time.Duration, n int) ([]*Delivery, error) {
	panic("TODO")
}
func (q *MemoryQueue) Extend(ctx context.Context, queue, consumer string, ds []*Delivery) error {
	panic("TODO")
}
func (q *MemoryQueue) Promote(ctx context.Context, queue string, now time.Time, n int) (int, error) {
	panic("TODO")
}
func (q *MemoryQueue) Finish(ctx context.Context, d *Delivery, o Outcome) error   { panic("TODO") }
func (q *MemoryQueue) State(ctx context.Context, queue, id string) (*State, error) { panic("TODO") }
func (q *MemoryQueue) Wait(ctx context.Context, queue, id string) (*State, error)  { panic("TODO") }
func (q *MemoryQueue) DeadLetters(ctx context.Context, queue string, n int) ([]DeadLetter, error) {
	panic("TODO")
}
