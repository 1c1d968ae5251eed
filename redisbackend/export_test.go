package redisbackend

import (
	"context"
	"time"

	"github.com/taskware/taskware/internal/backoff"

	"github.com/taskware/taskware/queue"
)

// ServerInfoWithin is ServerInfo with a scan budget of budget keys.
func ServerInfoWithin(ctx context.Context, q *Queue, budget int64) (*queue.ServerInfo, error) {
	return q.serverInfo(ctx, budget)
}

// RecheckEvery sets how often b's waiters check again in case a notice
// was lost: a test sets it long to see that a notice alone wakes them.
func RecheckEvery(b *Backend, d time.Duration) { b.hub.recheck = backoff.Policy{Min: d, Max: d} }

// EnqueueIn enqueues m, a message of a logical queue, in that queue's
// partition i, whatever the routing would choose: so a test puts a task
// in a partition that is not PartitionFor(m.ID, n), as an OrderKey,
// Group or Unique key may, and the lookups must still find it.
func EnqueueIn(ctx context.Context, q *Queue, m *queue.Message, i int) error {
	if err := queue.ValidateMessage(m); err != nil {
		return err
	}
	q.register(ctx, m.Queue)
	name := queue.PartitionName(m.Queue, i)
	k := q.b.keys
	state := k.state(name, m.ID)
	keys := []string{k.stream(name), k.delayed(name), state, q.uniqueKey(name, m, state)}
	res, err := q.run(ctx, enqueueScript, keys, m.ID, m.Task, encodeMessage(m), max(m.Attempt, 1), 0, nonce(),
		q.uniqueWindow(m), m.Group, k.groups(name), time.Now().UnixMilli()).Result()
	if err != nil {
		return err
	}
	return enqueued(m, res)
}

// TakeIn takes up to n tasks of one partition (a physical queue),
// as a worker would, for a test to finish them there.
func TakeIn(ctx context.Context, q *Queue, physical, consumer string, n int) ([]*queue.Delivery, error) {
	return q.takeOne(ctx, physical, consumer, n, 0) // not Take: Take("jobs") takes from every partition
}
