package redisbackend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

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
// workers and admins read (0..high-1), so that lowering n strands nothing;
// and names, the names of partitions 1..high-1 when they were placed on a
// Cluster's masters (see place), nil when they are "<queue>#<i>".
type partitionCount struct {
	n, high int
	names   []string
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
//
// On a Cluster, each partition added is named ("<queue>#<k>") so that
// its hash slot is on the master that holds the fewest of the queue's
// partitions then: n partitions over m masters spread evenly, whatever
// the queue's name. The names are stored with the count; a reshard later
// moves slots, not names, so set the count once the masters are in place.
func (q *Queue) SetPartitions(ctx context.Context, name string, n int) error {
	if err := queue.ValidateName(name); err != nil {
		return err
	}
	if n < 1 || n > MaxPartitions {
		return fmt.Errorf("%w: redisbackend: %d partitions for %s; want 1 to %d", task.ErrInvalidConfig, n, name, MaxPartitions)
	}
	if err := q.storePartitions(ctx, name, n, false); err != nil {
		return fmt.Errorf("redisbackend: set partitions of %s: %w", name, err)
	}
	return nil
}

// storePartitions stores n as name's count (only if none is, if nx),
// with the names of the partitions it adds, placed on a Cluster.
func (q *Queue) storePartitions(ctx context.Context, name string, n int, nx bool) error {
	var names string
	if !q.b.oneNode {
		c, err := q.readPartitions(ctx, name)
		if err != nil {
			return err
		}
		if nx && c.n > 0 {
			return nil
		}
		if n > c.high {
			if names, err = q.place(ctx, name, c, n); err != nil {
				return unavailable(ctx, err)
			}
		}
	}
	mode := ""
	if nx {
		mode = "nx"
	}
	err := q.run(ctx, setPartitionsScript, []string{q.b.keys.partitions()}, name, n, mode, names).Err()
	if err != nil {
		return unavailable(ctx, err)
	}
	// Stale, not deleted: the names stay known to a call between its
	// Partitions and its partitionName, until the next read replaces them.
	q.parts.mu.Lock()
	if c, ok := q.parts.counts[name]; ok {
		c.read = time.Time{}
		q.parts.counts[name] = c
	}
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
	fresh, err := q.readPartitions(ctx, name)
	if err != nil {
		if ok { // a count a little old beats failing a take
			return c.n, c.high, nil
		}
		return 0, 0, fmt.Errorf("redisbackend: partitions of %s: %w", name, unavailable(ctx, err))
	}
	if fresh.n == 0 && q.b.defaultPartitions > 1 {
		if err := q.storePartitions(ctx, name, q.b.defaultPartitions, true); err != nil {
			return 0, 0, fmt.Errorf("redisbackend: partitions of %s: %w", name, err)
		}
		return q.Partitions(ctx, name)
	}
	c = q.keepCounts(name, fresh)
	return c.n, c.high, nil
}

// partitionFields are the fields of the partitions hash that hold queue
// name's count, high mark and placed names.
func partitionFields(name string) []string { return []string{name, name + "#high", name + "#names"} }

// readPartitions reads name's stored counts and names; n is 0 if none is
// stored.
func (q *Queue) readPartitions(ctx context.Context, name string) (partitionCount, error) {
	res, err := q.b.client.HMGet(ctx, q.b.keys.partitions(), partitionFields(name)...).Result()
	if err != nil {
		return partitionCount{}, err
	}
	return parseCounts(res)
}

// parseCounts reads an HMGET of partitionFields.
func parseCounts(res []any) (partitionCount, error) {
	if len(res) != 3 {
		return partitionCount{}, fmt.Errorf("unexpected reply %v", res)
	}
	c := partitionCount{n: atoiOr(res[0], 0), high: atoiOr(res[1], 0), read: time.Now()}
	if s, ok := res[2].(string); ok && s != "" {
		c.names = strings.Fields(s)
	}
	c.high = max(c.high, c.n, 1)
	return c, nil
}

// keepCounts keeps c as what this process knows of name's partitions,
// for partitionsTTL, and returns it with n at least 1.
func (q *Queue) keepCounts(name string, c partitionCount) partitionCount {
	c.n = max(c.n, 1)
	q.parts.mu.Lock()
	if q.parts.counts == nil {
		q.parts.counts = make(map[string]partitionCount)
	}
	q.parts.counts[name] = c
	q.parts.mu.Unlock()
	return c
}

// partitionName is the name of partition i of queue name, as this
// process last read it (Partitions): "<name>#<i>", or its placed name.
func (q *Queue) partitionName(name string, i int) string {
	if i <= 0 {
		return name
	}
	q.parts.mu.Lock()
	c := q.parts.counts[name]
	q.parts.mu.Unlock()
	if i-1 < len(c.names) {
		return c.names[i-1]
	}
	return queue.PartitionName(name, i)
}

// place names the partitions name gains going from c.high to n, on a
// Cluster: each on the master holding the fewest of name's partitions,
// found by asking the Cluster for candidate names' slots, "<name>#<k>"
// for k = 1, 2, ... not in use. It returns the names of every partition
// but 0, space-separated, those already in use first.
func (q *Queue) place(ctx context.Context, name string, c partitionCount, n int) (string, error) {
	slots, err := q.b.client.ClusterSlots(ctx).Result()
	if err != nil {
		return "", err
	}
	masterOf := func(slot int64) string {
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
				return r.Nodes[0].Addr
			}
		}
		return ""
	}
	held := map[string]int{}
	for _, r := range slots {
		if len(r.Nodes) > 0 {
			held[r.Nodes[0].Addr] += 0
		}
	}
	inUse := []string{name}
	for i := 1; i < c.high; i++ {
		if i-1 < len(c.names) {
			inUse = append(inUse, c.names[i-1])
		} else {
			inUse = append(inUse, queue.PartitionName(name, i))
		}
	}
	slotOf := func(names []string) ([]int64, error) {
		cmds := make([]*redis.IntCmd, len(names))
		_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range names {
				cmds[i] = p.ClusterKeySlot(ctx, "{"+s+"}")
			}
			return nil
		})
		out := make([]int64, len(names))
		for i, cmd := range cmds {
			out[i] = cmd.Val()
		}
		return out, err
	}
	used, err := slotOf(inUse)
	if err != nil {
		return "", err
	}
	for _, s := range used {
		held[masterOf(s)]++
	}
	out := slices.Clone(inUse[1:])
	next := 1
	const batch = 32
	for len(inUse) < n {
		var cands []string
		for len(cands) < batch && next <= 100*MaxPartitions {
			if s := queue.PartitionName(name, next); !slices.Contains(inUse, s) {
				cands = append(cands, s)
			}
			next++
		}
		if len(cands) == 0 {
			return "", fmt.Errorf("no name for partition %d of %s", len(inUse), name)
		}
		cs, err := slotOf(cands)
		if err != nil {
			return "", err
		}
		for i, cand := range cands {
			if len(inUse) == n {
				break
			}
			m := masterOf(cs[i])
			if held[m] == slices.Min(mapValues(held)) { // a master with the fewest
				held[m]++
				inUse = append(inUse, cand)
				out = append(out, cand)
			}
		}
	}
	return strings.Join(out, " "), nil
}

func mapValues(m map[string]int) []int {
	out := make([]int, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// PartitionNames returns the names of every partition queue ever had
// (0..high-1), as its keys' hash tags spell them: queue itself, then
// "<queue>#<k>", placed on a Cluster's masters (see SetPartitions). It
// reads them as Partitions does.
func (q *Queue) PartitionNames(ctx context.Context, name string) ([]string, error) {
	return q.partitionNames(ctx, name)
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
		out[i] = q.partitionName(name, i)
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
	return q.partitionName(m.Queue, queue.PartitionFor(m.RouteKey(), n)), nil
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
