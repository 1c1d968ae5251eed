package redisbackend

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/queue"
)

// These stubs keep the Redis queue a queue.Queue until batches are built
// on Redis (branch bredis replaces this file).

// FlushGroups is not supported yet.
func (q *Queue) FlushGroups(ctx context.Context, name string, policies []queue.GroupPolicy, now time.Time) (int, error) {
	return 0, fmt.Errorf("redisbackend: FlushGroups: %w", queue.ErrNotSupported)
}

// StartBatch is not supported yet.
func (q *Queue) StartBatch(ctx context.Context, d *queue.Delivery, worker string, at time.Time) ([]*queue.Message, error) {
	return nil, fmt.Errorf("redisbackend: StartBatch: %w", queue.ErrNotSupported)
}

// FinishBatch is not supported yet.
func (q *Queue) FinishBatch(ctx context.Context, d *queue.Delivery, members []*queue.Message, outcomes []queue.Outcome) error {
	return fmt.Errorf("redisbackend: FinishBatch: %w", queue.ErrNotSupported)
}
