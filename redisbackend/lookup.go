package redisbackend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

// Per-task calls on a partitioned queue. A task lives whole in one
// partition (its state, record, dead letter and counts), and a caller
// names it by its logical queue and ID. Most tasks are routed by their ID
// (queue.Message.RouteKey), so a call looks first in partition
// PartitionFor(id, n), then, if that one does not know the task, in every
// other partition the queue ever had (0..high-1) in one pipeline: one
// round trip, two for a task routed by an OrderKey, Group or Unique key.
// While this process's count of the queue's partitions is older than a
// second (partitionsTTL), the first look reads it, and looks in partition
// 0, in one pipeline: so a queue never split costs what it always did,
// one round trip, however often the count is read again.

// lookup finds task id of queue name in whichever partition holds it.
// at appends to ops the reads of one partition (physical queue), the same
// number for each; found reports, of one partition's reads, whether they
// found the task (or failed: the search stops there). It returns the
// reads that found it, or, if none did, those of the first partition it
// looked in; physical is their partition.
func (q *Queue) lookup(ctx context.Context, name, id string, at func(ops []op, physical string) []op,
	found func(ops []op) bool) (reads []op, physical string, err error) {
	var buf [2]op
	c, fresh := q.cachedPartitions(name)
	if name == "" || fresh && c.high <= 1 {
		ops := at(buf[:0], name)
		q.send(ctx, ops)
		return ops, name, nil
	}
	first := name
	if fresh {
		first = queue.PartitionName(name, queue.PartitionFor(id, c.n))
		reads = at(buf[:0], first)
		q.send(ctx, reads)
	} else {
		// Read the count with a look in partition 0, which every queue has.
		counts := redis.NewSliceCmd(ctx, "hmget", q.b.keys.partitions(), name, name+"#high")
		ops := at(append(buf[:0], op{cmd: counts}), name)
		q.send(ctx, ops)
		reads = ops[1:]
		if c, err = q.readCounts(ctx, name, counts); err != nil {
			return nil, name, err
		}
	}
	if c.high <= 1 || found(reads) {
		return reads, first, nil
	}
	var rest []op
	var names []string
	for i := range c.high {
		if p := queue.PartitionName(name, i); p != first {
			names = append(names, p)
			rest = at(rest, p)
		}
	}
	q.send(ctx, rest)
	k := len(rest) / len(names)
	for i, p := range names {
		if ops := rest[i*k : (i+1)*k]; found(ops) {
			return ops, p, nil
		}
	}
	return reads, first, nil
}

// send sends ops: a command alone as itself, else as exec does.
func (q *Queue) send(ctx context.Context, ops []op) {
	if len(ops) == 1 && ops[0].src == "" {
		_ = q.b.client.Process(ctx, ops[0].cmd)
		return
	}
	q.b.exec(ctx, ops)
}

// cachedPartitions returns what this process knows of queue's partitions,
// and whether it is fresh (read within partitionsTTL).
func (q *Queue) cachedPartitions(name string) (partitionCount, bool) {
	q.parts.mu.Lock()
	c, ok := q.parts.counts[name]
	q.parts.mu.Unlock()
	return c, ok && time.Since(c.read) < partitionsTTL
}

// readCounts reads the answer of the HMGET of queue's counts that a
// lookup sent, and keeps it as Partitions does. A queue with no count
// stored gets the backend's default (DefaultPartitions), by Partitions.
func (q *Queue) readCounts(ctx context.Context, name string, cmd *redis.SliceCmd) (partitionCount, error) {
	res, err := cmd.Result()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return partitionCount{}, fmt.Errorf("redisbackend: partitions of %s: %w", name, unavailable(ctx, err))
	}
	c := partitionCount{n: atoiOr(res[0], 0), high: atoiOr(res[1], 0), read: time.Now()}
	if c.n == 0 && q.b.defaultPartitions > 1 {
		c.n, c.high, err = q.Partitions(ctx, name)
		return c, err
	}
	c.n, c.high = max(c.n, 1), max(c.high, c.n, 1)
	q.parts.mu.Lock()
	if q.parts.counts == nil {
		q.parts.counts = make(map[string]partitionCount)
	}
	q.parts.counts[name] = c
	q.parts.mu.Unlock()
	return c, nil
}

// scriptOpOf is the op of an EVALSHA of s on keys with args.
func scriptOpOf(s script, keys []string, args ...any) op {
	return op{cmd: s.evalSHA(keys, args...), src: s.src}
}

// logicalNotice maps the notice of a task of a partition, "t{jobs#2}<id>",
// to that of its logical queue, "t{jobs}<id>", which waiters wait on: a
// waiter names the task by its logical queue, whichever partition holds
// it. Other notices are returned as they are, without allocating.
func logicalNotice(p string) string {
	if len(p) < 2 || p[1] != '{' {
		return p
	}
	tag, rest, ok := splitTagged(p[2:])
	if !ok || strings.IndexByte(tag, '#') < 0 {
		return p
	}
	name, _ := queue.SplitPartition(tag)
	return p[:2] + name + "}" + rest
}

// logicalName is the logical queue of the physical queue of a key's tag.
func logicalName(physical string) string {
	if strings.IndexByte(physical, '#') < 0 {
		return physical
	}
	name, _ := queue.SplitPartition(physical)
	return name
}
