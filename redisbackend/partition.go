package redisbackend

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// MaxPartitions is the most partitions a queue may have.
const MaxPartitions = 64

// partitionsTTL is how long a process trusts the partition counts it
// read: a change takes effect everywhere within about this long.
const partitionsTTL = time.Second

// DefaultPartitions gives n partitions to each queue that has no stored
// count when this backend first uses it (see Queue.SetPartitions). The
// count is stored then, so every process goes by what is stored, not by
// its own options. 1 (unsplit) by default.
func DefaultPartitions(n int) Option {
	return optionFunc(func(b *Backend) { b.defaultPartitions = n })
}

// partitionCount is what a process knows of a queue's partitions: n, the
// count that producers route over, and high, the most it ever had, which
// workers and admins read (0..high-1), so that lowering n strands nothing.
type partitionCount struct {
	n, high int
	read    time.Time
}

// partitionCache holds each queue's partitionCount for partitionsTTL.
type partitionCache struct {
	mu     sync.Mutex
	counts map[string]partitionCount
}

// SetPartitions gives queue n partitions (1 to MaxPartitions), for every
// process within about a second. Raising n adds partitions: producers
// spread over them, and workers take from them. Lowering n stops new tasks
// going to the partitions past n, but workers keep taking from, promoting
// and recovering every partition the queue ever had, so nothing queued
// there is stranded. A task routed by OrderKey may go to another
// partition after a change, so the order of one key holds only between
// tasks enqueued under one count.
func (q *Queue) SetPartitions(ctx context.Context, name string, n int) error {
	if err := queue.ValidateName(name); err != nil {
		return err
	}
	if n < 1 || n > MaxPartitions {
		return fmt.Errorf("%w: redisbackend: %d partitions for %s; want 1 to %d", task.ErrInvalidConfig, n, name, MaxPartitions)
	}
	k := q.b.keys.partitions()
	err := q.run(ctx, setPartitionsScript, []string{k}, name, n).Err()
	if err != nil {
		return fmt.Errorf("redisbackend: set partitions of %s: %w", name, unavailable(ctx, err))
	}
	q.parts.mu.Lock()
	delete(q.parts.counts, name)
	q.parts.mu.Unlock()
	return nil
}

// Partitions returns queue's partition count n, which producers route
// over, and high, the most it ever had, which workers read: both 1 for a
// queue never split. It reads them from Redis at most once a second.
func (q *Queue) Partitions(ctx context.Context, name string) (n, high int, err error) {
	q.parts.mu.Lock()
	c, ok := q.parts.counts[name]
	q.parts.mu.Unlock()
	if ok && time.Since(c.read) < partitionsTTL {
		return c.n, c.high, nil
	}
	res, err := q.b.client.HMGet(ctx, q.b.keys.partitions(), name, name+"#high").Result()
	if err != nil {
		if ok { // a count a little old beats failing a take
			return c.n, c.high, nil
		}
		return 0, 0, fmt.Errorf("redisbackend: partitions of %s: %w", name, unavailable(ctx, err))
	}
	c = partitionCount{n: atoiOr(res[0], 0), high: atoiOr(res[1], 0), read: time.Now()}
	if c.n == 0 && q.b.defaultPartitions > 1 {
		if err := q.run(ctx, setPartitionsScript, []string{q.b.keys.partitions()}, name, q.b.defaultPartitions, "nx").Err(); err != nil {
			return 0, 0, fmt.Errorf("redisbackend: partitions of %s: %w", name, unavailable(ctx, err))
		}
		q.parts.mu.Lock()
		delete(q.parts.counts, name)
		q.parts.mu.Unlock()
		return q.Partitions(ctx, name)
	}
	c.n, c.high = max(c.n, 1), max(c.high, c.n, 1)
	q.parts.mu.Lock()
	if q.parts.counts == nil {
		q.parts.counts = make(map[string]partitionCount)
	}
	q.parts.counts[name] = c
	q.parts.mu.Unlock()
	return c.n, c.high, nil
}

// partitionNames returns the physical names of every partition queue ever
// had (0..high-1): what workers and admins read.
func (q *Queue) partitionNames(ctx context.Context, name string) ([]string, error) {
	_, high, err := q.Partitions(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]string, high)
	for i := range out {
		out[i] = queue.PartitionName(name, i)
	}
	return out, nil
}

// routeName returns the physical queue that m goes to (see
// queue.Message.RouteKey).
func (q *Queue) routeName(ctx context.Context, m *queue.Message) (string, error) {
	n, _, err := q.Partitions(ctx, m.Queue)
	if err != nil || n == 1 {
		return m.Queue, err
	}
	return queue.PartitionName(m.Queue, queue.PartitionFor(m.RouteKey(), n)), nil
}

func atoiOr(v any, or int) int {
	s, ok := v.(string)
	if !ok {
		return or
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return or
	}
	return i
}

var setPartitionsScript = newScript(lua("set_partitions.lua"))
