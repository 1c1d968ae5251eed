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

// reads are the reads of one partition that a per-task call makes: one
// or two commands (the rest nil), kept in an array so that a call on a
// queue never split allocates nothing for them.
type reads [2]op

// ops are r's commands.
func (r *reads) ops() []op {
	if r[1].cmd == nil {
		return r[:1]
	}
	return r[:]
}

// lookup finds task id of queue name in whichever partition holds it.
// at makes the reads of one partition (physical queue); found reports
// whether a partition's reads found the task (or failed: the search stops
// there). It returns the reads that found it, or, if none did, those of
// the first partition it looked in.
func (q *Queue) lookup(ctx context.Context, name, id string, at func(physical string) reads, found func(r reads) bool) (reads, error) {
	c, fresh := q.cachedPartitions(name)
	if name == "" || fresh && c.high <= 1 {
		r := at(name)
		q.send(ctx, r.ops())
		return r, nil
	}
	first := name
	var r reads
	if fresh {
		first = q.partitionName(name, queue.PartitionFor(id, c.n))
		r = at(first)
		q.send(ctx, r.ops())
	} else {
		r = at(name)
		// Read the count with a look in partition 0, which every queue has.
		f := partitionFields(name)
		counts := redis.NewSliceCmd(ctx, "hmget", q.b.keys.partitions(), f[0], f[1], f[2])
		all := append([]op{{cmd: counts}}, r.ops()...)
		q.send(ctx, all)
		copy(r[:], all[1:]) // the commands that answered (an EVALSHA may be sent again as EVAL)
		var err error
		if c, err = q.readCounts(ctx, name, counts); err != nil {
			return r, err
		}
	}
	if c.high <= 1 || found(r) {
		return r, nil
	}
	rest := make([]reads, 0, c.high-1)
	var ops []op
	for i := range c.high {
		if p := q.partitionName(name, i); p != first {
			rest = append(rest, at(p))
			ops = append(ops, rest[len(rest)-1].ops()...)
		}
	}
	q.send(ctx, ops)
	k := 0
	for i := range rest { // the commands answered in ops: copy them back
		n := len(rest[i].ops())
		copy(rest[i][:n], ops[k:k+n])
		k += n
		if found(rest[i]) {
			return rest[i], nil
		}
	}
	return r, nil
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
	var c partitionCount
	if err == nil {
		c, err = parseCounts(res)
	}
	if err != nil {
		return partitionCount{}, fmt.Errorf("redisbackend: partitions of %s: %w", name, unavailable(ctx, err))
	}
	if c.n == 0 && q.b.defaultPartitions > 1 {
		c.n, c.high, err = q.Partitions(ctx, name)
		if err != nil {
			return c, err
		}
		c, _ = q.cachedPartitions(name)
		return c, nil
	}
	return q.keepCounts(name, c), nil
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
